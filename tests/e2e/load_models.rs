//! Pass/fail criteria (`--threshold`) against the built-in target, whose
//! `/slow?ms=` and `/status/{code}` give known latencies and failures.

use crate::support::*;

fn verdicts(run: &Run) -> Vec<(String, bool)> {
    run.json()["thresholds"]
        .as_array()
        .expect("a thresholds list")
        .iter()
        .map(|v| {
            (
                v["expr"].as_str().unwrap().to_string(),
                v["ok"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn each_kind_of_threshold_passes_or_fails_on_what_the_run_measured() {
    let server = Server::start();
    let thresholds = [
        ("GET /slow: p50 > 150ms", true),
        ("p99 < 100ms", false),
        ("max <= 10s", true),
        ("scenario slow: failed < 1%", true),
        ("scenario slow: count == 4", true),
        ("rps > 100000", false),
        ("errors < 0.1%", true),
    ];
    let mut args = vec!["-s", "slow", "-w", "2", "-r", "2"];
    for (expr, _) in &thresholds {
        args.extend(["--threshold", expr]);
    }
    let run = run_against(&server, &guests().suite, &args);
    assert_eq!(
        run.code,
        Some(1),
        "a failed threshold fails the run: {}",
        run.stderr
    );
    let expected: Vec<(String, bool)> = thresholds
        .iter()
        .map(|(expr, ok)| (expr.to_string(), *ok))
        .collect();
    assert_eq!(verdicts(&run), expected, "{}", run.json());
    assert!(
        run.stdout.contains("✗ p99 < 100ms  (measured 2"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("✓ GET /slow: p50 > 150ms"),
        "{}",
        run.stdout
    );
}

#[test]
fn failed_runs_and_custom_metrics_have_thresholds_too() {
    let server = Server::start();
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-s",
            "server_error",
            "-r",
            "3",
            "--threshold",
            "scenario server_error: failed < 50%",
        ],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.json()["thresholds"][0]["value"], 1.0);
    // The events example counts what its hook saw in custom counters.
    let run = run_against(
        &server,
        &example("rust", "events"),
        &[
            "-w",
            "2",
            "-r",
            "2",
            "--threshold",
            "custom steps: value >= 4",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(
        verdicts(&run),
        [("custom steps: value >= 4".to_string(), true)]
    );
}

#[test]
fn thresholds_come_from_molotov_json_too() {
    let server = Server::start();
    let config = scratch("thresholds.json");
    std::fs::write(
        &config,
        serde_json::json!({"molotov": {"tests": {"gate": {
            "scenario": guests().suite, "single_mode": "ok", "max_runs": 5,
            "thresholds": ["p99 < 5s", "scenario ok: failed < 1%"],
        }}}})
        .to_string(),
    )
    .unwrap();
    let run = run_args(&[
        "gate",
        "--config",
        config.to_str().unwrap(),
        "--target",
        &server.url,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(verdicts(&run).len(), 2);
    assert!(verdicts(&run).iter().all(|(_, ok)| *ok));
}

#[test]
fn a_malformed_threshold_cannot_run_and_an_unknown_name_is_named() {
    let run = run(
        &guests().suite,
        &["-s", "ok", "-r", "1", "--threshold", "p99 < fast"],
    );
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("MEASURE OP VALUE"), "{}", run.stderr);
    assert!(run.json.is_none(), "refused before the run");

    let server = Server::start();
    let run = run_against(
        &server,
        &guests().suite,
        &["-s", "ok", "-r", "1", "--threshold", "GET /x: p95 < 1s"],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let verdict = &run.json()["thresholds"][0];
    assert_eq!(verdict["ok"], false);
    assert!(
        verdict["error"]
            .as_str()
            .unwrap()
            .contains("similar: GET /"),
        "{verdict}"
    );
}

#[test]
fn an_abort_threshold_stops_the_run_when_it_fails() {
    let server = Server::start();
    let started = std::time::Instant::now();
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-s",
            "server_error",
            "-d",
            "60",
            "--threshold",
            "scenario server_error: failed < 1% abort after 1s",
        ],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.json()["stopped_by"], "threshold");
    assert!(started.elapsed().as_secs() < 30, "stopped long before -d");
}
