//! `--junit PATH`: a run's verdicts as JUnit XML, the format the test
//! reporters of Jenkins, GitLab and GitHub read. The run itself, each
//! threshold and each scenario is a test case; what failed says why.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::Context;
use molotov_metrics::{Report, StopReason};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

/// How many of a scenario's distinct failure messages a test case lists.
const LISTED_FAILURES: usize = 20;

/// A test case: its class (`molotov.run`, `…threshold`, `…scenario`), name,
/// time and, when it did not pass, why.
struct Case {
    class: &'static str,
    name: String,
    seconds: f64,
    outcome: Option<(Kind, String, String)>,
}

/// A failure (the run or a verdict failed) or an error (it could not be judged).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Failure,
    Error,
}

/// Writes the report of a run (`failed`: `-x`, `-f` or a threshold failed it).
pub fn write(report: &Report, failed: bool, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, render(report, failed))
        .with_context(|| format!("cannot write the JUnit report to {}", path.display()))
}

fn render(report: &Report, failed: bool) -> String {
    let cases = cases(report, failed);
    let count = |kind| {
        let n = cases
            .iter()
            .filter(|c| matches!(&c.outcome, Some((k, ..)) if *k == kind));
        n.count().to_string()
    };
    let (tests, failures, errors) = (
        cases.len().to_string(),
        count(Kind::Failure),
        count(Kind::Error),
    );
    let time = format!("{:.3}", report.duration_s);
    let suite = format!("molotov run {}", report.component);
    let timestamp =
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(report.started_at_ms))
            .to_string();
    let mut xml = Writer::new_with_indent(Vec::new(), b' ', 2);
    let written: std::io::Result<()> = (|| {
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        xml.create_element("testsuites")
            .with_attributes([
                ("name", "molotov"),
                ("tests", tests.as_str()),
                ("failures", failures.as_str()),
                ("errors", errors.as_str()),
                ("time", time.as_str()),
            ])
            .write_inner_content(|xml| {
                xml.create_element("testsuite")
                    .with_attributes([
                        ("name", text(&suite).as_str()),
                        ("tests", tests.as_str()),
                        ("failures", failures.as_str()),
                        ("errors", errors.as_str()),
                        ("skipped", "0"),
                        ("time", time.as_str()),
                        ("timestamp", timestamp.as_str()),
                    ])
                    .write_inner_content(|xml| {
                        properties(xml, report)?;
                        for case in &cases {
                            write_case(xml, case)?;
                        }
                        xml.create_element("system-out")
                            .write_text_content(BytesText::new(&text(&report.summary())))?;
                        Ok(())
                    })?;
                Ok(())
            })?;
        Ok(())
    })();
    written.expect("writing to memory cannot fail");
    String::from_utf8(xml.into_inner()).expect("UTF-8 in, UTF-8 out") + "\n"
}

fn properties(xml: &mut Writer<Vec<u8>>, report: &Report) -> std::io::Result<()> {
    let properties = [
        ("molotov.version", report.molotov_version.clone()),
        ("component", report.component.clone()),
        ("component.sha256", report.component_sha256.clone()),
        ("flags", report.flags.clone()),
        ("stopped_by", report.stopped_by.name()),
        ("workers", report.workers.to_string()),
        ("requests", report.requests.count.to_string()),
        ("requests.errors", report.requests.errors.to_string()),
        (
            "requests.per_second",
            format!("{:.1}", report.requests.per_second),
        ),
        ("latency.p99_ms", format!("{:.2}", report.latency_ms.p99)),
    ];
    xml.create_element("properties")
        .write_inner_content(|xml| {
            for (name, value) in &properties {
                xml.create_element("property")
                    .with_attributes([("name", *name), ("value", text(value).as_str())])
                    .write_empty()?;
            }
            Ok(())
        })
        .map(drop)
}

fn write_case(xml: &mut Writer<Vec<u8>>, case: &Case) -> std::io::Result<()> {
    let time = format!("{:.3}", case.seconds);
    let element = xml.create_element("testcase").with_attributes([
        ("classname", case.class),
        ("name", text(&case.name).as_str()),
        ("time", time.as_str()),
    ]);
    let Some((kind, message, details)) = &case.outcome else {
        element.write_empty()?;
        return Ok(());
    };
    element
        .write_inner_content(|xml| {
            let tag = match kind {
                Kind::Failure => "failure",
                Kind::Error => "error",
            };
            xml.create_element(tag)
                .with_attributes([("message", text(message).as_str()), ("type", case.class)])
                .write_text_content(BytesText::new(&text(details)))?;
            Ok(())
        })
        .map(drop)
}

/// The run, its thresholds and its scenarios as test cases.
fn cases(report: &Report, failed: bool) -> Vec<Case> {
    let mut cases = vec![run_case(report, failed)];
    for verdict in &report.thresholds {
        let outcome = match (&verdict.error, verdict.ok, verdict.value) {
            (Some(error), ..) => Some((Kind::Error, error.clone(), error.clone())),
            (None, true, _) => None,
            (None, false, value) => {
                let measured = value.map_or_else(|| "nothing".into(), |v| format!("{v}"));
                let message = format!("{}: measured {measured}", verdict.expr);
                Some((Kind::Failure, message.clone(), message))
            }
        };
        cases.push(Case {
            class: "molotov.threshold",
            name: verdict.expr.clone(),
            seconds: 0.0,
            outcome,
        });
    }
    for (name, scenario) in &report.scenarios.by_name {
        let runs = scenario.ok + scenario.failed;
        let outcome = (scenario.failed > 0).then(|| {
            let message = format!("{} of {runs} runs failed", scenario.failed);
            let mut listed: Vec<_> = scenario.failures.iter().collect();
            listed.sort_by(|a, b| b.1.cmp(a.1));
            let details = listed
                .iter()
                .take(LISTED_FAILURES)
                .map(|(message, count)| format!("{count} × {message}"))
                .collect::<Vec<_>>()
                .join("\n");
            (Kind::Failure, message, details)
        });
        cases.push(Case {
            class: "molotov.scenario",
            name: name.clone(),
            seconds: scenario.duration_ms.mean * runs as f64 / 1000.0,
            outcome,
        });
    }
    cases
}

/// The run as a whole: it fails as the exit code does (but for an unjudged
/// threshold, an error of its own test case).
fn run_case(report: &Report, failed: bool) -> Case {
    let why = if report.reached_no_server() {
        Some("no request of the run reached a server".to_string())
    } else if report.stopped_by == StopReason::Interrupted {
        Some("interrupted (Ctrl+C) before its end".to_string())
    } else if failed {
        let thresholds = report.thresholds.iter().filter(|v| !v.ok).count();
        Some(match report.stopped_by {
            StopReason::Exception
            | StopReason::FailLimit
            | StopReason::SetupFailed
            | StopReason::Threshold
            | StopReason::Aborted => {
                format!("the run failed: stopped by {}", report.stopped_by.name())
            }
            _ if thresholds > 0 => format!("the run failed: {thresholds} threshold(s) not met"),
            _ => format!(
                "the run failed: {} run(s) failed (-x or -f)",
                report.scenarios.failed
            ),
        })
    } else {
        None
    };
    Case {
        class: "molotov.run",
        name: "run".into(),
        seconds: report.duration_s,
        outcome: why.map(|why| (Kind::Failure, why.clone(), report.summary())),
    }
}

/// Text as XML 1.0 can hold it: characters it forbids (a guest's control
/// bytes, say) become U+FFFD.
fn text(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' => c,
            c if c >= '\u{10000}' => c,
            _ => '\u{FFFD}',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn text_xml_cannot_hold_is_replaced() {
        assert_eq!(text("ok\tline\n<b>"), "ok\tline\n<b>");
        assert_eq!(text("bell\u{7}nul\u{0}"), "bell\u{FFFD}nul\u{FFFD}");
        assert_eq!(text("\u{FFFE}🙂"), "\u{FFFD}🙂");
    }
}
