//! A before/after view: how a run compares with a baseline run, in totals,
//! per request name and in its latency distribution.

use maud::{Markup, html};
use molotov_metrics::{Report, histogram};

use crate::figures::distribution_chart;
use crate::format::{ms, thousands};

/// Request names compared, the busiest of this run first.
const MAX_NAMES: usize = 200;

/// Whether more is better for a measure.
#[derive(Clone, Copy, PartialEq)]
enum Better {
    Higher,
    Lower,
}

/// One row of the totals: its value in the baseline and in this run.
struct Measure {
    label: &'static str,
    baseline: f64,
    current: f64,
    better: Better,
    shown: fn(f64) -> String,
}

pub fn section(report: &Report, baseline: &Report) -> Markup {
    let percent = |errors: u64, of: u64| 100.0 * errors as f64 / of.max(1) as f64;
    let failed = |r: &Report| percent(r.scenarios.failed, r.scenarios.ok + r.scenarios.failed);
    let measures = [
        Measure {
            label: "requests per second",
            baseline: baseline.requests.per_second,
            current: report.requests.per_second,
            better: Better::Higher,
            shown: |v| format!("{v:.1}"),
        },
        Measure {
            label: "errors (% of requests)",
            baseline: percent(baseline.requests.errors, baseline.requests.count),
            current: percent(report.requests.errors, report.requests.count),
            better: Better::Lower,
            shown: |v| format!("{v:.2} %"),
        },
        Measure {
            label: "failed runs (%)",
            baseline: failed(baseline),
            current: failed(report),
            better: Better::Lower,
            shown: |v| format!("{v:.2} %"),
        },
        Measure {
            label: "p50 ms",
            baseline: baseline.latency_ms.p50,
            current: report.latency_ms.p50,
            better: Better::Lower,
            shown: ms,
        },
        Measure {
            label: "p90 ms",
            baseline: baseline.latency_ms.p90,
            current: report.latency_ms.p90,
            better: Better::Lower,
            shown: ms,
        },
        Measure {
            label: "p99 ms",
            baseline: baseline.latency_ms.p99,
            current: report.latency_ms.p99,
            better: Better::Lower,
            shown: ms,
        },
    ];
    let mut names: Vec<_> = report.requests.by_name.iter().collect();
    names.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    let histograms: Vec<_> = [("baseline", baseline), ("this run", report)]
        .into_iter()
        .filter_map(|(label, r)| {
            Some((
                label.to_string(),
                histogram::decode(&r.latency_histogram).ok()?,
            ))
        })
        .collect();
    html! {
        section #compare {
            h2 { "Compared with the baseline" }
            p {
                "Baseline: " code { (baseline.component) } " (SHA-256 " code { (baseline.component_sha256.chars().take(12).collect::<String>()) } "), "
                (format!("{:.1} s", baseline.duration_s)) ", " (baseline.workers) " workers"
                @if !baseline.flags.is_empty() { ": " code { (baseline.flags) } }
            }
            table #compare-totals {
                tr { th { "" } th.n { "baseline" } th.n { "this run" } th.n { "change" } }
                @for measure in &measures {
                    tr {
                        td { (measure.label) }
                        td.n { ((measure.shown)(measure.baseline)) }
                        td.n { ((measure.shown)(measure.current)) }
                        (change(measure.baseline, measure.current, measure.better))
                    }
                }
            }
            h3 { "Per request name" }
            table #compare-names {
                tr { th { "name" } th.n { "count before" } th.n { "count now" } th.n { "p50 before" } th.n { "p50 now" } th.n { "" } th.n { "p99 before" } th.n { "p99 now" } th.n { "" } }
                @for (name, now) in names.iter().take(MAX_NAMES) {
                    @let before = baseline.requests.by_name.get(*name);
                    tr data-name=(name) {
                        td { code { (name) } }
                        td.n { (before.map(|b| thousands(b.count)).unwrap_or_else(|| "—".into())) }
                        td.n data-value=(now.count) { (thousands(now.count)) }
                        @match before {
                            Some(before) => {
                                td.n { (ms(before.latency_ms.p50)) } td.n { (ms(now.latency_ms.p50)) }
                                (change(before.latency_ms.p50, now.latency_ms.p50, Better::Lower))
                                td.n { (ms(before.latency_ms.p99)) } td.n { (ms(now.latency_ms.p99)) }
                                (change(before.latency_ms.p99, now.latency_ms.p99, Better::Lower))
                            }
                            None => { td.n { "—" } td.n { (ms(now.latency_ms.p50)) } td {} td.n { "—" } td.n { (ms(now.latency_ms.p99)) } td {} }
                        }
                    }
                }
            }
            (distribution_chart("Latency distribution, baseline and this run (share of requests, logarithmic buckets)", &histograms))
        }
    }
}

/// The relative change, marked better or worse beyond 5 %.
fn change(baseline: f64, current: f64, better: Better) -> Markup {
    if baseline == 0.0 {
        return html! { td.n { "—" } };
    }
    let relative = (current - baseline) / baseline;
    let improved = (relative > 0.0) == (better == Better::Higher);
    let class = match (relative.abs() < 0.05, improved) {
        (true, _) => "same",
        (false, true) => "better",
        (false, false) => "worse",
    };
    html! { td.n.(class) { (format!("{:+.1} %", 100.0 * relative)) } }
}
