//! What a set of workers recorded, mergeable exactly: counts add up, histograms merge.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::egress::Egress;
use crate::histogram::{self, Hdr, add};
use crate::names::cut;

/// How a request ended.
#[derive(Debug, Clone, Copy)]
pub enum RequestOutcome {
    Status(u16),
    /// An error kind, as `molotov_http::Error::kind` names it.
    Error(&'static str),
}

/// A map keyed by request or scenario name, looked up on every request:
/// foldhash (randomly seeded, like std's) rather than SipHash, which showed in profiles.
pub type ByName<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// Distinct failure messages kept per scenario; the rest are counted together.
const MAX_FAILURE_MESSAGES: usize = 50;
const OTHER_FAILURES: &str = "(other messages)";
/// The longest failure message kept, in bytes; a longer one is cut.
const MAX_MESSAGE_BYTES: usize = 2048;

/// Requests under one name (`METHOD /path` by default).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestStats {
    pub count: u64,
    pub errors: u64,
    #[serde(with = "histogram::base64")]
    pub latency_us: Histogram<u64>,
}

/// Runs of one scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioStats {
    pub ok: u64,
    pub failed: u64,
    pub cancelled: u64,
    #[serde(with = "histogram::base64")]
    pub duration_us: Histogram<u64>,
    /// Failure messages and how often each occurred.
    pub failures: BTreeMap<String, u64>,
}

impl Default for ScenarioStats {
    fn default() -> Self {
        Self {
            ok: 0,
            failed: 0,
            cancelled: 0,
            duration_us: histogram::new(),
            failures: BTreeMap::new(),
        }
    }
}

/// A custom gauge: the last value set, and the range it moved in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gauge {
    pub last: f64,
    pub min: f64,
    pub max: f64,
    /// When `last` was set (microseconds since the Unix epoch), so that
    /// tallies of several workers or processes agree on which came last.
    pub set_at_us: u64,
}

impl Gauge {
    pub fn new(value: f64, set_at_us: u64) -> Self {
        Self {
            last: value,
            min: value,
            max: value,
            set_at_us,
        }
    }

    /// Adds a value set elsewhere (or later).
    pub fn merge(&mut self, other: &Gauge) {
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if other.set_at_us >= self.set_at_us {
            self.last = other.last;
            self.set_at_us = other.set_at_us;
        }
    }
}

/// Everything recorded by a set of workers; shards merge into one of these.
///
/// A request is recorded once, under its name: the latencies of all requests
/// are the sum of the per-name histograms, made when read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tally {
    pub requests: ByName<RequestStats>,
    pub statuses: BTreeMap<u16, u64>,
    pub errors: BTreeMap<String, u64>,
    pub scenarios: ByName<ScenarioStats>,
    pub counters: BTreeMap<String, i64>,
    #[serde(with = "histogram::base64_map")]
    pub timings_us: BTreeMap<String, Histogram<u64>>,
    #[serde(default)]
    pub gauges: BTreeMap<String, Gauge>,
    /// Open model: runs not started for want of a free worker.
    #[serde(default)]
    pub dropped_runs: u64,
    /// Open model: each run's time from its intended start.
    #[serde(default)]
    pub response_us: Hdr,
    /// Limits the run reached, for the report.
    #[serde(default)]
    pub warnings: BTreeSet<String>,
    /// What the run's connections touched; set once, at the end of a run.
    #[serde(default)]
    pub egress: Egress,
}

impl Tally {
    /// Adds `other` into `self`: counts add up and histograms merge exactly.
    pub fn merge(&mut self, other: &Tally) {
        for (name, stats) in &other.requests {
            let mine = self
                .requests
                .entry(name.clone())
                .or_insert_with(|| RequestStats {
                    count: 0,
                    errors: 0,
                    latency_us: histogram::new(),
                });
            mine.count += stats.count;
            mine.errors += stats.errors;
            add(&mut mine.latency_us, &stats.latency_us);
        }
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
        for (kind, count) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += count;
        }
        for (name, stats) in &other.scenarios {
            let mine = self.scenarios.entry(name.clone()).or_default();
            mine.ok += stats.ok;
            mine.failed += stats.failed;
            mine.cancelled += stats.cancelled;
            add(&mut mine.duration_us, &stats.duration_us);
            for (message, count) in &stats.failures {
                count_failure(&mut mine.failures, message, *count);
            }
        }
        for (name, value) in &other.counters {
            let counter = self.counters.entry(name.clone()).or_default();
            *counter = counter.saturating_add(*value);
        }
        for (name, gauge) in &other.gauges {
            match self.gauges.get_mut(name) {
                Some(mine) => mine.merge(gauge),
                None => {
                    self.gauges.insert(name.clone(), *gauge);
                }
            }
        }
        self.dropped_runs += other.dropped_runs;
        add(&mut self.response_us.0, &other.response_us.0);
        self.warnings.extend(other.warnings.iter().cloned());
        self.egress.merge(&other.egress);
        for (name, timing) in &other.timings_us {
            add(
                self.timings_us
                    .entry(name.clone())
                    .or_insert_with(histogram::new),
                timing,
            );
        }
    }

    pub fn requests(&self) -> u64 {
        self.requests.values().map(|r| r.count).sum()
    }

    /// The latencies of all requests.
    pub fn latency_us(&self) -> Histogram<u64> {
        let mut total = histogram::new();
        self.add_latencies_to(&mut total);
        total
    }

    /// Adds the latencies of all requests into `total`.
    pub fn add_latencies_to(&self, total: &mut Histogram<u64>) {
        for stats in self.requests.values() {
            add(total, &stats.latency_us);
        }
    }
}

pub fn count_failure(failures: &mut BTreeMap<String, u64>, message: &str, count: u64) {
    let message = cut(message, MAX_MESSAGE_BYTES);
    if failures.len() < MAX_FAILURE_MESSAGES || failures.contains_key(message) {
        *failures.entry(message.to_string()).or_default() += count;
    } else {
        *failures.entry(OTHER_FAILURES.to_string()).or_default() += count;
    }
}
