//! Load models and pass/fail criteria against the built-in target, whose
//! `/slow?ms=` and `/status/{code}` give known latencies and failures:
//! thresholds, the open model (`--rate`), stages and the timeline. Counts
//! are asserted, with tolerances a loaded 2-core machine keeps; not timings.

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

/// Runs started (whatever their outcome) and runs dropped.
fn started_and_dropped(run: &Run) -> (u64, u64) {
    let scenarios = &run.json()["scenarios"];
    let started =
        count(&scenarios["ok"]) + count(&scenarios["failed"]) + count(&scenarios["cancelled"]);
    (started, count(&scenarios["dropped"]))
}

#[test]
fn the_open_model_starts_runs_at_the_rate_asked() {
    let server = Server::start();
    let run = run_against(
        &server,
        &guests().suite,
        &["-s", "ok", "--rate", "200", "-d", "5", "-w", "20"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let (started, dropped) = started_and_dropped(&run);
    // 1,000 intended starts; the last may fall on the deadline itself.
    assert!(
        (990..=1000).contains(&(started + dropped)),
        "{started} + {dropped}"
    );
    assert!(started >= 950, "{started} started, {dropped} dropped");
    // The timeline holds every run, second by second.
    let intervals = run.json()["timeline"]["intervals"]
        .as_array()
        .unwrap()
        .clone();
    let in_timeline: u64 = intervals.iter().map(|i| count(&i["ok"])).sum();
    assert_eq!(in_timeline, count(&run.json()["scenarios"]["ok"]));
    assert!(intervals.len() >= 5, "{}", intervals.len());
}

#[test]
fn with_too_few_workers_the_open_model_drops_runs_and_measures_from_the_intended_start() {
    let server = Server::start();
    // Each `slow` run takes 0.3 s: two workers start at most about 7 runs a
    // second of the 50 asked.
    let run = run_against(
        &server,
        &guests().suite,
        &["-s", "slow", "--rate", "50", "-d", "4", "-w", "2"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let (started, dropped) = started_and_dropped(&run);
    assert!(
        (195..=200).contains(&(started + dropped)),
        "{started} + {dropped}"
    );
    assert!((20..=30).contains(&started), "{started} started");
    let json = run.json();
    let (service, response) = (&json["scenarios"]["duration_ms"], &json["response_time_ms"]);
    assert!(service["p50"].as_f64().unwrap() >= 300.0, "{service}");
    assert!(
        response["p50"].as_f64() >= service["p50"].as_f64(),
        "{response} {service}"
    );
    assert!(
        run.stdout.contains("dropped (no free worker)"),
        "{}",
        run.stdout
    );
}

#[test]
fn rate_stages_start_the_runs_their_integral_predicts() {
    let server = Server::start();
    // 10/s rising to 60/s over 2 s (70 runs), then 60/s for 1 s (60 runs).
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-s",
            "ok",
            "--rate",
            "10",
            "--stages",
            "2s:60,1s:60",
            "-w",
            "20",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let (started, dropped) = started_and_dropped(&run);
    assert!(
        (125..=130).contains(&(started + dropped)),
        "{started} + {dropped}"
    );
}

#[test]
fn worker_stages_reach_their_targets_and_end_the_run() {
    let server = Server::start();
    let run = run_against(
        &server,
        &guests().suite,
        &["-s", "paced", "--stages", "1s:3,2s:3,1s:0"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["workers"], 3, "the pool is the highest target");
    let workers: Vec<u64> = json["timeline"]["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| count(&i["workers"]))
        .collect();
    assert_eq!(workers.iter().max(), Some(&3), "{workers:?}");
    let duration = json["duration_s"].as_f64().unwrap();
    assert!((4.0..10.0).contains(&duration), "{duration}");
    // `paced` runs 5 times a second per worker: 3 workers for about 2.5 s.
    let ok = count(&json["scenarios"]["ok"]);
    assert!((20..=60).contains(&ok), "{ok} runs");
}

#[test]
fn processes_divide_the_rate() {
    let server = Server::start();
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-s", "ok", "--rate", "100", "-d", "3", "-w", "10", "-p", "2",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let (started, dropped) = started_and_dropped(&run);
    assert!(
        (290..=300).contains(&(started + dropped)),
        "{started} + {dropped}"
    );
}

#[test]
fn load_model_flags_that_cannot_go_together_are_refused() {
    for (args, why) in [
        (&["--rate", "10", "-r", "5"][..], "--rate with -r"),
        (&["--rate", "10", "--sizing"][..], "--rate with --sizing"),
        (&["--stages", "1s:2", "-w", "4"][..], "-w with --stages"),
        (&["--stages", "1s"][..], "DURATION:TARGET"),
        (&["--rate", "0"][..], "not a rate"),
    ] {
        let mut all = vec!["-s", "ok"];
        all.extend_from_slice(args);
        let run = run(&guests().suite, &all);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{args:?}: {}", run.stderr);
    }
}
