//! Charts as the page shows them: a chart under its caption with its legend,
//! and the latency distribution chart the page and its comparison share.

use hdrhistogram::Histogram;
use maud::{Markup, PreEscaped, html};

use crate::charts::{Chart, Line, XAxis};

/// A chart under its caption, with its legend in a row below it, where it
/// hides no line.
pub(crate) fn figure(caption: &str, chart: Chart) -> Markup {
    html! {
        figure {
            figcaption { (caption) }
            @match chart.svg() {
                Ok(svg) => div.chart { (PreEscaped(svg)) },
                Err(why) => p.error { "chart not drawn: " (why) },
            }
            ul.legend {
                @for (label, c) in chart.labels() {
                    li { span.swatch style=(format!("background: rgb({}, {}, {})", c.0, c.1, c.2)) {} code { (label) } }
                }
            }
        }
    }
}

/// Latency distributions side by side: the share of requests in each of
/// 40 buckets, spaced logarithmically from the fastest to the slowest.
pub(crate) fn distribution_chart(caption: &str, histograms: &[(String, Histogram<u64>)]) -> Markup {
    let histograms: Vec<_> = histograms.iter().filter(|(_, h)| !h.is_empty()).collect();
    if histograms.is_empty() {
        return html! {};
    }
    // The fastest and the slowest of them all, in microseconds.
    let (low, high) = (histograms.iter()).fold((u64::MAX, 0), |(low, high), (_, h)| {
        (low.min(h.min()), high.max(h.max()))
    });
    let (low, high) = (low.max(1) as f64, high.max(2) as f64);
    const BUCKETS: usize = 40;
    let edge = |i: usize| low * (high / low).powf(i as f64 / BUCKETS as f64);
    let lines = (histograms.iter())
        .map(|(name, h)| {
            let total = h.len() as f64;
            let points = (1..=BUCKETS)
                .map(|i| {
                    let (from, to) = (edge(i - 1), edge(i));
                    let inside = h.count_between(from as u64 + u64::from(i > 1), to as u64);
                    (to / 1000.0, 100.0 * inside as f64 / total)
                })
                .collect();
            Line {
                label: name.clone(),
                points,
            }
        })
        .collect();
    let chart = Chart {
        x: XAxis::LogMs,
        y_label: "% of requests",
        x_range: None,
        lines,
    };
    figure(caption, chart)
}
