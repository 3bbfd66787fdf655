//! The report's k6 section, for a k6 script: its metrics under k6's names
//! with k6's statistics, its thresholds as the script wrote them, and its
//! checks, as a k6 user looks for them.

use maud::{Markup, html};
use molotov_metrics::Report;

pub(crate) fn section(report: &Report) -> Markup {
    let Some(k6) = &report.k6 else {
        return html! {};
    };
    html! {
        section {
            h2 { "In k6's terms" }
            @if !k6.checks.is_empty() {
                table #k6-checks {
                    tr { th { "" } th { "check" } th.n { "passes" } th.n { "fails" } }
                    @for check in &k6.checks {
                        tr.(if check.fails == 0 { "ok" } else { "failed" }) {
                            td { (if check.fails == 0 { "✓" } else { "✗" }) }
                            td {
                                @for group in check.group().split("::").skip(1) {
                                    (group) " › "
                                }
                                (check.name)
                            }
                            td.n { (check.passes) }
                            td.n { (check.fails) }
                        }
                    }
                }
            }
            table #k6-metrics {
                tr { th { "metric" } th { "type" } th { "values" } th { "thresholds" } }
                @for (name, metric) in &k6.metrics {
                    tr {
                        td { code { (name) } }
                        td { (metric.kind) }
                        td { (metric.shown(&k6.trend_stats)) }
                        td {
                            @for (source, verdict) in &metric.thresholds {
                                span.(if verdict.ok { "ok" } else { "failed" }) {
                                    (if verdict.ok { "✓ " } else { "✗ " }) code { (source) } " "
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
