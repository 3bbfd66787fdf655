//! `--junit`: the report CI test reporters read, validated against Jenkins'
//! JUnit schema by `xmllint` (both installed by `tests/toolchains.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Server, guests, run_against, scratch};

fn schema() -> PathBuf {
    // Beside molotov's own cache, where tests/toolchains.sh puts it.
    let molotov_cache = molotov_runtime::default_cache_dir().expect("HOME is set");
    let cache = molotov_cache.parent().expect("a cache directory");
    let schema = cache.join("molotov-tests").join("junit-10.xsd");
    assert!(
        schema.is_file(),
        "{} is missing: run tests/toolchains.sh",
        schema.display()
    );
    schema
}

/// Validates `report` with `xmllint --schema`, and returns its text.
fn validated(report: &Path) -> String {
    let checked = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema())
        .arg(report)
        .output()
        .expect("xmllint runs (run tests/toolchains.sh)");
    assert!(
        checked.status.success(),
        "{} is not valid JUnit XML: {}",
        report.display(),
        String::from_utf8_lossy(&checked.stderr)
    );
    std::fs::read_to_string(report).expect("the JUnit report")
}

#[test]
fn junit_reports_the_run_its_thresholds_and_scenarios_in_the_schema_ci_reads() {
    let server = Server::start();
    let passing = scratch("passing.xml");
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-s",
            "ok",
            "-r",
            "3",
            "--threshold",
            "p99 < 60s",
            "--junit",
            passing.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let xml = validated(&passing);
    assert!(
        xml.contains(r#"<testsuites name="molotov" tests="3" failures="0" errors="0""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase classname="molotov.threshold" name="p99 &lt; 60s""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase classname="molotov.scenario" name="ok""#),
        "{xml}"
    );

    let failing = scratch("failing.xml");
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-s",
            "server_error",
            "-r",
            "2",
            "--threshold",
            "scenario server_error: failed < 1%",
            "--threshold",
            "GET /nowhere: p99 < 1s",
            "--junit",
            failing.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(
        run.code,
        Some(2),
        "an unjudged threshold; stderr: {}",
        run.stderr
    );
    let xml = validated(&failing);
    assert!(
        xml.contains(r#"tests="4" failures="3" errors="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure message="2 of 2 runs failed" type="molotov.scenario">2 × "#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure message="scenario server_error: failed &lt; 1%: measured"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<error message="#), "{xml}");
    assert!(
        xml.contains(r#"<failure message="the run failed: 2 threshold(s) not met""#),
        "{xml}"
    );
}
