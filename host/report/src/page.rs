//! The report page: the run's facts, its charts over time, the tables per
//! request name and per scenario, failures and custom metrics.

use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::Histogram;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use molotov_metrics::{Interval, Percentiles, Report, histogram};

use crate::charts::{Chart, Line, XAxis};
use crate::figures::{distribution_chart, figure};
use crate::format::{ms, thousands};
use crate::{compare, egress, k6};

/// Points per chart line: a longer timeline is merged into fewer, wider intervals.
pub const MAX_POINTS: usize = 1000;

/// Request names drawn in the latency distribution chart (the busiest).
pub const DISTRIBUTED_NAMES: usize = 6;

const STYLE: &str = include_str!("style.css");

/// Failure messages listed; the rest are summed in one line.
const MAX_FAILURE_ROWS: usize = 200;

/// The page as the live dashboard serves it: it fetches itself every
/// `every_ms` and shows the new state, until a page says the run ended.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub every_ms: u32,
}

/// The whole page, self-contained.
pub fn render(report: &Report, live: Option<Live>) -> String {
    page(report, live, None)
}

/// The page of `report`, opening with how it compares with `baseline`.
pub fn render_compared(report: &Report, baseline: &Report) -> String {
    page(report, None, Some(baseline))
}

fn page(report: &Report, live: Option<Live>, baseline: Option<&Report>) -> String {
    // Nothing is fetched but, on the dashboard, the page itself.
    let csp = match live {
        Some(_) => {
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:"
        }
        None => "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "molotov: " (report.component) }
                style { (PreEscaped(STYLE)) }
            }
            body data-state=(if live.is_some() { "running" } else { "ended" }) {
                main id="report" {
                    (facts(report, live.is_some()))
                    @if let Some(baseline) = baseline { (compare::section(report, baseline)) }
                    (totals(report))
                    (thresholds(report))
                    (over_time(report))
                    (requests(report))
                    (scenarios(report))
                    (custom(report))
                    (k6::section(report))
                    (egress::section(report))
                }
                @if let Some(live) = live {
                    script { (PreEscaped(LIVE_SCRIPT.replace("EVERY_MS", &live.every_ms.to_string()))) }
                }
            }
        }
    }
    .into_string()
}

/// Polls the page and swaps in its report; stops once the run has ended.
const LIVE_SCRIPT: &str = r#"
(function poll() {
  setTimeout(async () => {
    try {
      const response = await fetch(location.href, { cache: "no-store" });
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      document.getElementById("report").replaceWith(next.getElementById("report"));
      document.body.dataset.state = next.body.dataset.state;
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
      if (next.body.dataset.state === "running") poll();
    } catch (error) {
      document.body.dataset.state = "disconnected";
    }
  }, EVERY_MS);
})();
"#;

fn facts(report: &Report, live: bool) -> Markup {
    let started = UNIX_EPOCH + Duration::from_millis(report.started_at_ms);
    html! {
        header {
            h1 { "molotov " @if live { span.badge { "live" } } }
            table.facts {
                tr { th { "component" } td { code { (report.component) } } }
                @if !report.component_sha256.is_empty() {
                    tr { th { "SHA-256" } td { code { (report.component_sha256) } } }
                }
                @if !report.flags.is_empty() {
                    tr { th { "flags" } td { code { (report.flags) } } }
                }
                tr { th { "started" } td { (humantime::format_rfc3339_seconds(started)) } }
                tr { th { "duration" } td #duration data-value=(report.duration_s) { (format!("{:.1} s", report.duration_s)) } }
                tr { th { "workers" } td { (report.workers) @if report.processes > 1 { " in " (report.processes) " processes" } @if let Some(n) = report.workers_per_instance.filter(|&n| n > 1) { ", up to " (n) " per instance" } } }
                @if let Some(shard) = &report.shard { tr { th { "shard" } td { (shard) } } }
                @if let Some(late) = report.late_s { tr { th { "late" } td { (format!("{late:.1} s after --start-at")) } } }
                tr { th { "stopped by" } td #stopped-by { (if live { "still running".to_string() } else { report.stopped_by.name() }) } }
                tr { th { "molotov" } td { (report.molotov_version) } }
            }
        }
    }
}

fn totals(report: &Report) -> Markup {
    let (s, r) = (&report.scenarios, &report.requests);
    let card = |id: &str, label: &str, value: String, shown: String| {
        html! { div.card { div.label { (label) } div.value id=(id) data-value=(value) { (shown) } } }
    };
    html! {
        section.cards {
            (card("requests-count", "requests", r.count.to_string(), thousands(r.count)))
            (card("requests-per-second", "per second", format!("{:.1}", r.per_second), format!("{:.1}", r.per_second)))
            (card("requests-errors", "errors", r.errors.to_string(), thousands(r.errors)))
            (card("latency-p50", "p50 ms", ms(report.latency_ms.p50), ms(report.latency_ms.p50)))
            (card("latency-p99", "p99 ms", ms(report.latency_ms.p99), ms(report.latency_ms.p99)))
            (card("scenarios-ok", "runs ok", s.ok.to_string(), thousands(s.ok)))
            (card("scenarios-failed", "runs failed", s.failed.to_string(), thousands(s.failed)))
            @if s.cancelled > 0 { (card("scenarios-cancelled", "cancelled", s.cancelled.to_string(), thousands(s.cancelled))) }
            @if s.dropped > 0 { (card("scenarios-dropped", "dropped", s.dropped.to_string(), thousands(s.dropped))) }
        }
        @if !report.warnings.is_empty() {
            ul.warnings { @for warning in &report.warnings { li { (warning) } } }
        }
    }
}

fn thresholds(report: &Report) -> Markup {
    if report.thresholds.is_empty() {
        return html! {};
    }
    html! {
        section {
            h2 { "Thresholds" }
            table {
                tr { th { "" } th { "threshold" } th.n { "measured" } th { "" } }
                @for verdict in &report.thresholds {
                    tr.(if verdict.ok { "ok" } else { "failed" }) {
                        td { (if verdict.ok { "✓" } else { "✗" }) }
                        td { code { (verdict.expr) } }
                        td.n { (verdict.value.map(|v| format!("{v:.3}")).unwrap_or_default()) }
                        td { (verdict.error.clone().unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

fn over_time(report: &Report) -> Markup {
    let mut intervals = report.timeline.coarsened(MAX_POINTS);
    // The run's last raw interval, when partial (the workers stopping), is
    // too short for a rate; once merged into wider ones, it is not alone.
    let grain = report.timeline.every_s;
    let uncoarsened = intervals.len() == report.timeline.intervals.len();
    if uncoarsened
        && intervals.len() > 1
        && intervals
            .last()
            .is_some_and(|i| i.end_s - i.start_s < grain / 2.0)
    {
        intervals.pop();
    }
    // The run's closing sample is taken once its workers have stopped: it
    // reads 0 for an interval they worked in, a ramp-down that did not
    // happen. Such an interval shows the workers it started with (the most
    // active in it, as for merged intervals).
    if let [.., before, last] = intervals.as_mut_slice()
        && last.workers == 0
        && last.requests + last.ok + last.failed + last.dropped > 0
    {
        last.workers = before.workers;
    }
    if intervals.is_empty() {
        return html! { section { h2 { "Over time" } p { "No interval ended: the run was too short." } } };
    }
    let line = |label: &str, value: &dyn Fn(&Interval) -> f64| Line {
        label: label.to_string(),
        points: intervals.iter().map(|i| (i.end_s, value(i))).collect(),
    };
    // An interval without a response has no latency: no point, not a zero.
    let latency = |label: &str, value: fn(&Interval) -> f64| Line {
        label: label.to_string(),
        points: (intervals.iter())
            .filter(|i| !i.latency_histogram.is_empty())
            .map(|i| (i.end_s, value(i)))
            .collect(),
    };
    let rate = |count: fn(&Interval) -> u64| {
        move |i: &Interval| count(i) as f64 / (i.end_s - i.start_s).max(1e-3)
    };
    // Every chart over the same span, from the first interval's end (on a
    // whole second when that is as good as there, for a label at the start).
    let (first, last) = (intervals[0].end_s, intervals[intervals.len() - 1].end_s);
    let from = match first - first.floor() < (last - first) / 100.0 {
        true => first.floor(),
        false => first,
    };
    let x_range = Some((from, last));
    let mut charts = vec![
        (
            "Requests per second",
            "requests/s",
            vec![
                line("requests/s", &rate(|i| i.requests)),
                line("errors/s", &rate(|i| i.errors)),
                line("failed runs/s", &rate(|i| i.failed)),
            ],
        ),
        (
            "Latency",
            "latency (ms)",
            vec![
                latency("p50", |i| i.p50_ms),
                latency("p90", |i| i.p90_ms),
                latency("p99", |i| i.p99_ms),
            ],
        ),
        (
            "Active workers",
            "workers",
            vec![line("workers", &|i| i.workers as f64)],
        ),
    ];
    if report.scenarios.dropped > 0 {
        charts.push((
            "Dropped runs per second",
            "runs/s",
            vec![line("dropped/s", &rate(|i| i.dropped))],
        ));
    }
    html! {
        section {
            h2 { "Over time" }
            @for (title, unit, lines) in charts {
                (figure(title, Chart { x: XAxis::Seconds, y_label: unit, x_range, lines }))
            }
        }
    }
}

fn requests(report: &Report) -> Markup {
    let r = &report.requests;
    let mut names: Vec<_> = r.by_name.iter().collect();
    names.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    html! {
        section {
            h2 { "Requests" }
            table #requests {
                tr { th { "name" } th.n { "count" } th.n { "errors" } th.n { "per second" }
                     th.n { "p50 ms" } th.n { "p90 ms" } th.n { "p99 ms" } th.n { "max ms" } }
                @for (name, named) in &names {
                    tr data-name=(name) {
                        td { code { (name) } }
                        td.n data-value=(named.count) { (thousands(named.count)) }
                        td.n { (thousands(named.errors)) }
                        td.n { (format!("{:.1}", named.count as f64 / report.duration_s.max(1e-9))) }
                        (percentile_cells(&named.latency_ms))
                    }
                }
            }
            (distribution(&names))
            div.split {
                div {
                    h3 { "Status codes" }
                    table #statuses {
                        @for (status, count) in &r.by_status {
                            tr { td { (status) } td.n data-value=(count) { (thousands(*count)) } }
                        }
                    }
                }
                div {
                    h3 { "Errors by kind" }
                    @if r.errors_by_kind.is_empty() { p { "None." } }
                    table #errors {
                        @for (kind, count) in &r.errors_by_kind {
                            tr { td { (kind) } td.n data-value=(count) { (thousands(*count)) } }
                        }
                    }
                }
            }
        }
    }
}

fn percentile_cells(p: &Percentiles) -> Markup {
    html! { td.n { (ms(p.p50)) } td.n { (ms(p.p90)) } td.n { (ms(p.p99)) } td.n { (ms(p.max)) } }
}

/// The busiest names' latencies.
fn distribution(names: &[(&String, &molotov_metrics::NamedRequests)]) -> Markup {
    let histograms: Vec<(String, Histogram<u64>)> = (names.iter())
        .filter(|(_, named)| named.count > named.errors)
        .take(DISTRIBUTED_NAMES)
        .filter_map(|(name, named)| {
            Some((
                (*name).clone(),
                histogram::decode(&named.latency_histogram).ok()?,
            ))
        })
        .collect();
    distribution_chart(
        "Latency distribution of the busiest request names (share of requests, logarithmic buckets)",
        &histograms,
    )
}

fn scenarios(report: &Report) -> Markup {
    let s = &report.scenarios;
    let mut failures: Vec<(&String, &String, u64)> = (s.by_name.iter())
        .flat_map(|(name, sr)| sr.failures.iter().map(move |(m, n)| (name, m, *n)))
        .collect();
    failures.sort_by_key(|f| std::cmp::Reverse(f.2));
    let more: u64 = failures.iter().skip(MAX_FAILURE_ROWS).map(|f| f.2).sum();
    html! {
        section {
            h2 { "Scenarios" }
            table #scenarios {
                tr { th { "scenario" } th.n { "ok" } th.n { "failed" } th.n { "cancelled" }
                     th.n { "p50 ms" } th.n { "p90 ms" } th.n { "p99 ms" } th.n { "max ms" } }
                @for (name, sr) in &s.by_name {
                    tr data-name=(name) {
                        td { code { (name) } }
                        td.n data-value=(sr.ok) { (thousands(sr.ok)) }
                        td.n data-value=(sr.failed) { (thousands(sr.failed)) }
                        td.n { (thousands(sr.cancelled)) }
                        (percentile_cells(&sr.duration_ms))
                    }
                }
            }
            h3 { "Failures" }
            @if failures.is_empty() { p { "None." } }
            @else {
                table #failures {
                    tr { th { "scenario" } th { "message" } th.n { "count" } }
                    @for (name, message, count) in failures.iter().take(MAX_FAILURE_ROWS) {
                        tr { td { code { (name) } } td { pre { (message) } } td.n { (thousands(*count)) } }
                    }
                    @if more > 0 { tr { td {} td { "other messages" } td.n { (thousands(more)) } } }
                }
            }
        }
    }
}

fn custom(report: &Report) -> Markup {
    let c = &report.custom;
    if c.counters.is_empty() && c.gauges.is_empty() && c.timings_ms.is_empty() {
        return html! {};
    }
    html! {
        section {
            h2 { "Custom metrics" }
            table #custom {
                tr { th { "name" } th { "kind" } th.n { "value" } th.n { "min" } th.n { "max" } th.n { "p50 ms" } th.n { "p99 ms" } }
                @for (name, value) in &c.counters {
                    tr { td { code { (name) } } td { "counter" } td.n data-value=(value) { (value) } td {} td {} td {} td {} }
                }
                @for (name, gauge) in &c.gauges {
                    tr { td { code { (name) } } td { "gauge" } td.n { (gauge.last) } td.n { (gauge.min) } td.n { (gauge.max) } td {} td {} }
                }
                @for (name, timing) in &c.timings_ms {
                    tr { td { code { (name) } } td { "timing" } td {} td.n { (ms(timing.min)) } td.n { (ms(timing.max)) } td.n { (ms(timing.p50)) } td.n { (ms(timing.p99)) } }
                }
            }
        }
    }
}
