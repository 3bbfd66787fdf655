//! Recording while the run goes on: HDR latency histograms and counters,
//! sharded so that workers never contend on one lock, merged exactly when read.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::histogram::{self, add, record};
use crate::names::{MAX_NAME_BYTES, NameBudget, OTHER, cut};
use crate::statsd::Statsd;
use crate::tally::{Gauge, RequestOutcome, RequestStats, Tally, count_failure};
use crate::timeline::Slice;

/// Totals read by the console and by the stop rules (`-x`, `-f`) while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    pub requests: AtomicU64,
    pub request_errors: AtomicU64,
    pub workers: AtomicU64,
    pub dropped: AtomicU64,
}

/// What one shard holds: the run so far, and the current interval of its timeline.
#[derive(Default)]
struct Shard {
    tally: Tally,
    slice: Slice,
}

/// The run's metrics: a few shards, each worker writing to one of them.
pub struct Metrics {
    shards: Box<[Mutex<Shard>]>,
    pub live: Live,
    /// `--statsd`: everything recorded is also sent there.
    pub statsd: Option<Statsd>,
    request_names: NameBudget,
    metric_names: NameBudget,
}

/// How many distinct names a run keeps (see [`NameBudget`]).
#[derive(Debug, Clone, Copy)]
pub struct NameLimits {
    pub requests: usize,
    pub custom_metrics: usize,
}

impl Metrics {
    /// `shards` should exceed the number of threads a few times over, so two
    /// workers rarely share a lock at the same moment.
    pub fn new(shards: usize, statsd: Option<Statsd>, limits: NameLimits) -> Arc<Self> {
        let shards = (0..shards.max(1))
            .map(|_| Mutex::new(Shard::default()))
            .collect();
        Arc::new(Self {
            shards,
            live: Live::default(),
            statsd,
            request_names: NameBudget::new(limits.requests, "request", "--max-request-names"),
            metric_names: NameBudget::new(
                limits.custom_metrics,
                "custom metric",
                "--max-metric-names",
            ),
        })
    }

    pub fn recorder(self: &Arc<Self>, worker_id: u32) -> Recorder {
        Recorder {
            metrics: Arc::clone(self),
            shard: worker_id as usize % self.shards.len(),
        }
    }

    /// Everything recorded so far, merged.
    pub fn snapshot(&self) -> Tally {
        let mut total = Tally::default();
        for shard in self.shards.iter() {
            total.merge(&lock(shard).tally);
        }
        total
    }

    /// What was recorded since the last call (the timeline's next interval).
    pub fn take_slice(&self) -> Slice {
        let mut total = Slice::default();
        for shard in self.shards.iter() {
            let slice = std::mem::take(&mut lock(shard).slice);
            total.add(&slice);
        }
        total
    }

    /// The totals so far and all request latencies (cheaper than a full snapshot).
    pub fn progress(&self) -> Progress {
        let mut latency_us = histogram::new();
        for shard in self.shards.iter() {
            lock(shard).tally.add_latencies_to(&mut latency_us);
        }
        let live = &self.live;
        Progress {
            ok: live.ok.load(Ordering::Relaxed),
            failed: live.failed.load(Ordering::Relaxed),
            workers: live.workers.load(Ordering::Relaxed),
            requests: live.requests.load(Ordering::Relaxed),
            request_errors: live.request_errors.load(Ordering::Relaxed),
            latency_us,
        }
    }
}

/// What the console shows while the run goes on; `-p` children send theirs
/// to the parent, which adds them up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    pub ok: u64,
    pub failed: u64,
    pub workers: u64,
    pub requests: u64,
    pub request_errors: u64,
    #[serde(with = "histogram::base64")]
    pub latency_us: Histogram<u64>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            ok: 0,
            failed: 0,
            workers: 0,
            requests: 0,
            request_errors: 0,
            latency_us: histogram::new(),
        }
    }
}

impl Progress {
    pub fn add(&mut self, other: &Progress) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.workers += other.workers;
        self.requests += other.requests;
        self.request_errors += other.request_errors;
        add(&mut self.latency_us, &other.latency_us);
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A worker that panicked mid-record leaves counts that are still valid.
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A worker's handle for recording into its shard.
#[derive(Clone)]
pub struct Recorder {
    metrics: Arc<Metrics>,
    shard: usize,
}

impl Recorder {
    fn shard(&self) -> MutexGuard<'_, Shard> {
        lock(&self.metrics.shards[self.shard])
    }

    pub fn request(&self, name: &str, outcome: RequestOutcome, elapsed: Duration) {
        let name = cut(name, MAX_NAME_BYTES);
        let micros = elapsed.as_micros() as u64;
        let failed = matches!(outcome, RequestOutcome::Error(_));
        self.metrics.live.requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.metrics
                .live
                .request_errors
                .fetch_add(1, Ordering::Relaxed);
        }
        let mut shard = self.shard();
        let Shard { tally, slice } = &mut *shard;
        slice.requests += 1;
        let stats = match tally.requests.get_mut(name) {
            Some(stats) => stats,
            None => {
                let name = admitted(&self.metrics.request_names, name, &mut tally.warnings);
                tally
                    .requests
                    .entry(name.to_string())
                    .or_insert_with(|| RequestStats {
                        count: 0,
                        errors: 0,
                        latency_us: histogram::new(),
                    })
            }
        };
        stats.count += 1;
        match outcome {
            RequestOutcome::Status(status) => {
                // The run's overall histogram is the sum of these, made when read.
                record(&mut stats.latency_us, micros);
                record(&mut slice.latency_us, micros);
                *tally.statuses.entry(status).or_default() += 1;
            }
            RequestOutcome::Error(kind) => {
                stats.errors += 1;
                slice.errors += 1;
                match tally.errors.get_mut(kind) {
                    Some(count) => *count += 1,
                    None => {
                        tally.errors.insert(kind.to_string(), 1);
                    }
                }
            }
        }
    }

    /// A request's hop as statsd names it (by method, host and path).
    pub fn wire(&self, method: &str, url: &Url, outcome: RequestOutcome, elapsed: Duration) {
        if let Some(statsd) = &self.metrics.statsd {
            let status;
            let outcome = match outcome {
                RequestOutcome::Status(code) => {
                    status = code.to_string();
                    status.as_str()
                }
                RequestOutcome::Error(kind) => kind,
            };
            statsd.request(method, url, outcome, elapsed);
        }
    }

    /// Records one run of a scenario; `failure` holds its message.
    pub fn scenario(&self, name: &str, failure: Option<&str>, elapsed: Duration) {
        if let Some(statsd) = &self.metrics.statsd {
            statsd.scenario(name, failure.is_none(), elapsed);
        }
        let counter = if failure.is_some() {
            &self.metrics.live.failed
        } else {
            &self.metrics.live.ok
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut shard = self.shard();
        let Shard { tally, slice } = &mut *shard;
        let stats = match tally.scenarios.get_mut(name) {
            Some(stats) => stats,
            None => tally.scenarios.entry(name.to_string()).or_default(),
        };
        record(&mut stats.duration_us, elapsed.as_micros() as u64);
        match failure {
            Some(message) => {
                stats.failed += 1;
                slice.failed += 1;
                count_failure(&mut stats.failures, message, 1);
            }
            None => {
                stats.ok += 1;
                slice.ok += 1;
            }
        }
    }

    /// A limit the run reached, for the report's warnings.
    pub fn warn(&self, warning: String) {
        self.shard().tally.warnings.insert(warning);
    }

    /// Open model: a run not started for want of a free worker.
    pub fn dropped(&self, runs: u64) {
        self.metrics.live.dropped.fetch_add(runs, Ordering::Relaxed);
        let mut shard = self.shard();
        shard.tally.dropped_runs += runs;
        shard.slice.dropped += runs;
    }

    /// Open model: a run's time from its intended start to its end (the
    /// queueing included, as the service time is not).
    pub fn response_time(&self, elapsed: Duration) {
        record(
            &mut self.shard().tally.response_us.0,
            elapsed.as_micros() as u64,
        );
    }

    /// A run dropped midway by a forced shutdown: neither a success nor a failure.
    pub fn cancelled(&self, name: &str) {
        self.shard()
            .tally
            .scenarios
            .entry(name.to_string())
            .or_default()
            .cancelled += 1;
    }

    pub fn custom_counter(&self, name: &str, delta: i64) {
        let name = cut(name, MAX_NAME_BYTES);
        if let Some(statsd) = &self.metrics.statsd {
            statsd.counter(name, delta);
        }
        let mut shard = self.shard();
        let tally = &mut shard.tally;
        let counter = match tally.counters.get_mut(name) {
            Some(counter) => counter,
            None => {
                let name = admitted(&self.metrics.metric_names, name, &mut tally.warnings);
                tally.counters.entry(name.to_string()).or_default()
            }
        };
        *counter = counter.saturating_add(delta);
    }

    pub fn custom_gauge(&self, name: &str, value: f64) {
        let name = cut(name, MAX_NAME_BYTES);
        // NaN has no order: it would poison the gauge's range for good; an
        // infinity has no place in JSON (it would be written as null).
        if !value.is_finite() {
            return;
        }
        if let Some(statsd) = &self.metrics.statsd {
            statsd.gauge(name, value);
        }
        let set_at_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let update = Gauge::new(value, set_at_us);
        let mut shard = self.shard();
        let tally = &mut shard.tally;
        match tally.gauges.get_mut(name) {
            Some(gauge) => gauge.merge(&update),
            None => {
                let name = admitted(&self.metrics.metric_names, name, &mut tally.warnings);
                tally
                    .gauges
                    .entry(name.to_string())
                    .and_modify(|gauge| gauge.merge(&update))
                    .or_insert(update);
            }
        }
    }

    pub fn custom_timing(&self, name: &str, micros: u64) {
        let name = cut(name, MAX_NAME_BYTES);
        if let Some(statsd) = &self.metrics.statsd {
            statsd.timing(name, micros);
        }
        let mut shard = self.shard();
        let tally = &mut shard.tally;
        let timing = match tally.timings_us.get_mut(name) {
            Some(timing) => timing,
            None => {
                let name = admitted(&self.metrics.metric_names, name, &mut tally.warnings);
                (tally.timings_us)
                    .entry(name.to_string())
                    .or_insert_with(histogram::new)
            }
        };
        record(timing, micros);
    }
}

/// `name`, or [`OTHER`] once `budget` is spent (noted in `warnings`).
fn admitted<'a>(budget: &NameBudget, name: &'a str, warnings: &mut BTreeSet<String>) -> &'a str {
    if budget.admit(name) {
        return name;
    }
    if !warnings.contains(&budget.warning) {
        warnings.insert(budget.warning.clone());
    }
    OTHER
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: NameLimits = NameLimits {
        requests: 3,
        custom_metrics: 2,
    };

    /// Past the limit, new names are counted under `(other)`, whatever the
    /// shard that meets them, and the report is told once.
    #[test]
    fn names_past_the_limit_are_counted_under_other() {
        let metrics = Metrics::new(4, None, LIMITS);
        for id in 0..10 {
            let recorder = metrics.recorder(id);
            let outcome = RequestOutcome::Status(200);
            recorder.request(
                &format!("GET /users/{id}"),
                outcome,
                Duration::from_millis(1),
            );
            recorder.custom_counter(&format!("cart-{id}"), i64::MAX);
            recorder.custom_counter(&format!("cart-{id}"), 1);
        }
        let tally = metrics.snapshot();
        assert_eq!(tally.requests.len(), 4);
        assert_eq!(tally.requests[OTHER].count, 7);
        assert_eq!(tally.requests.values().map(|r| r.count).sum::<u64>(), 10);
        assert_eq!(tally.counters.len(), 3);
        assert_eq!(tally.counters["cart-0"], i64::MAX, "saturates, never wraps");
        assert_eq!(tally.warnings.len(), 2, "{:?}", tally.warnings);
    }

    /// A guest cannot make one name or message hold megabytes.
    #[test]
    fn long_names_and_messages_are_cut_at_a_character() {
        let metrics = Metrics::new(1, None, LIMITS);
        let recorder = metrics.recorder(0);
        let long = "é".repeat(1 << 20);
        recorder.request(&long, RequestOutcome::Status(200), Duration::ZERO);
        recorder.custom_counter(&long, 1);
        recorder.scenario("s", Some(&long), Duration::ZERO);
        let tally = metrics.snapshot();
        let name = tally.requests.keys().next().expect("one name");
        assert_eq!(name.len(), MAX_NAME_BYTES);
        assert_eq!(
            tally.counters.keys().next().expect("one").len(),
            MAX_NAME_BYTES
        );
        let message = tally.scenarios["s"].failures.keys().next().expect("one");
        assert!(message.len() <= 2048 && message.starts_with('é'));
    }

    /// Histograms start small and must grow to every value recorded, in
    /// every shard, and merge exactly.
    #[test]
    fn recorded_latencies_survive_sharding_and_merging() {
        let metrics = Metrics::new(4, None, LIMITS);
        let recorders: Vec<Recorder> = (0..10).map(|worker| metrics.recorder(worker)).collect();
        for (i, micros) in (20..20_020u64).enumerate() {
            let elapsed = Duration::from_micros(micros);
            recorders[i % 10].request("GET /", RequestOutcome::Status(200), elapsed);
        }
        let tally = metrics.snapshot();
        for latency in [&tally.latency_us(), &tally.requests["GET /"].latency_us] {
            assert_eq!(latency.len(), 20_000);
            assert_eq!(latency.min(), 20);
            assert!(latency.equivalent(latency.max(), 20_019));
            assert!(latency.equivalent(latency.value_at_quantile(0.5), 10_019));
        }
    }
}
