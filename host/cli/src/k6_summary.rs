//! The end-of-run summary in k6's vocabulary, after molotov's own, for a
//! k6 script: what a k6 user looks for (`checks`, `http_req_duration`,
//! `http_req_failed`, `http_reqs`, `iterations`, `vus`), from the same results.

use std::fmt::Write;

use molotov_metrics::Report;

/// The k6-named lines of `report`.
pub fn summary(report: &Report) -> String {
    let counter = |name: &str| {
        report
            .custom
            .counters
            .get(name)
            .copied()
            .unwrap_or(0)
            .max(0) as u64
    };
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            100.0 * part as f64 / whole as f64
        }
    };
    let requests = &report.requests;
    // k6 counts a request as failed without a response or with a status
    // outside 200–399.
    let bad_statuses: u64 = (requests.by_status.iter())
        .filter(|(status, _)| {
            status
                .parse::<u16>()
                .is_ok_and(|s| !(200..400).contains(&s))
        })
        .map(|(_, count)| count)
        .sum();
    let failed = requests.errors + bad_statuses;
    let latency = &report.latency_ms;
    let iterations = report.scenarios.ok + report.scenarios.failed;
    let seconds = report.duration_s.max(1e-9);
    let mut out = String::from("\nin k6's terms:\n");
    let mut line = |name: &str, value: String| {
        let _ = writeln!(out, "  {name:.<32}: {value}");
    };
    let (passed, failed_checks) = (counter("checks: true"), counter("checks: false"));
    if passed + failed_checks > 0 {
        line(
            "checks",
            format!(
                "{:.2}% ✓ {passed} ✗ {failed_checks}",
                share(passed, passed + failed_checks)
            ),
        );
    }
    line(
        "http_req_duration",
        format!(
            "avg={:.2}ms min={:.2}ms med={:.2}ms max={:.2}ms p(90)={:.2}ms p(99)={:.2}ms",
            latency.mean, latency.min, latency.p50, latency.max, latency.p90, latency.p99
        ),
    );
    line(
        "http_req_failed",
        format!(
            "{:.2}% ✓ {failed} ✗ {}",
            share(failed, requests.count),
            requests.count - failed.min(requests.count)
        ),
    );
    line(
        "http_reqs",
        format!(
            "{} {:.2}/s",
            requests.count,
            requests.count as f64 / seconds
        ),
    );
    line(
        "iterations",
        format!("{iterations} {:.2}/s", iterations as f64 / seconds),
    );
    line("vus", report.workers.to_string());
    out
}
