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
mod figures;
mod format;
mod k6;
mod page;

pub use page::{DISTRIBUTED_NAMES, Live, MAX_POINTS, render, render_compared};

#[cfg(test)]
mod tests {
    use molotov_metrics::{
        Contacted, Destination, K6Script, K6Threshold, Refused, Report, RequestStats, RunFacts,
        Slice, StopReason, Tally, Timeline, histogram,
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
            bytes_sent: 98_765,
            bytes_received: 4_321_000,
        });
        report.egress.refused.push(Refused {
            destination: destination("<i>m</i>.test", "169.254.169.254"),
            rule: "cloud-metadata".into(),
            count: 3,
        });
        let page = render(&report, None);
        assert!(page.contains("Refused by the egress policy"));
        assert!(page.contains("1,234") && page.contains("10.1.2.3"));
        assert!(page.contains("99 kB") && page.contains("4.3 MB"));
        assert!(page.contains("cloud-metadata") && page.contains("&lt;i&gt;m"));
    }

    #[test]
    fn a_k6_scripts_results_show_in_its_terms_with_its_names_escaped() {
        let mut report = report_of(1, 1);
        assert!(!render(&report, None).contains("In k6's terms"));
        report
            .custom
            .counters
            .insert("check <b>ok</b>: passed".into(), 3);
        report.custom.counters.insert("checks: true".into(), 3);
        let thresholds = [K6Threshold {
            metric: "checks".into(),
            source: "rate>0.99".into(),
            expr: "custom checks: rate > 0.99".into(),
        }];
        let script = K6Script {
            thresholds: thresholds.to_vec(),
            ..K6Script::default()
        };
        report.judge(
            &["custom checks: rate > 0.99".parse().expect("a threshold")],
            &Tally {
                counters: report.custom.counters.clone(),
                ..Tally::default()
            },
            Some(&script),
        );
        let page = render(&report, None);
        assert!(page.contains("In k6's terms") && page.contains("http_req_duration"));
        assert!(page.contains("&lt;b&gt;ok&lt;/b&gt;") && !page.contains("<b>ok"));
        assert!(page.contains("✓ <code>rate&gt;0.99</code>"), "{page}");
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

    /// The page's figures: caption, SVG and the labels of the legend row under it.
    fn figures(page: &str) -> Vec<(&str, &str, Vec<&str>)> {
        (page.split("<figure>").skip(1))
            .map(|figure| {
                let figure = &figure[..figure.find("</figure>").unwrap()];
                let caption = between(figure, "<figcaption>", "</figcaption>")[0];
                let svg = between(figure, "<svg", "</svg>")[0];
                let after = &figure[figure.find("</svg>").unwrap()..];
                (caption, svg, between(after, "<code>", "</code>"))
            })
            .collect()
    }

    fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
        (text.split(open).skip(1))
            .map(|part| &part[..part.find(close).unwrap()])
            .collect()
    }

    /// The text an SVG shows (tick labels, axis descriptions, any legend).
    fn texts(svg: &str) -> Vec<&str> {
        (between(svg, "<text", "</text>").into_iter())
            .map(|text| text[text.find('>').unwrap() + 1..].trim())
            .collect()
    }

    /// The chart's lines (drawn 2 px wide, the axes 1 px), as points.
    fn series(svg: &str) -> Vec<Vec<(f64, f64)>> {
        polylines(svg, "stroke-width=\"2\"")
    }

    fn polylines(svg: &str, with: &str) -> Vec<Vec<(f64, f64)>> {
        (between(svg, "<polyline", "/>").into_iter())
            .filter(|polyline| polyline.contains(with))
            .map(|polyline| {
                let points = between(polyline, "points=\"", "\"")[0];
                (points.split_whitespace())
                    .map(|point| {
                        let (x, y) = point.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    fn chart<'a>(page: &'a str, caption: &str) -> &'a str {
        let figures = figures(page);
        (figures.iter().find(|f| f.0.starts_with(caption)))
            .unwrap_or_else(|| panic!("no {caption} chart"))
            .1
    }

    #[test]
    fn legends_sit_in_a_row_under_every_chart_not_over_its_lines() {
        let page = render(&report_of(3, 5), None);
        let figures = figures(&page);
        assert_eq!(figures.len(), 4);
        for (caption, svg, legend) in &figures {
            assert!(!legend.is_empty(), "{caption}: no legend");
            let texts = texts(svg);
            for label in legend
                .iter()
                .filter(|l| !l.starts_with("requests") && **l != "workers")
            {
                let label = label.replace("&lt;", "_").replace("&gt;", "_");
                assert!(
                    !texts
                        .iter()
                        .any(|t| label.starts_with(t.trim_end_matches('…'))),
                    "{caption}: {label} drawn in the chart"
                );
            }
        }
        let legends = |caption: &str| figures.iter().find(|f| f.0 == caption).unwrap().2.clone();
        assert_eq!(
            legends("Requests per second"),
            ["requests/s", "errors/s", "failed runs/s"]
        );
        assert_eq!(legends("Latency"), ["p50", "p90", "p99"]);
    }

    #[test]
    fn the_distribution_legend_is_shown_once() {
        let page = render(&report_of(2, 3), None);
        let figure = figures(&page).into_iter().last().unwrap();
        assert!(figure.0.starts_with("Latency distribution"));
        assert_eq!(figure.2.len(), 2);
        let whole = &page[page.rfind("<figure>").unwrap()..];
        assert_eq!(whole.matches("GET /users/0").count(), 1, "{whole}");
        assert_eq!(whole.matches("GET /users/1").count(), 1);
    }

    /// The last sample of a run is taken once its workers stopped.
    fn with_closing_interval(report: &mut Report, requests: u64) {
        let slice = Slice {
            requests,
            ..Slice::default()
        };
        let end_s = report.timeline.intervals.last().unwrap().end_s + 1.0;
        report.timeline.push(end_s, 1.0, slice, 0);
    }

    #[test]
    fn the_closing_interval_shows_the_workers_active_in_it_not_a_ramp_down() {
        let mut report = report_of(1, 4);
        with_closing_interval(&mut report, 3);
        let page = render(&report, None);
        let workers = &series(chart(&page, "Active workers"))[0];
        assert_eq!(workers.len(), 5);
        assert!(workers.iter().all(|p| p.1 == workers[0].1), "{workers:?}");
        // A last interval without a request or a run had no worker: 0 stays.
        let mut report = report_of(1, 4);
        with_closing_interval(&mut report, 0);
        let page = render(&report, None);
        let workers = &series(chart(&page, "Active workers"))[0];
        assert!(
            workers[4].1 > workers[3].1,
            "{workers:?} (y grows downwards)"
        );
    }

    #[test]
    fn time_charts_start_with_their_first_interval() {
        let page = render(&report_of(1, 5), None);
        for caption in ["Requests per second", "Latency", "Active workers"] {
            let svg = chart(&page, caption);
            // The x axis: the longest horizontal 1 px line.
            let axis = (polylines(svg, "stroke-width=\"1\"").into_iter())
                .filter(|l| l.len() == 2 && l[0].1 == l[1].1)
                .max_by(|a, b| (a[1].0 - a[0].0).total_cmp(&(b[1].0 - b[0].0)))
                .unwrap();
            for line in series(svg) {
                assert!(
                    (line[0].0 - axis[0].0).abs() <= 1.0,
                    "{caption}: {line:?} {axis:?}"
                );
            }
            assert!(texts(svg).contains(&"1"), "{caption}: no tick at the start");
        }
    }

    #[test]
    fn tick_labels_read_as_people_write_numbers() {
        let mut report = report_of(1, 5);
        for interval in &mut report.timeline.intervals {
            interval.requests = 70_000;
        }
        let page = render(&report, None);
        let rates = texts(chart(&page, "Requests per second"));
        assert!(rates.contains(&"70k") && rates.contains(&"0"), "{rates:?}");
        for (caption, svg, _) in figures(&page) {
            for text in texts(svg) {
                assert!(!text.ends_with(".0"), "{caption}: {text}");
            }
        }
        assert!(texts(chart(&page, "Latency")).contains(&"latency (ms)"));
        assert!(texts(chart(&page, "Active workers")).contains(&"time (s)"));
    }

    #[test]
    fn a_report_without_the_components_hash_has_no_blank_row() {
        let mut report = report_of(1, 1);
        assert!(render(&report, None).contains(&"0".repeat(64)));
        report.component_sha256.clear();
        let live = render(&report, Some(Live { every_ms: 1000 }));
        assert!(!live.contains("SHA-256"), "a blank SHA-256 row");
    }
}
