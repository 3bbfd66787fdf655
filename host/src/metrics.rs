//! What the run measured: HDR latency histograms and counters, sharded so that
//! workers never contend on one lock, merged exactly when read.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;
use url::Url;

use crate::statsd::Statsd;

/// How a request ended.
#[derive(Debug, Clone, Copy)]
pub enum RequestOutcome {
    Status(u16),
    /// An error kind, as named by `session::error_kind`.
    Error(&'static str),
}

/// Distinct failure messages kept per scenario; the rest are counted together.
const MAX_FAILURE_MESSAGES: usize = 50;
const OTHER_FAILURES: &str = "(other messages)";

/// A latency histogram in microseconds, 3 significant digits, growing as needed.
pub fn histogram() -> Histogram<u64> {
    let mut histogram = Histogram::new(3).expect("3 significant digits is valid");
    histogram.auto(true);
    histogram
}

/// Requests under one name (`METHOD /path` by default).
#[derive(Debug, Clone)]
pub struct RequestStats {
    pub count: u64,
    pub errors: u64,
    pub latency_us: Histogram<u64>,
}

/// Runs of one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioStats {
    pub ok: u64,
    pub failed: u64,
    pub cancelled: u64,
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
            duration_us: histogram(),
            failures: BTreeMap::new(),
        }
    }
}

/// Everything recorded by a set of workers; shards merge into one of these.
#[derive(Debug, Clone)]
pub struct Tally {
    pub requests: HashMap<String, RequestStats>,
    pub latency_us: Histogram<u64>,
    pub statuses: BTreeMap<u16, u64>,
    pub errors: BTreeMap<String, u64>,
    pub scenarios: HashMap<String, ScenarioStats>,
    pub counters: BTreeMap<String, i64>,
    pub timings_us: BTreeMap<String, Histogram<u64>>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            requests: HashMap::new(),
            latency_us: histogram(),
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            scenarios: HashMap::new(),
            counters: BTreeMap::new(),
            timings_us: BTreeMap::new(),
        }
    }
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
                    latency_us: histogram(),
                });
            mine.count += stats.count;
            mine.errors += stats.errors;
            add(&mut mine.latency_us, &stats.latency_us);
        }
        add(&mut self.latency_us, &other.latency_us);
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
            *self.counters.entry(name.clone()).or_default() += value;
        }
        for (name, timing) in &other.timings_us {
            add(
                self.timings_us
                    .entry(name.clone())
                    .or_insert_with(histogram),
                timing,
            );
        }
    }

    pub fn requests(&self) -> u64 {
        self.requests.values().map(|r| r.count).sum()
    }
}

/// Records one value in microseconds. (`saturating_record` would clamp to the
/// current range instead of growing it.)
fn record(histogram: &mut Histogram<u64>, micros: u64) {
    histogram
        .record(micros.max(1))
        .expect("auto-resizing histograms take any duration");
}

fn add(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    into.add(from)
        .expect("auto-resizing histograms always merge");
}

fn count_failure(failures: &mut BTreeMap<String, u64>, message: &str, count: u64) {
    if failures.len() < MAX_FAILURE_MESSAGES || failures.contains_key(message) {
        *failures.entry(message.to_string()).or_default() += count;
    } else {
        *failures.entry(OTHER_FAILURES.to_string()).or_default() += count;
    }
}

/// Totals read by the console and by the stop rules (`-x`, `-f`) while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    pub requests: AtomicU64,
    pub request_errors: AtomicU64,
    pub workers: AtomicU64,
}

/// The run's metrics: a few shards, each worker writing to one of them.
pub struct Metrics {
    shards: Box<[Mutex<Tally>]>,
    pub live: Live,
    /// `--statsd`: everything recorded is also sent there.
    pub statsd: Option<Statsd>,
}

impl Metrics {
    /// `shards` should exceed the number of threads a few times over, so two
    /// workers rarely share a lock at the same moment.
    pub fn new(shards: usize, statsd: Option<Statsd>) -> Arc<Self> {
        let shards = (0..shards.max(1))
            .map(|_| Mutex::new(Tally::default()))
            .collect();
        Arc::new(Self {
            shards,
            live: Live::default(),
            statsd,
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
            total.merge(&lock(shard));
        }
        total
    }

    /// All request latencies so far (cheaper than a full snapshot).
    pub fn latency_snapshot(&self) -> Histogram<u64> {
        let mut total = histogram();
        for shard in self.shards.iter() {
            add(&mut total, &lock(shard).latency_us);
        }
        total
    }
}

fn lock(shard: &Mutex<Tally>) -> MutexGuard<'_, Tally> {
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
    fn tally(&self) -> MutexGuard<'_, Tally> {
        lock(&self.metrics.shards[self.shard])
    }

    pub fn request(&self, name: &str, outcome: RequestOutcome, elapsed: Duration) {
        let micros = elapsed.as_micros() as u64;
        let failed = matches!(outcome, RequestOutcome::Error(_));
        self.metrics.live.requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.metrics
                .live
                .request_errors
                .fetch_add(1, Ordering::Relaxed);
        }
        let mut tally = self.tally();
        let stats = match tally.requests.get_mut(name) {
            Some(stats) => stats,
            None => tally
                .requests
                .entry(name.to_string())
                .or_insert_with(|| RequestStats {
                    count: 0,
                    errors: 0,
                    latency_us: histogram(),
                }),
        };
        stats.count += 1;
        match outcome {
            RequestOutcome::Status(status) => {
                record(&mut stats.latency_us, micros);
                record(&mut tally.latency_us, micros);
                *tally.statuses.entry(status).or_default() += 1;
            }
            RequestOutcome::Error(kind) => {
                stats.errors += 1;
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
        let mut tally = self.tally();
        let stats = match tally.scenarios.get_mut(name) {
            Some(stats) => stats,
            None => tally.scenarios.entry(name.to_string()).or_default(),
        };
        record(&mut stats.duration_us, elapsed.as_micros() as u64);
        match failure {
            Some(message) => {
                stats.failed += 1;
                count_failure(&mut stats.failures, message, 1);
            }
            None => stats.ok += 1,
        }
    }

    /// A run dropped midway by a forced shutdown: neither a success nor a failure.
    pub fn cancelled(&self, name: &str) {
        self.tally()
            .scenarios
            .entry(name.to_string())
            .or_default()
            .cancelled += 1;
    }

    pub fn custom_counter(&self, name: &str, delta: i64) {
        if let Some(statsd) = &self.metrics.statsd {
            statsd.counter(name, delta);
        }
        *self.tally().counters.entry(name.to_string()).or_default() += delta;
    }

    pub fn custom_timing(&self, name: &str, micros: u64) {
        if let Some(statsd) = &self.metrics.statsd {
            statsd.timing(name, micros);
        }
        let mut tally = self.tally();
        record(
            tally
                .timings_us
                .entry(name.to_string())
                .or_insert_with(histogram),
            micros,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Histograms start small and must grow to every value recorded, in
    /// every shard, and merge exactly.
    #[test]
    fn recorded_latencies_survive_sharding_and_merging() {
        let metrics = Metrics::new(4, None);
        let recorders: Vec<Recorder> = (0..10).map(|worker| metrics.recorder(worker)).collect();
        for (i, micros) in (20..20_020u64).enumerate() {
            let elapsed = Duration::from_micros(micros);
            recorders[i % 10].request("GET /", RequestOutcome::Status(200), elapsed);
        }
        let tally = metrics.snapshot();
        for latency in [&tally.latency_us, &tally.requests["GET /"].latency_us] {
            assert_eq!(latency.len(), 20_000);
            assert_eq!(latency.min(), 20);
            assert!(latency.equivalent(latency.max(), 20_019));
            assert!(latency.equivalent(latency.value_at_quantile(0.5), 10_019));
        }
    }
}
