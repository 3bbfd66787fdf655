//! A run's results in k6's vocabulary, for a k6 script: the metrics a k6
//! user looks for (`http_reqs`, `http_req_duration`, `checks`, …, and the
//! script's own), shaped as k6 gives them to `handleSummary`, with the
//! script's thresholds under their own metric and text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::percentiles::Percentiles;
use crate::units::si_bytes;

/// A trend's statistics, in the order k6 shows them.
pub const TREND_STATS: [&str; 6] = ["avg", "min", "med", "max", "p(90)", "p(95)"];

/// A k6 threshold as the script wrote it, and the `--threshold` expression
/// molotov judged for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct K6Threshold {
    /// The metric, with its tag filter (`http_req_duration{name:login}`).
    pub metric: String,
    /// The script's text (`p(95)<500`).
    pub source: String,
    /// molotov's expression (`login: p95 < 500ms`).
    pub expr: String,
}

/// What a k6 script says of how its results are read: its thresholds, and
/// the statuses it expects (`http.setResponseCallback`; k6's default is
/// 200–399).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct K6Script {
    pub thresholds: Vec<K6Threshold>,
    /// Inclusive ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_statuses: Option<Vec<(u16, u16)>>,
}

impl K6Script {
    /// Whether k6 counts a response with `status` as expected.
    pub fn expects(&self, status: u16) -> bool {
        match &self.expected_statuses {
            Some(ranges) => ranges
                .iter()
                .any(|&(min, max)| (min..=max).contains(&status)),
            None => (200..400).contains(&status),
        }
    }
}

/// k6's metrics and checks of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct K6Results {
    /// By k6's name: `{type, contains, values, thresholds}` as in k6.
    pub metrics: BTreeMap<String, K6Metric>,
    /// The checks by name, in k6's `root_group.checks` shape.
    pub checks: Vec<K6Check>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct K6Metric {
    /// `counter`, `gauge`, `rate` or `trend`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `default`, `time` (milliseconds) or `data` (bytes).
    pub contains: String,
    pub values: BTreeMap<String, f64>,
    /// By the script's text: whether it held.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, ThresholdOk>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThresholdOk {
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct K6Check {
    pub name: String,
    pub path: String,
    pub passes: u64,
    pub fails: u64,
}

impl K6Metric {
    /// Its values as k6's summary shows them.
    pub fn shown(&self) -> String {
        let value = |key: &str| self.values.get(key).copied().unwrap_or(0.0);
        match self.kind.as_str() {
            "counter" if self.contains == "data" => {
                format!("{} {}/s", si_bytes(value("count")), si_bytes(value("rate")))
            }
            "counter" => format!("{} {:.2}/s", value("count"), value("rate")),
            "rate" => format!(
                "{:.2}% ✓ {} ✗ {}",
                100.0 * value("rate"),
                value("passes"),
                value("fails")
            ),
            "gauge" => format!(
                "{} min={} max={}",
                value("value"),
                value("min"),
                value("max")
            ),
            _ => (TREND_STATS.iter())
                .map(|stat| format!("{stat}={:.2}ms", value(stat)))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    fn new(kind: &str, contains: &str, values: &[(&str, f64)]) -> Self {
        Self {
            kind: kind.into(),
            contains: contains.into(),
            values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            thresholds: BTreeMap::new(),
        }
    }

    pub(crate) fn counter(count: u64, seconds: f64) -> Self {
        Self::counting("default", count, seconds)
    }

    /// A counter of bytes.
    pub(crate) fn data(bytes: u64, seconds: f64) -> Self {
        Self::counting("data", bytes, seconds)
    }

    fn counting(contains: &str, count: u64, seconds: f64) -> Self {
        let count = count as f64;
        Self::new(
            "counter",
            contains,
            &[("count", count), ("rate", count / seconds)],
        )
    }

    pub fn rate(passes: u64, fails: u64) -> Self {
        let total = (passes + fails).max(1) as f64;
        let (p, f) = (passes as f64, fails as f64);
        Self::new(
            "rate",
            "default",
            &[("rate", p / total), ("passes", p), ("fails", f)],
        )
    }

    pub(crate) fn gauge(value: f64, min: f64, max: f64) -> Self {
        Self::new(
            "gauge",
            "default",
            &[("value", value), ("min", min), ("max", max)],
        )
    }

    /// k6's default trend statistics, in milliseconds.
    pub fn trend(ms: &Percentiles) -> Self {
        Self::new(
            "trend",
            "time",
            &[
                ("avg", ms.mean),
                ("min", ms.min),
                ("med", ms.p50),
                ("max", ms.max),
                ("p(90)", ms.p90),
                ("p(95)", ms.p95),
            ],
        )
    }
}
