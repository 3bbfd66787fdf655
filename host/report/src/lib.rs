//! molotov's HTML report: one self-contained page from a run's results, with
//! the run's facts, charts over time, tables per request name and scenario,
//! failures, custom metrics and what the run's connections touched.
//!
//! The page fetches nothing when viewed: the charts are SVG drawn in Rust by
//! `plotters` and inlined, the style is inlined, and a Content-Security-Policy
//! forbids any request. Its size is bounded however long the run or however
//! many request names: charts keep at most [`MAX_POINTS`] points, and the
//! distribution chart the [`DISTRIBUTED_NAMES`] busiest names. Guest-chosen
//! text (names, messages) is escaped by `maud`.

mod charts;
mod compare;
mod egress;
mod page;

pub use page::{Live, render, render_compared};

/// Points per chart line: a longer timeline is merged into fewer, wider intervals.
pub const MAX_POINTS: usize = 1000;

/// Request names drawn in the latency distribution chart (the busiest).
pub const DISTRIBUTED_NAMES: usize = 6;

#[cfg(test)]
mod tests {
    use molotov_metrics::{
        Contacted, Destination, Refused, Report, RequestStats, RunFacts, Slice, StopReason, Tally,
        Timeline, histogram,
    };

    use super::*;

    fn report_of(names: usize, intervals: usize) -> Report {
        let mut tally = Tally::default();
        for index in 0..names {
            let mut latency_us = histogram::new();
            histogram::record(&mut latency_us, 1000 + index as u64);
            let name = format!("GET /users/{index}<script>alert(1)</script>");
            let stats = RequestStats {
                count: 1,
                errors: 0,
                latency_us,
            };
            tally.requests.insert(name, stats);
        }
        let facts = RunFacts {
            component: "hostile<b>.wasm".into(),
            component_sha256: "0".repeat(64),
            flags: String::new(),
            started_at_ms: 0,
            late_s: None,
            shard: None,
            workers: 1,
            processes: 1,
            workers_per_instance: None,
            duration_s: intervals as f64,
            stopped_by: StopReason::Duration,
            sizing: None,
        };
        let mut report = Report::new(facts, &tally);
        let mut timeline = Timeline::new(1.0);
        for second in 1..=intervals {
            let mut slice = Slice {
                requests: 3,
                ..Slice::default()
            };
            histogram::record(&mut slice.latency_us, 1000 * second as u64);
            timeline.push(second as f64, 1.0, slice, 2);
        }
        report.timeline = timeline;
        report
    }

    /// 433 KB here; a one-hour run at one-second intervals with 20 names, 127 KB.
    #[test]
    fn the_page_stays_small_with_ten_thousand_intervals_and_a_thousand_names() {
        let page = render(&report_of(1000, 10_000), None);
        assert!(page.len() < 1_000_000, "{} bytes", page.len());
        assert_eq!(page.matches("<svg").count(), 4);
        assert_eq!(page.matches("data-name=").count(), 1000);
    }

    #[test]
    fn the_egress_manifest_is_shown_with_hostile_host_names_escaped() {
        let mut report = report_of(1, 1);
        let destination = |host: &str, address: &str| Destination {
            scheme: "http".into(),
            host: host.into(),
            address: address.into(),
            port: 80,
        };
        assert!(!render(&report, None).contains("Egress"));
        report.egress.contacted.push(Contacted {
            destination: destination("api.test", "10.1.2.3"),
            connections: 2,
            requests: 1234,
        });
        report.egress.refused.push(Refused {
            destination: destination("<i>m</i>.test", "169.254.169.254"),
            rule: "cloud-metadata".into(),
            count: 3,
        });
        let page = render(&report, None);
        assert!(page.contains("Refused by the egress policy"));
        assert!(page.contains("1,234") && page.contains("10.1.2.3"));
        assert!(page.contains("cloud-metadata") && page.contains("&lt;i&gt;m"));
    }

    #[test]
    fn guest_chosen_text_cannot_script_the_page() {
        let page = render(&report_of(3, 5), None);
        assert!(!page.contains("<script"), "a guest's name became markup");
        assert!(!page.contains("<b>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let live = render(&report_of(3, 5), Some(Live { every_ms: 1000 }));
        assert_eq!(
            live.matches("<script").count(),
            1,
            "only the page's own poller"
        );
    }
}
