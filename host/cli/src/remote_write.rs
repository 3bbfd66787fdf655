//! `--prometheus-rw`: the run's metrics pushed to a Prometheus remote-write
//! endpoint (protobuf, snappy-compressed), every `--prometheus-rw-every` and
//! at the end. Every push carries cumulative counts, so only the newest
//! waits to be sent (a slot, not a queue), by a task of its own; a failed
//! push is reported once and never stops the run.
//!
//! Series are cumulative counters and classic histograms (`_bucket` with
//! `le`, `_sum`, `_count`), so any push may be lost or repeated. Every series
//! carries `job="molotov"`, `run_id`, `process` and, for a shard, `shard`,
//! plus the operator's `--prometheus-label`s. A k6 script's run also pushes
//! k6's own series (`k6_http_reqs_total`, `k6_http_req_duration_p99`, …),
//! for the dashboards made for k6.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ::base64::Engine as _;
use hdrhistogram::Histogram;
use molotov_http::{HopOutcome, HttpClient, Observer, Request, SharedSession};
use molotov_metrics::{
    K6Metric, K6Results, K6Script, Report, RunFacts, StopReason, TREND_STATS, Tally,
};
use prost::Message;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::console::Console;
use crate::plan::{RemoteWritePlan, RunPlan};

/// Classic histogram buckets, in seconds.
const BUCKETS_S: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the end of the run waits for the last push (and one in flight).
const FINISH_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, PartialEq, prost::Message)]
struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Label {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Sample {
    #[prost(double, tag = "1")]
    value: f64,
    #[prost(int64, tag = "2")]
    timestamp: i64,
}

pub struct RemoteWrite {
    labels: Vec<(String, String)>,
    /// For a k6 script, to push k6's series too.
    k6: Option<K6Push>,
    /// The newest push not yet sent.
    newest: watch::Sender<Option<Vec<u8>>>,
    sender: JoinHandle<()>,
    console: Console,
}

impl RemoteWrite {
    pub fn start(
        push: &RemoteWritePlan,
        plan: &RunPlan,
        console: &Console,
    ) -> anyhow::Result<Self> {
        let process = (plan.env.iter())
            .find(|(key, _)| key == "MOLOTOV_PROCESS")
            .map_or("0".to_string(), |(_, value)| value.clone());
        let mut labels = vec![
            ("job".to_string(), "molotov".to_string()),
            ("run_id".to_string(), plan.part.run_id.clone()),
            ("process".to_string(), process),
        ];
        if let Some(shard) = plan.part.shown_shard() {
            labels.push(("shard".to_string(), shard));
        }
        for (key, value) in &push.labels {
            labels.retain(|(k, _)| k != key);
            labels.push((key.clone(), value.clone()));
        }
        let mut headers = vec![
            (
                "content-type".to_string(),
                "application/x-protobuf".to_string(),
            ),
            ("content-encoding".to_string(), "snappy".to_string()),
            (
                "x-prometheus-remote-write-version".to_string(),
                "0.1.0".to_string(),
            ),
        ];
        if let Some(user) = &push.user {
            let password = std::env::var("MOLOTOV_PROMETHEUS_RW_PASSWORD").unwrap_or_default();
            let token =
                ::base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            headers.push(("authorization".to_string(), format!("Basic {token}")));
        }
        let client = HttpClient::new(
            None,
            Vec::new(),
            PUSH_TIMEOUT,
            1024 * 1024,
            molotov_http::tls_config(&plan.http.ca_certs)?,
        )
        // The operator's destination, not a scenario's: reachable wherever it is.
        .with_egress(molotov_http::EgressPolicy::operator(), 1);
        let (newest, pushes) = watch::channel(None);
        let sender = tokio::spawn(send(
            client,
            push.url.clone(),
            headers,
            pushes,
            console.clone(),
        ));
        Ok(Self {
            labels,
            k6: (plan.identity.k6.clone()).map(|script| K6Push {
                since: Instant::now(),
                vus_max: plan.load.workers,
                script,
            }),
            newest,
            sender,
            console: console.clone(),
        })
    }

    /// The run's metrics so far, to push next (replacing one not sent yet).
    pub fn push(&self, tally: &Tally, workers: u64) {
        self.newest.send_replace(Some(self.encode(tally, workers)));
    }

    /// Pushes the final metrics, waiting at most 15 s, or until Ctrl+C.
    pub async fn finish(self, tally: &Tally) {
        self.newest.send_replace(Some(self.encode(tally, 0)));
        drop(self.newest);
        let mut sender = self.sender;
        let mut interrupts = crate::interrupts::subscribe();
        let finished = tokio::select! {
            done = tokio::time::timeout(FINISH_TIMEOUT, &mut sender) => done.is_ok(),
            _ = interrupts.changed() => false,
        };
        if !finished {
            sender.abort();
            self.console
                .note("--prometheus-rw: the last push was abandoned (15 s, or Ctrl+C)");
        }
    }

    fn encode(&self, tally: &Tally, workers: u64) -> Vec<u8> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut out = Series {
            base: &self.labels,
            now,
            all: Vec::new(),
        };
        for (name, stats) in &tally.requests {
            out.add(
                "molotov_requests_total",
                &[("name", name)],
                stats.count as f64,
            );
            out.add(
                "molotov_request_errors_total",
                &[("name", name)],
                stats.errors as f64,
            );
            out.histogram(
                "molotov_request_duration_seconds",
                &[("name", name)],
                &stats.latency_us,
            );
        }
        for (status, count) in &tally.statuses {
            out.add(
                "molotov_responses_total",
                &[("status", &status.to_string())],
                *count as f64,
            );
        }
        for (kind, count) in &tally.errors {
            out.add("molotov_errors_total", &[("kind", kind)], *count as f64);
        }
        for (scenario, stats) in &tally.scenarios {
            for (outcome, count) in [
                ("ok", stats.ok),
                ("failed", stats.failed),
                ("cancelled", stats.cancelled),
            ] {
                out.add(
                    "molotov_runs_total",
                    &[("scenario", scenario), ("outcome", outcome)],
                    count as f64,
                );
            }
            out.histogram(
                "molotov_run_duration_seconds",
                &[("scenario", scenario)],
                &stats.duration_us,
            );
        }
        out.add("molotov_dropped_runs_total", &[], tally.dropped_runs as f64);
        out.add("molotov_workers", &[], workers as f64);
        for (metric, value) in &tally.counters {
            out.add(
                "molotov_custom_counter",
                &[("metric", metric)],
                *value as f64,
            );
        }
        for (metric, gauge) in &tally.gauges {
            out.add("molotov_custom_gauge", &[("metric", metric)], gauge.last);
        }
        for (metric, timing) in &tally.timings_us {
            out.histogram(
                "molotov_custom_timing_seconds",
                &[("metric", metric)],
                timing,
            );
        }
        if let Some(k6) = &self.k6 {
            let report = report_so_far(tally, k6.vus_max, k6.since);
            out.k6(&K6Results::of(&report, &k6.script), &report, workers);
        }
        let request = WriteRequest {
            timeseries: out.all,
        };
        snap::raw::Encoder::new()
            .compress_vec(&request.encode_to_vec())
            .expect("snappy compresses any buffer")
    }
}

/// What k6's series are made with: when the run started, its workers
/// (`vus_max`), and how the script reads its results.
struct K6Push {
    since: Instant,
    vus_max: u32,
    script: K6Script,
}

/// The report of the run so far, for k6's series.
fn report_so_far(tally: &Tally, workers: u32, since: Instant) -> Report {
    let facts = RunFacts {
        component: String::new(),
        component_sha256: String::new(),
        flags: String::new(),
        started_at_ms: 0,
        late_s: None,
        shard: None,
        workers,
        processes: 1,
        workers_per_instance: None,
        duration_s: since.elapsed().as_secs_f64(),
        stopped_by: StopReason::Completed,
        sizing: None,
    };
    Report::new(facts, tally)
}

/// A name Prometheus takes: what is not a letter, digit or `_` becomes `_`.
fn prometheus_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The series of one push, all at one timestamp.
struct Series<'a> {
    base: &'a [(String, String)],
    now: i64,
    all: Vec<TimeSeries>,
}

impl Series<'_> {
    fn add(&mut self, metric: &str, labels: &[(&str, &str)], value: f64) {
        let mut all: Vec<Label> = (self.base.iter())
            .map(|(name, value)| Label {
                name: name.clone(),
                value: value.clone(),
            })
            .chain(labels.iter().map(|(name, value)| Label {
                name: name.to_string(),
                value: value.to_string(),
            }))
            .chain([Label {
                name: "__name__".to_string(),
                value: metric.to_string(),
            }])
            .collect();
        // Remote write wants label names sorted.
        all.sort_by(|a, b| a.name.cmp(&b.name));
        self.all.push(TimeSeries {
            labels: all,
            samples: vec![Sample {
                value,
                timestamp: self.now,
            }],
        });
    }

    /// k6's metrics as its remote-write output names them: counters as
    /// `k6_NAME_total`, rates as `k6_NAME_rate`, gauges as `k6_NAME`,
    /// trends as `k6_NAME_avg`, `_p95`, … (times in seconds). Requests by
    /// their `name` label and checks by their `check` and `group`, as k6
    /// tags them; `vus` are the workers running now.
    fn k6(&mut self, k6: &K6Results, report: &Report, vus: u64) {
        self.add("k6_vus", &[], vus as f64);
        for check in &k6.checks {
            let rate = check.passes as f64 / (check.passes + check.fails).max(1) as f64;
            let labels = [("check", check.name.as_str()), ("group", check.group())];
            self.add("k6_checks_rate", &labels, rate);
        }
        for (name, named) in &report.requests.by_name {
            let labels = [("name", name.as_str())];
            self.add("k6_http_reqs_total", &labels, named.count as f64);
            self.k6_metric(
                "k6_http_req_duration",
                &labels,
                &K6Metric::trend(&named.latency_ms),
            );
        }
        let by_name = ["checks", "http_reqs", "http_req_duration", "vus"];
        for (name, metric) in &k6.metrics {
            if !by_name.contains(&name.as_str()) && !name.contains('{') {
                self.k6_metric(&format!("k6_{}", prometheus_name(name)), &[], metric);
            }
        }
    }

    fn k6_metric(&mut self, series: &str, labels: &[(&str, &str)], metric: &K6Metric) {
        let value = |stat: &str| metric.values.get(stat).copied().unwrap_or(0.0);
        match metric.kind.as_str() {
            "counter" => self.add(&format!("{series}_total"), labels, value("count")),
            "rate" => self.add(&format!("{series}_rate"), labels, value("rate")),
            "gauge" => self.add(series, labels, value("value")),
            _ => {
                let unit = if metric.contains == "time" { 1e-3 } else { 1.0 };
                for stat in TREND_STATS {
                    let suffix = stat.replace(['(', ')'], "");
                    self.add(&format!("{series}_{suffix}"), labels, value(stat) * unit);
                }
            }
        }
    }

    /// A classic histogram of microseconds, in seconds.
    fn histogram(&mut self, metric: &str, labels: &[(&str, &str)], micros: &Histogram<u64>) {
        for le in BUCKETS_S {
            let below = micros.count_between(0, (le * 1e6) as u64);
            let le = le.to_string();
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.add(&format!("{metric}_bucket"), &with_le, below as f64);
        }
        let mut with_le = labels.to_vec();
        with_le.push(("le", "+Inf"));
        self.add(&format!("{metric}_bucket"), &with_le, micros.len() as f64);
        self.add(&format!("{metric}_count"), labels, micros.len() as f64);
        let sum_s = micros.mean() * micros.len() as f64 / 1e6;
        self.add(&format!("{metric}_sum"), labels, sum_s);
    }
}

/// Sends the queued pushes in order; says once what went wrong.
async fn send(
    client: HttpClient,
    url: Url,
    headers: Vec<(String, String)>,
    mut pushes: watch::Receiver<Option<Vec<u8>>>,
    console: Console,
) {
    let session = SharedSession::default();
    let (mut sent, mut failed) = (0u64, 0u64);
    // The newest push once it changes; after the last one, the run is over.
    while pushes.changed().await.is_ok() {
        let Some(body) = pushes.borrow_and_update().clone() else {
            continue;
        };
        sent += 1;
        let request = Request {
            method: "POST",
            url: url.as_str(),
            headers: &headers,
            body: Some(&body),
            timeout: None,
            name: None,
            max_redirects: Some(0),
        };
        let problem = match client.send(&session, &request, &Unobserved).await {
            Ok(response) if (200..300).contains(&response.status) => continue,
            Ok(response) => format!(
                "HTTP {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body[..response.body.len().min(200)]).trim()
            ),
            Err(error) => error.to_string(),
        };
        failed += 1;
        if failed == 1 {
            console.note(&format!(
                "cannot push metrics to --prometheus-rw {}: {problem} (the run goes on)",
                shown(&url)
            ));
        }
    }
    if failed > 1 {
        console.note(&format!(
            "--prometheus-rw: {failed} of {sent} pushes failed"
        ));
    }
}

/// The endpoint as a note shows it: no query (it may hold a key).
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// Pushes are not the run's requests: nothing of them is measured.
struct Unobserved;

impl Observer for Unobserved {
    fn hop(
        &self,
        _name: &str,
        _wire: Option<(&http::Method, &Url)>,
        _outcome: HopOutcome,
        _elapsed: Duration,
    ) {
    }
}
