//! HDR latency histograms: how they are made, recorded, merged, and written
//! (V2 format, base64) into the JSON report and between processes.

use std::collections::BTreeMap;

use ::base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use serde::{Deserialize, Serializer};

/// A histogram in microseconds, 3 significant digits, growing as needed.
pub fn new() -> Histogram<u64> {
    let mut histogram = Histogram::new(3).expect("3 significant digits is valid");
    histogram.auto(true);
    histogram
}

/// Records one value in microseconds. (`saturating_record` would clamp to the
/// current range instead of growing it.)
pub fn record(histogram: &mut Histogram<u64>, micros: u64) {
    histogram
        .record(micros.max(1))
        .expect("auto-resizing histograms take any duration");
}

pub fn add(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    into.add(from)
        .expect("auto-resizing histograms always merge");
}

pub fn encode(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .expect("serializing into memory cannot fail");
    ::base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = ::base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("not base64: {e}"))?;
    let mut histogram: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not an HDR histogram: {e:?}"))?;
    histogram.auto(true);
    Ok(histogram)
}

/// `#[serde(with = "histogram::base64")]` for a histogram field.
pub mod base64 {
    use super::*;

    pub fn serialize<S: Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(h))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        decode(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "histogram::base64_map")]` for named histograms.
pub mod base64_map {
    use super::*;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, Histogram<u64>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(map.iter().map(|(name, h)| (name, encode(h))))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Histogram<u64>>, D::Error> {
        BTreeMap::<String, String>::deserialize(d)?
            .into_iter()
            .map(|(name, text)| Ok((name, decode(&text).map_err(serde::de::Error::custom)?)))
            .collect()
    }
}

/// A histogram that is empty by default and serialises as base64 HDR, for
/// fields that may be absent from an older tally.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hdr(#[serde(with = "base64")] pub Histogram<u64>);

impl Default for Hdr {
    fn default() -> Self {
        Self(new())
    }
}
