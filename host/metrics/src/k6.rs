//! A run's results in k6's vocabulary, for a k6 script: the metrics a k6
//! user looks for (`http_reqs`, `http_req_duration`, `checks`, …, and the
//! script's own), shaped as k6 gives them to `handleSummary`, with the
//! script's thresholds under their own metric and text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::percentiles::Percentiles;
use crate::units::si_bytes;

/// A trend's statistics, in the order k6 shows them by default.
pub const TREND_STATS: [&str; 6] = ["avg", "min", "med", "max", "p(90)", "p(95)"];

/// The statistics a trend has (a script's `summaryTrendStats` picks among
/// them).
pub const TREND_STATS_KEPT: [&str; 9] = [
    "avg", "min", "med", "max", "p(50)", "p(90)", "p(95)", "p(99)", "p(99.9)",
];

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
    /// The trends' statistics its summary shows (`summaryTrendStats`), of
    /// [`TREND_STATS_KEPT`]; k6's default when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend_stats: Vec<String>,
}

/// The statuses k6 expects unless told otherwise (inclusive): what
/// `http_req_failed` and `unexpected` count outside of. The JavaScript
/// SDK's k6 layer has its own copy (`guest-sdk-js/k6/http.js`).
pub(crate) const K6_EXPECTED_STATUSES: (u16, u16) = (200, 399);

/// A WebSocket's handshake, which is no failed HTTP request to k6.
const SWITCHING_PROTOCOLS: u16 = 101;

/// Of `statuses` (status, count), the responses k6 counts as failed: those
/// `expects` does not (a WebSocket's handshake is no HTTP request to it).
pub(crate) fn unexpected_responses(
    statuses: impl Iterator<Item = (u16, u64)>,
    expects: impl Fn(u16) -> bool,
) -> u64 {
    statuses
        .filter(|&(status, _)| status != SWITCHING_PROTOCOLS && !expects(status))
        .map(|(_, count)| count)
        .sum()
}

impl K6Script {
    /// Whether k6 counts a response with `status` as expected.
    pub fn expects(&self, status: u16) -> bool {
        let ranges = match &self.expected_statuses {
            Some(ranges) => ranges.as_slice(),
            None => std::slice::from_ref(&K6_EXPECTED_STATUSES),
        };
        ranges
            .iter()
            .any(|&(min, max)| (min..=max).contains(&status))
    }
}

/// k6's metrics and checks of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct K6Results {
    /// By k6's name: `{type, contains, values, thresholds}` as in k6.
    pub metrics: BTreeMap<String, K6Metric>,
    /// The checks by name, in k6's `root_group.checks` shape.
    pub checks: Vec<K6Check>,
    /// The trends' statistics the summary shows, in its order.
    #[serde(default = "default_trend_stats")]
    pub trend_stats: Vec<String>,
}

pub(crate) fn default_trend_stats() -> Vec<String> {
    TREND_STATS.map(String::from).to_vec()
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
    /// Its group's path and its name: `::NAME` at the root, `::a::b::NAME`
    /// in group `b` of group `a`.
    pub path: String,
    pub passes: u64,
    pub fails: u64,
}

impl K6Check {
    /// A check with no results yet, from what the JS SDK's k6 layer names it:
    /// `NAME` at the root, `::a::b::NAME` within groups.
    pub fn at(recorded: &str) -> Self {
        let (path, name) = match recorded.strip_prefix("::") {
            Some(_) => (
                recorded.to_string(),
                recorded
                    .rsplit_once("::")
                    .map_or(recorded, |(_, name)| name),
            ),
            None => (format!("::{recorded}"), recorded),
        };
        Self {
            name: name.to_string(),
            path,
            passes: 0,
            fails: 0,
        }
    }

    /// The path of the group it is in ("" at the root).
    pub fn group(&self) -> &str {
        self.path
            .strip_suffix(&self.name)
            .and_then(|g| g.strip_suffix("::"))
            .unwrap_or("")
    }
}

/// A group of checks as k6 gives it to `handleSummary` (`root_group`): its
/// checks, and the groups within it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct K6Group {
    pub name: String,
    pub path: String,
    pub groups: Vec<K6Group>,
    pub checks: Vec<K6Check>,
}

impl K6Group {
    /// The root group of `checks`, each under the groups its path names.
    pub fn root(checks: &[K6Check]) -> Self {
        let mut root = Self::default();
        for check in checks {
            let mut group = &mut root;
            for name in check.group().split("::").skip(1) {
                let path = format!("{}::{name}", group.path);
                let at = match group.groups.iter().position(|g| g.path == path) {
                    Some(at) => at,
                    None => {
                        group.groups.push(Self {
                            name: name.to_string(),
                            path,
                            ..Self::default()
                        });
                        group.groups.len() - 1
                    }
                };
                group = &mut group.groups[at];
            }
            group.checks.push(check.clone());
        }
        root
    }
}

impl K6Metric {
    /// Its values as k6's summary shows them, a trend's `trend_stats`.
    pub fn shown(&self, trend_stats: &[String]) -> String {
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
            _ => (trend_stats.iter())
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
                ("p(50)", ms.p50),
                ("p(90)", ms.p90),
                ("p(95)", ms.p95),
                ("p(99)", ms.p99),
                ("p(99.9)", ms.p999),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_sit_in_the_groups_their_paths_name() {
        let checks: Vec<K6Check> = ["ok", "::a::in a", "::a::b::in b", "::c::in c"]
            .into_iter()
            .map(K6Check::at)
            .collect();
        let shape: Vec<_> = (checks.iter())
            .map(|c| (c.name.as_str(), c.path.as_str(), c.group()))
            .collect();
        assert_eq!(
            shape,
            [
                ("ok", "::ok", ""),
                ("in a", "::a::in a", "::a"),
                ("in b", "::a::b::in b", "::a::b"),
                ("in c", "::c::in c", "::c"),
            ]
        );
        let root = K6Group::root(&checks);
        assert_eq!(root.checks.len(), 1);
        let groups: Vec<_> = root
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.path.as_str()))
            .collect();
        assert_eq!(groups, [("a", "::a"), ("c", "::c")]);
        let a = &root.groups[0];
        assert_eq!(
            (a.checks[0].name.as_str(), a.groups[0].path.as_str()),
            ("in a", "::a::b")
        );
        assert_eq!(a.groups[0].checks[0].name, "in b");
    }
}
