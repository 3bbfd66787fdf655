//! The end-of-run results model: what a run measured and what it was, as
//! the JSON results hold it. The summary text (`summary`), the file
//! (`results_file`) and the pass/fail rule (`pass_fail`) are its readers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::egress::Egress;
use crate::histogram;
use crate::k6::K6Results;
use crate::percentiles::Percentiles;
use crate::tally::{Gauge, Tally};
use crate::threshold::Verdict;
use crate::timeline::Timeline;

/// What sizing found, for the summary and the JSON.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SizingReport {
    /// The tolerance, in percent.
    pub tolerance_percent: f64,
    /// Whether the failure ratio passed the tolerance.
    pub reached: bool,
    /// Running workers when it passed (or the most that ran).
    pub workers: u64,
    /// failures / (successes + failures) over the window when it passed (or
    /// the highest seen), in percent.
    pub failure_percent: f64,
}

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// `-d` elapsed.
    Duration,
    /// Every worker finished its `-r` runs, its `--single-run`, or its work.
    Completed,
    /// `-x`: a run failed.
    Exception,
    /// `-f N`: N runs failed.
    FailLimit,
    /// Ctrl+C.
    Interrupted,
    /// A fixture failed (`setup`).
    SetupFailed,
    /// `--sizing`: the failure ratio passed the tolerance.
    Sizing,
    /// A threshold marked `abort` failed during the run.
    Threshold,
    /// The script stopped the run (k6's `exec.test.abort`).
    Aborted,
}

impl StopReason {
    /// The reason as the JSON spells it (`fail-limit`).
    pub fn name(self) -> String {
        (serde_json::to_value(self).ok())
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }
}

/// What the run was, beside what it measured.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub component: String,
    /// SHA-256 of the component's bytes.
    pub component_sha256: String,
    /// The flags that shaped the run.
    pub flags: String,
    /// Milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// How long after `--start-at` the run started, when late.
    pub late_s: Option<f64>,
    /// `I/N` for a shard of a larger run.
    pub shard: Option<String>,
    /// Workers in all, over every process (which may run different numbers:
    /// a k6 script's scenarios).
    pub workers: u32,
    pub processes: u32,
    /// Workers that shared each instance (1: an instance per worker).
    pub workers_per_instance: Option<u32>,
    pub duration_s: f64,
    pub stopped_by: StopReason,
    pub sizing: Option<SizingReport>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub molotov_version: String,
    pub component: String,
    pub component_sha256: String,
    /// The flags that shaped the run (not its output files).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub flags: String,
    /// When the run started, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// How long after `--start-at` the run started, when it was late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_s: Option<f64>,
    /// `I/N` when the run is a shard of a larger one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub duration_s: f64,
    /// Workers in all, over every process.
    pub workers: u32,
    pub processes: u32,
    /// Workers that shared each instance of the component (1: an instance
    /// per worker, `--workers-per-instance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers_per_instance: Option<u32>,
    pub stopped_by: StopReason,
    /// With `--sizing`: the worker count and failure ratio reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizing: Option<SizingReport>,
    pub scenarios: Scenarios,
    pub requests: Requests,
    /// Over every request that got a response.
    pub latency_ms: Percentiles,
    /// HDR histogram (V2 format, base64) of `latency_ms`, in microseconds, for exact merging.
    pub latency_histogram: String,
    pub custom: Custom,
    /// Open model: each run's time from its intended start (service time
    /// plus any wait for a worker), beside the service time of `scenarios`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_time_ms: Option<Percentiles>,
    /// Each `--threshold`, measured, with its verdict.
    pub thresholds: Vec<Verdict>,
    /// The run over time.
    pub timeline: Timeline,
    /// Limits the run reached (names counted under `(other)`).
    pub warnings: Vec<String>,
    /// Every destination contacted and every refusal of the egress policy.
    #[serde(default)]
    pub egress: Egress,
    /// For a k6 script, the results in k6's vocabulary as well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k6: Option<K6Results>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Scenarios {
    pub ok: u64,
    pub failed: u64,
    /// Runs dropped midway by `--force-shutdown` or a second Ctrl+C.
    pub cancelled: u64,
    /// Open model: runs not started for want of a free worker.
    pub dropped: u64,
    /// The runs' durations, every scenario together (the service time).
    pub duration_ms: Percentiles,
    pub by_name: BTreeMap<String, ScenarioReport>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub ok: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub duration_ms: Percentiles,
    /// Failure messages and their counts.
    pub failures: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Requests {
    pub count: u64,
    pub errors: u64,
    pub per_second: f64,
    pub by_status: BTreeMap<String, u64>,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub by_name: BTreeMap<String, NamedRequests>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NamedRequests {
    pub count: u64,
    pub errors: u64,
    pub latency_ms: Percentiles,
    pub latency_histogram: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Custom {
    pub counters: BTreeMap<String, i64>,
    pub gauges: BTreeMap<String, Gauge>,
    pub timings_ms: BTreeMap<String, Percentiles>,
}

impl Report {
    pub fn new(facts: RunFacts, tally: &Tally) -> Self {
        let mut service_us = histogram::new();
        for stats in tally.scenarios.values() {
            histogram::add(&mut service_us, &stats.duration_us);
        }
        let duration_s = facts.duration_s;
        let by_name = tally
            .scenarios
            .iter()
            .map(|(name, s)| {
                let report = ScenarioReport {
                    ok: s.ok,
                    failed: s.failed,
                    cancelled: s.cancelled,
                    duration_ms: Percentiles::of(&s.duration_us),
                    failures: s.failures.clone(),
                };
                (name.clone(), report)
            })
            .collect();
        let requests = tally.requests();
        let latency_us = tally.latency_us();
        Self {
            molotov_version: env!("CARGO_PKG_VERSION").to_string(),
            component: facts.component,
            component_sha256: facts.component_sha256,
            flags: facts.flags,
            started_at_ms: facts.started_at_ms,
            late_s: facts.late_s,
            shard: facts.shard,
            duration_s,
            workers: facts.workers,
            processes: facts.processes,
            workers_per_instance: facts.workers_per_instance,
            stopped_by: facts.stopped_by,
            sizing: facts.sizing,
            scenarios: Scenarios {
                ok: tally.scenarios.values().map(|s| s.ok).sum(),
                failed: tally.scenarios.values().map(|s| s.failed).sum(),
                cancelled: tally.scenarios.values().map(|s| s.cancelled).sum(),
                dropped: tally.dropped_runs,
                duration_ms: Percentiles::of(&service_us),
                by_name,
            },
            requests: Requests {
                count: requests,
                errors: tally.errors.values().sum(),
                per_second: requests as f64 / duration_s.max(1e-9),
                by_status: tally
                    .statuses
                    .iter()
                    .map(|(s, n)| (s.to_string(), *n))
                    .collect(),
                errors_by_kind: tally.errors.clone(),
                by_name: tally
                    .requests
                    .iter()
                    .map(|(name, r)| {
                        let named = NamedRequests {
                            count: r.count,
                            errors: r.errors,
                            latency_ms: Percentiles::of(&r.latency_us),
                            latency_histogram: histogram::encode(&r.latency_us),
                        };
                        (name.clone(), named)
                    })
                    .collect(),
            },
            latency_ms: Percentiles::of(&latency_us),
            latency_histogram: histogram::encode(&latency_us),
            custom: Custom {
                counters: tally.counters.clone(),
                gauges: tally.gauges.clone(),
                timings_ms: tally
                    .timings_us
                    .iter()
                    .map(|(n, h)| (n.clone(), Percentiles::of(h)))
                    .collect(),
            },
            response_time_ms: (!tally.response_us.0.is_empty())
                .then(|| Percentiles::of(&tally.response_us.0)),
            thresholds: Vec::new(),
            timeline: Timeline::default(),
            warnings: tally.warnings.iter().cloned().collect(),
            egress: tally.egress.clone(),
            k6: None,
        }
    }

    /// Whether the run sent requests and not one of them reached a server:
    /// each failed before a server could answer (the target is down or
    /// unreachable, or the run's own rules refused it). A timeout, a
    /// protocol error or a body over the limit came from a server.
    pub fn reached_no_server(&self) -> bool {
        const BEFORE_ANY_SERVER: [&str; 5] = [
            "connect",
            "egress-denied",
            "host-not-allowed",
            "invalid-url",
            "invalid-request",
        ];
        let r = &self.requests;
        r.count > 0
            && r.by_status.is_empty()
            && (r.errors_by_kind.keys()).all(|kind| BEFORE_ANY_SERVER.contains(&kind.as_str()))
    }
}
