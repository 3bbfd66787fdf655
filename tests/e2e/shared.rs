//! Many workers per instance (`--workers-per-instance`): each worker keeps
//! its own session, id and step; a trap replaces the instance, not the run.

use crate::support::*;

/// 500 workers, 4 instances of 125 (on 2 cores): every worker is sent only the
/// cookie it set, and sees its own id and steps after each `await`.
#[test]
fn five_hundred_workers_on_shared_instances_keep_their_own_cookies_and_ids() {
    let server = Server::start();
    let guest = workspace().join("tests/guests/shared/own_cookies.py");
    let run = run_against(&server, &guest, &["-w", "500", "-r", "3", "-q"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["scenarios"]["failed"], 0, "{}", json["scenarios"]);
    assert_eq!(json["scenarios"]["ok"], 1500);
    assert_eq!(json["requests"]["count"], 2000);
    let counters = json["custom"]["counters"].as_object().expect("counters");
    for worker in 0..500 {
        assert_eq!(counters[&format!("runs.{worker}")], 3, "worker {worker}");
        assert_eq!(counters[&format!("steps.{worker}")], 6, "worker {worker}");
    }
}

/// The same in Rust: `async fn` runs, with a `sleep_async` among their
/// requests, on instances of 100 workers.
#[test]
fn async_rust_runs_on_shared_instances_keep_their_own_cookies_and_ids() {
    let server = Server::start();
    let flags = ["-s", "async_own_cookie", "-w", "300", "-r", "3", "-q"];
    let run = run_against(
        &server,
        &guests().suite,
        &[&flags[..], &["--workers-per-instance", "100"]].concat(),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["workers_per_instance"], 100);
    assert_eq!(json["scenarios"]["failed"], 0, "{}", json["scenarios"]);
    assert_eq!(json["scenarios"]["ok"], 900);
    assert_eq!(json["requests"]["count"], 1200);
    let counters = json["custom"]["counters"].as_object().expect("counters");
    for worker in 0..300 {
        assert_eq!(counters[&format!("runs.{worker}")], 3, "worker {worker}");
        assert_eq!(counters[&format!("steps.{worker}")], 6, "worker {worker}");
    }
}

/// An async run that awaits what nothing wakes fails, saying so, rather
/// than hanging a run bounded only by `-r`: on an instance of its own (one
/// poll shows it), and on a shared one (the host has nothing in flight for
/// it and the guest no timer).
#[test]
fn an_async_rust_run_awaiting_nothing_fails_with_a_reason() {
    let placements: [(&[&str], &str, u64); 2] = [
        (&[], "awaited something other than", 2),
        (
            &["-w", "4", "--workers-per-instance", "4"],
            "awaited something that nothing would complete",
            8,
        ),
    ];
    for (placement, reason, runs) in placements {
        let flags = [&["-s", "async_awaits_nothing", "-r", "2"][..], placement].concat();
        let run = run(&guests().suite, &flags);
        assert_eq!(run.code, Some(0), "{placement:?}: {}", run.stderr);
        let json = run.json();
        assert_eq!(json["scenarios"]["failed"], runs, "{}", json["scenarios"]);
        let failures = json["scenarios"]["by_name"]["async_awaits_nothing"]["failures"].to_string();
        assert!(failures.contains(reason), "{placement:?}: {failures}");
    }
}

/// Worker 0's second run breaks its instance (past `--max-memory`): the
/// runs in flight on it fail with the reason, the instance is replaced, and
/// every worker still makes its runs.
#[test]
fn a_trap_in_one_worker_of_a_shared_instance_fails_only_the_runs_in_flight() {
    let server = Server::start();
    let guest = workspace().join("tests/guests/shared/memory_trap.py");
    let run = run_against(
        &server,
        &guest,
        &[
            "-w",
            "8",
            "-r",
            "5",
            "--workers-per-instance",
            "8",
            "--max-memory",
            "64",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    let scenarios = &json["scenarios"];
    let failed = count(&scenarios["failed"]);
    assert!((1..=8).contains(&failed), "{scenarios}");
    assert_eq!(count(&scenarios["ok"]) + failed, 40, "{scenarios}");
    assert!(
        run.stdout
            .contains("guest exceeded its memory limit of 64 MiB"),
        "{}",
        run.stdout
    );
}

/// A component whose scenarios are all async shares instances unless told;
/// one whose scenarios wait in place (plain functions) keeps an instance
/// per worker unless told, and forced to share still runs. The results say
/// which.
#[test]
fn workers_per_instance_follows_the_component() {
    let server = Server::start();
    let shares = |language, name, flags: &[&str], expected: u32| {
        let run = run_against(
            &server,
            &example(language, name),
            &[&["-w", "4", "-r", "5"], flags].concat(),
        );
        assert_eq!(run.code, Some(0), "{language} {name}: {}", run.stderr);
        let json = run.json();
        assert_eq!(json["scenarios"]["ok"], 20, "{language} {name}: {json}");
        assert_eq!(json["workers_per_instance"], expected, "{language} {name}");
    };
    shares("rust", "hello", &[], 128);
    shares("rust", "read-write", &[], 1);
    shares("js", "hello", &[], 128);
    // Forced to share, plain-function scenarios still run, one at a time.
    shares("js", "read-write", &["--workers-per-instance", "4"], 4);
    shares("rust", "read-write", &["--workers-per-instance", "4"], 4);
}

/// Ctrl+C stops a run of shared instances as it stops any other: the runs
/// in flight end, the results say `interrupted`, well before `-d`.
#[test]
fn ctrl_c_stops_workers_on_shared_instances() {
    let server = Server::start();
    let guest = build(
        &workspace().join("tests/guests/shared/own_cookies.py"),
        "shared-own-cookies",
    );
    // Compiled (and cached) first: the interrupt must find the run going.
    let warm = run_against(&server, &guest, &["-r", "1", "-q"]);
    assert_eq!(warm.code, Some(0), "{}", warm.stderr);
    let target = format!("--target={}", server.url);
    let run = run_interrupted(
        &guest,
        &["-w", "100", "-d", "60", "-q", &target],
        std::time::Duration::from_secs(4),
    );
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["stopped_by"], "interrupted", "{json}");
    assert!(
        json["duration_s"].as_f64().expect("duration") < 30.0,
        "{json}"
    );
    assert!(count(&json["scenarios"]["ok"]) > 0, "{json}");
    assert_eq!(json["scenarios"]["failed"], 0, "{json}");
}
