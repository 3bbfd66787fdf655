//! A run's identity: the settings every part of one run (its `-p` processes,
//! its shards) shares, before any part takes its share. `molotov merge`
//! refuses parts whose identities differ, and says in what.

use molotov_metrics::K6Script;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The load as asked for the whole run; durations in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub workers: Option<u32>,
    pub duration_s: Option<f64>,
    pub max_runs: Option<u64>,
    pub rate: Option<f64>,
    pub stages: Option<String>,
    pub single_run: bool,
    pub single_mode: Option<String>,
    pub delay_s: f64,
    pub processes: u32,
    /// A k6 script's thresholds as it wrote them and the statuses it
    /// expects, to report its results in its terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k6: Option<K6Script>,
}

/// Two parts that are not of one run, and the settings in which they differ.
#[derive(Debug, thiserror::Error)]
#[error("not parts of one run: {}", .differences.join(", "))]
pub struct IdentityMismatch {
    /// `setting: this / that`, for each setting that differs.
    pub differences: Vec<String>,
}

impl RunIdentity {
    /// The identity as one short hash (the SHA-256 of its JSON), to name
    /// the run where its settings would not fit.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("an identity serialises");
        format!("{:x}", Sha256::digest(json))[..16].to_string()
    }

    /// Whether `other` is a part of the same run, and if not, why not.
    pub fn check_same(&self, other: &Self) -> Result<(), IdentityMismatch> {
        let (Ok(serde_json::Value::Object(mine)), Ok(serde_json::Value::Object(theirs))) =
            (serde_json::to_value(self), serde_json::to_value(other))
        else {
            unreachable!("an identity serialises to an object");
        };
        let differences: Vec<String> = (mine.iter())
            .filter(|(key, value)| theirs.get(*key) != Some(value))
            .map(|(key, value)| {
                let other = theirs.get(key).unwrap_or(&serde_json::Value::Null);
                format!("{key}: {value} / {other}")
            })
            .collect();
        match differences.is_empty() {
            true => Ok(()),
            false => Err(IdentityMismatch { differences }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> RunIdentity {
        RunIdentity {
            workers: Some(8),
            duration_s: Some(30.0),
            max_runs: None,
            rate: None,
            stages: None,
            single_run: false,
            single_mode: None,
            delay_s: 0.0,
            processes: 1,
            k6: None,
        }
    }

    #[test]
    fn parts_of_one_run_have_one_identity() {
        assert!(identity().check_same(&identity()).is_ok());
        assert_eq!(identity().digest(), identity().digest());
        assert_eq!(identity().digest().len(), 16);
    }

    #[test]
    fn a_mismatch_names_each_setting_that_differs() {
        let other = RunIdentity {
            workers: Some(4),
            rate: Some(50.0),
            ..identity()
        };
        let error = identity().check_same(&other).unwrap_err();
        assert_eq!(error.differences, ["rate: null / 50.0", "workers: 8 / 4"]);
        assert_ne!(identity().digest(), other.digest());
    }
}
