//! A [`Report`] in k6's terms ([`K6Results`]), made from the report itself
//! so that merged shards get it exactly as a single run does.

use std::collections::BTreeMap;

use crate::k6::{
    K6Check, K6Metric, K6Results, K6Script, ThresholdOk, default_trend_stats, unexpected_responses,
};
use crate::report::Report;

/// The counters the JS SDK's k6 layer records a check and a Rate as.
const CHECK_PREFIX: &str = "check ";
/// What the host's counters and timings of a WebSocket begin with.
const SOCKET_PREFIX: &str = "WS ";
const RATE_TRUE: &str = ": true";
const RATE_FALSE: &str = ": false";

impl K6Results {
    /// `report`'s results in k6's terms, read as `script` says: its
    /// thresholds (as translated, judged by `report.thresholds`) and the
    /// statuses it expects.
    pub fn of(report: &Report, script: &K6Script) -> Self {
        let seconds = report.duration_s.max(1e-9);
        let counter = |count: u64| K6Metric::counter(count, seconds);
        let mut metrics = BTreeMap::new();
        let requests = &report.requests;
        metrics.insert("http_reqs".into(), counter(requests.count));
        metrics.insert(
            "http_req_duration".into(),
            K6Metric::trend(&report.latency_ms),
        );
        // k6 counts a request as failed without a response or with a status
        // it does not expect; a WebSocket's handshake is no HTTP request to it.
        let statuses = (requests.by_status.iter())
            .filter_map(|(status, &count)| Some((status.parse::<u16>().ok()?, count)));
        let bad_statuses = unexpected_responses(statuses, |status| script.expects(status));
        let failed = (requests.errors + bad_statuses).min(requests.count);
        metrics.insert(
            "http_req_failed".into(),
            K6Metric::rate(failed, requests.count - failed),
        );
        let scenarios = &report.scenarios;
        metrics.insert(
            "iterations".into(),
            counter(scenarios.ok + scenarios.failed),
        );
        metrics.insert(
            "iteration_duration".into(),
            K6Metric::trend(&scenarios.duration_ms),
        );
        let (sent, received) = report.egress.bytes();
        metrics.insert("data_sent".into(), K6Metric::data(sent, seconds));
        metrics.insert("data_received".into(), K6Metric::data(received, seconds));
        let vus = f64::from(report.workers);
        metrics.insert("vus".into(), K6Metric::gauge(vus, vus, vus));
        metrics.insert("vus_max".into(), K6Metric::gauge(vus, vus, vus));

        let custom = &report.custom;
        let count_of = |name: &str| custom.counters.get(name).copied().unwrap_or(0).max(0) as u64;
        let mut checks = BTreeMap::<String, K6Check>::new();
        let sockets = requests.by_status.get("101").copied().unwrap_or(0);
        let (mut messages_sent, mut messages_received) = (0, 0);
        for (name, &value) in &custom.counters {
            let value = value.max(0) as u64;
            if let Some(socket) = name.strip_prefix(SOCKET_PREFIX) {
                // k6 counts a socket's messages over all sockets; molotov's
                // bytes and close codes have no k6 name.
                if socket.ends_with(" sent") {
                    messages_sent += value;
                } else if socket.ends_with(" received") {
                    messages_received += value;
                }
            } else if let Some(check) = name.strip_prefix(CHECK_PREFIX) {
                let (check, passed) = match check.rsplit_once(": ") {
                    Some((check, "passed")) => (check, true),
                    Some((check, "failed")) => (check, false),
                    _ => {
                        metrics.insert(name.clone(), counter(value));
                        continue;
                    }
                };
                let entry = checks
                    .entry(check.to_string())
                    .or_insert_with(|| K6Check::at(check));
                match passed {
                    true => entry.passes += value,
                    false => entry.fails += value,
                }
            } else if let Some(rate) =
                (name.strip_suffix(RATE_TRUE)).or_else(|| name.strip_suffix(RATE_FALSE))
            {
                let (passes, fails) = (
                    count_of(&format!("{rate}{RATE_TRUE}")),
                    count_of(&format!("{rate}{RATE_FALSE}")),
                );
                metrics.insert(rate.to_string(), K6Metric::rate(passes, fails));
            } else {
                metrics.insert(name.clone(), counter(value));
            }
        }
        for (name, gauge) in &custom.gauges {
            metrics.insert(
                name.clone(),
                K6Metric::gauge(gauge.last, gauge.min, gauge.max),
            );
        }
        if sockets > 0 {
            metrics.insert("ws_sessions".into(), counter(sockets));
            metrics.insert("ws_msgs_sent".into(), counter(messages_sent));
            metrics.insert("ws_msgs_received".into(), counter(messages_received));
        }
        let socket_sessions: Vec<_> = (custom.timings_ms.iter())
            .filter_map(|(name, timing)| {
                let socket = name.strip_prefix(SOCKET_PREFIX)?.strip_suffix(" session")?;
                Some((socket, timing))
            })
            .collect();
        for (name, timing) in &custom.timings_ms {
            if !name.starts_with(SOCKET_PREFIX) {
                metrics.insert(name.clone(), K6Metric::trend(timing));
            }
        }
        // One trend per socket name: k6's one when all sockets share it.
        for &(socket, timing) in &socket_sessions {
            let name = match socket_sessions.len() {
                1 => "ws_session_duration".to_string(),
                _ => format!("ws_session_duration{{name:{socket}}}"),
            };
            metrics.insert(name, K6Metric::trend(timing));
        }
        for threshold in &script.thresholds {
            let Some(verdict) = (report.thresholds.iter()).find(|v| v.expr == threshold.expr)
            else {
                continue;
            };
            let metric = metrics
                .entry(threshold.metric.clone())
                .or_insert_with(|| filtered(report, &threshold.metric));
            metric
                .thresholds
                .insert(threshold.source.clone(), ThresholdOk { ok: verdict.ok });
        }
        let trend_stats = match script.trend_stats.is_empty() {
            true => default_trend_stats(),
            false => script.trend_stats.clone(),
        };
        Self {
            metrics,
            checks: checks.into_values().collect(),
            trend_stats,
        }
    }
}

/// A metric with a tag filter (`http_req_duration{name:login}`), which k6
/// shows as a sub-metric: the named requests' latency or counts.
fn filtered(report: &Report, metric: &str) -> K6Metric {
    let (base, tags) = metric.split_once('{').unwrap_or((metric, ""));
    let name = (tags.trim_end_matches('}').split_once(':'))
        .filter(|(tag, _)| tag.trim() == "name")
        .map(|(_, name)| name.trim().trim_matches(['"', '\'']));
    let named = name.and_then(|name| report.requests.by_name.get(name));
    let seconds = report.duration_s.max(1e-9);
    match (base, named) {
        ("http_req_duration", Some(named)) => K6Metric::trend(&named.latency_ms),
        ("http_reqs", Some(named)) => K6Metric::counter(named.count, seconds),
        _ => K6Metric::counter(0, seconds),
    }
}
