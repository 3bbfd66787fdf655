//! Molotov's fixtures and events: their order, their payloads, and what runs after a stop.

use crate::support::{Run, Server, count, guests, run, run_against};

fn lifecycle(server: &Server, args: &[&str]) -> Run {
    run_against(server, &guests().lifecycle, args)
}

/// The fixture and scenario lines one label printed, events left out.
fn steps<'a>(run: &'a Run, label: &str) -> Vec<&'a str> {
    run.printed_by(label)
        .into_iter()
        .filter(|line| !line.starts_with("event "))
        .collect()
}

#[test]
fn fixtures_run_in_order_around_an_ordered_sequence() {
    let server = Server::start();
    let run = lifecycle(&server, &["-w", "2", "-r", "3", "--env", "WORKERS=2"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(
        steps(&run, "global"),
        ["global-setup", "vars: 0 1", "global-teardown"]
    );
    for worker in ["W:0", "W:1"] {
        assert_eq!(
            steps(&run, worker),
            [
                "setup",
                "setup-session",
                "run first step 1",
                "run second step 2",
                "run first step 3",
                "teardown-session",
                "teardown",
            ],
            "{worker}"
        );
    }
    let lines: Vec<&str> = run.stderr.lines().collect();
    let position = |line: &str| lines.iter().position(|l| *l == line);
    let first_setup = position("[W:0] setup").min(position("[W:1] setup"));
    assert!(position("[global] global-setup") < first_setup);
    assert!(
        position("[W:0] teardown").max(position("[W:1] teardown"))
            < position("[global] global-teardown")
    );
    assert_eq!(count(&run.json()["scenarios"]["ok"]), 6);
}

#[test]
fn events_arrive_with_their_payloads() {
    let server = Server::start();
    let run = lifecycle(&server, &["-w", "1", "-r", "2"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let printed = run.printed_by("W:0");
    let events: Vec<&str> = printed
        .iter()
        .copied()
        .filter(|line| line.starts_with("event "))
        .collect();
    assert_eq!(events.len(), 6, "{events:?}");
    assert_eq!(events[0], "event scenario-start first W0");
    assert_eq!(events[1], "event sending-request GET / W0");
    let received = format!("event response-received GET {}/ 200 ", server.url);
    assert!(events[2].starts_with(&received), "{}", events[2]);
    assert!(events[2].ends_with("us W0"), "{}", events[2]);
    assert_eq!(events[3], "event scenario-success first W0");
    assert_eq!(events[4], "event scenario-start second W0");
    assert_eq!(events[5], "event scenario-success second W0");
    // Events come after the run that caused them, never inside it.
    let run_first = printed.iter().position(|l| *l == "run first step 1");
    assert!(run_first < printed.iter().position(|l| *l == events[0]));
}

#[test]
fn a_picked_name_that_is_not_a_scenario_is_a_picker_failure() {
    let server = Server::start();
    let run = lifecycle(&server, &["-w", "1", "-r", "3", "--env", "PICK_MISSING=1"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let picker = &run.json()["scenarios"]["by_name"]["(picker)"];
    assert_eq!(count(&picker["failed"]), 3, "{picker}");
    assert_eq!(count(&run.json()["requests"]["count"]), 0);
    let failures = &picker["failures"]["picked \"missing\", which is not a scenario"];
    assert_eq!(count(failures), 3, "{picker}");
}

#[test]
fn current_workers_is_sent_about_once_a_second() {
    let server = Server::start();
    let run = lifecycle(&server, &["-w", "3", "-d", "2.5", "--delay", "0.2"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let reports: Vec<&str> = run
        .printed_by("global")
        .into_iter()
        .filter(|line| line.starts_with("event current-workers"))
        .collect();
    assert!((1..=4).contains(&reports.len()), "{reports:?}");
    assert!(reports.contains(&"event current-workers 3"), "{reports:?}");
}

#[test]
fn teardowns_run_after_a_stop_and_failures_carry_their_message() {
    let server = Server::start();
    let run = lifecycle(&server, &["-s", "fail", "-x", "-w", "2", "-d", "30"]);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert_eq!(run.json()["stopped_by"], "exception");
    // A worker may not have started before the first failure stopped the run.
    for worker in ["W:0", "W:1"] {
        let steps = steps(&run, worker);
        if steps.contains(&"setup") {
            assert_eq!(
                steps[steps.len() - 2..],
                ["teardown-session", "teardown"],
                "{worker}"
            );
        }
    }
    assert!(steps(&run, "W:0").contains(&"teardown") || steps(&run, "W:1").contains(&"teardown"));
    assert_eq!(steps(&run, "global").last(), Some(&"global-teardown"));
    let failure_seen = |w: u32| {
        run.stderr.contains(&format!(
            "[W:{w}] event scenario-failure fail W{w}: planned failure"
        ))
    };
    assert!(failure_seen(0) || failure_seen(1), "{}", run.stderr);
}

#[test]
fn a_failing_global_setup_runs_nothing_else() {
    let server = Server::start();
    let run = lifecycle(&server, &["-r", "1", "--env", "FAIL=global-setup"]);
    run.assert_cannot_run("global-setup failed: global-setup failed on request");
    assert!(steps(&run, "W:0").is_empty(), "{}", run.stderr);
    assert_eq!(steps(&run, "global"), ["global-setup"]);
}

#[test]
fn a_failing_setup_stops_the_run_and_global_teardown_still_runs() {
    let server = Server::start();
    let run = lifecycle(&server, &["-w", "2", "-d", "30", "--env", "FAIL=setup"]);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert_eq!(run.json()["stopped_by"], "setup-failed");
    assert_eq!(count(&run.json()["scenarios"]["ok"]), 0);
    assert!(run.stderr.contains("setup failed: setup failed on request"));
    assert_eq!(steps(&run, "global").last(), Some(&"global-teardown"));
}

#[test]
fn failing_teardowns_are_reported_not_fatal() {
    let server = Server::start();
    let run = lifecycle(&server, &["-r", "2", "--env", "FAIL=teardown"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("[W:0] teardown failed: teardown failed on request")
    );
    assert_eq!(steps(&run, "global").last(), Some(&"global-teardown"));
}

/// A hook that sleeps (on the runs' events and on current-workers) holds
/// up neither `-d` nor `--graceful-stop`.
#[test]
fn a_sleeping_event_hook_cannot_outlast_the_graceful_stop() {
    let server = Server::start();
    let run = lifecycle(
        &server,
        &[
            "-s",
            "second",
            "-d",
            "1.5",
            "--graceful-stop",
            "0.5",
            "--env",
            "FAIL=slow-hook",
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    // Well under the hook's 60 s sleep: -d, the grace period, and at most a
    // period of the current-workers hook with its instance's replacement.
    let duration = json["duration_s"].as_f64().expect("duration");
    assert!(duration < 10.0, "{json}");
    assert_eq!(json["stopped_by"], "duration");
    assert!(
        run.stderr.contains("current-workers: took over 1s"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_broken_event_hook_fails_the_run_once() {
    let server = Server::start();
    let run = lifecycle(
        &server,
        &["-s", "second", "-r", "3", "--env", "FAIL=events"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let scenarios = &run.json()["scenarios"];
    assert_eq!(count(&scenarios["ok"]), 0, "{scenarios}");
    assert_eq!(count(&scenarios["failed"]), 3, "{scenarios}");
    let by_name = scenarios["by_name"].as_object().expect("by_name");
    assert_eq!(
        by_name.keys().collect::<Vec<_>>(),
        ["second"],
        "no (events) runs"
    );
    let failures = by_name["second"]["failures"].to_string();
    assert!(failures.contains("the event hook broke"), "{failures}");
}

#[test]
fn runs_in_flight_finish_at_the_deadline_unless_forced() {
    let server = Server::start();
    let graceful = lifecycle(&server, &["-s", "slow", "-w", "2", "-d", "1"]);
    assert_eq!(graceful.code, Some(0), "stderr: {}", graceful.stderr);
    assert_eq!(count(&graceful.json()["scenarios"]["ok"]), 2);
    assert_eq!(count(&graceful.json()["scenarios"]["cancelled"]), 0);
    assert!(graceful.json()["duration_s"].as_f64().expect("duration") >= 3.0);

    let forced = lifecycle(
        &server,
        &["-s", "slow", "-w", "2", "-d", "1", "--force-shutdown"],
    );
    assert_eq!(forced.code, Some(0), "stderr: {}", forced.stderr);
    let json = forced.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 0);
    assert_eq!(count(&json["scenarios"]["cancelled"]), 2);
    assert_eq!(json["stopped_by"], "duration");
    assert!(json["duration_s"].as_f64().expect("duration") < 2.5);
    assert!(!forced.stderr.contains("slow done"));
    for worker in ["W:0", "W:1"] {
        assert_eq!(steps(&forced, worker).last(), Some(&"teardown"), "{worker}");
    }
    assert_eq!(steps(&forced, "global").last(), Some(&"global-teardown"));
}

#[test]
fn runs_in_flight_get_the_graceful_stop_then_are_cancelled() {
    let server = Server::start();
    let bounded = lifecycle(
        &server,
        &[
            "-s",
            "slow",
            "-w",
            "2",
            "-d",
            "1",
            "--graceful-stop",
            "0.5",
            "--env",
            "CHECK_SESSION=1",
        ],
    );
    assert_eq!(bounded.code, Some(0), "stderr: {}", bounded.stderr);
    let json = bounded.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 0);
    assert_eq!(count(&json["scenarios"]["cancelled"]), 2);
    assert_eq!(json["stopped_by"], "duration");
    assert!(json["duration_s"].as_f64().expect("duration") < 2.5);
    assert!(
        bounded.stderr.contains("--graceful-stop"),
        "{}",
        bounded.stderr
    );
    for worker in ["W:0", "W:1"] {
        let steps = steps(&bounded, worker);
        assert_eq!(steps.last(), Some(&"teardown"), "{worker}");
        // The cancelled request let go of the session: its teardown has it whole.
        assert!(steps.contains(&"session kept: true"), "{worker}: {steps:?}");
    }
}

/// The fixtures-and-events example: one event of each kind per run and request.
#[test]
fn the_events_example_counts_every_event() {
    let server = Server::start();
    let run = run(
        &guests().events,
        &["-w", "2", "-r", "5", "--target", &server.url],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let counters = &run.json()["custom"]["counters"];
    for kind in [
        "sending-request",
        "response-received",
        "scenario-start",
        "scenario-success",
    ] {
        assert_eq!(counters[format!("events.{kind}")], 10, "{kind}: {counters}");
    }
    assert_eq!(counters["events.scenario-failure"], 0);
    assert_eq!(run.printed_by("global"), ["starting 2 workers"]);
}

#[test]
fn a_teardown_that_sleeps_is_abandoned_at_the_graceful_stop() {
    let server = Server::start();
    let started = std::time::Instant::now();
    let run = lifecycle(
        &server,
        &[
            "-s",
            "first",
            "-r",
            "1",
            "--graceful-stop",
            "1",
            "--env",
            "FAIL=slow-teardown",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("[W:0] teardown took over 1s (--graceful-stop) and was abandoned"),
        "{}",
        run.stderr
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "the 60 s sleep did not hold the run"
    );
    assert_eq!(run.json()["scenarios"]["ok"], 1);
}
