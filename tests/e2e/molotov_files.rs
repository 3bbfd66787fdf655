//! Molotov's own scenario files run unchanged, from source in one command
//! (`molotov run loadtest.py`), with the requests the server counted equal to
//! the runs' requests; and what a scenario did not run to an end is a failure
//! in every SDK, never a success.

use std::path::PathBuf;

use crate::support::*;

fn file(name: &str) -> PathBuf {
    workspace().join("tests/guests").join(name)
}

/// `--connect-to` rules sending the seeds' `example.com` and the
/// quickstart's `localhost:8080` to `server`.
fn connect_to(server: &Server) -> Vec<String> {
    let local = server.url.trim_start_matches("http://");
    ["example.com:80", "localhost:8080"]
        .iter()
        .map(|origin| format!("{origin}:{local}"))
        .collect()
}

fn run_with(server: &Server, name: &str, args: &[&str]) -> Run {
    let rules = connect_to(server);
    let mut all: Vec<&str> = Vec::new();
    for rule in &rules {
        all.extend(["--connect-to", rule.as_str()]);
    }
    all.extend_from_slice(args);
    run_against(server, &file(name), &all)
}

/// The requests the server saw (less the one asking) are the run's.
fn assert_server_saw_every_request(server: &Server, run: &Run) {
    assert_eq!(
        server.served() - 1,
        count(&run.json()["requests"]["count"]),
        "{}",
        run.json()
    );
}

#[test]
fn the_seeds_hello_world_runs_unchanged_from_source_and_is_built_once() {
    let server = Server::start();
    let run = run_with(&server, "molotov/seed_hello.py", &["-w", "2", "-r", "2"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["scenarios"]["ok"], 4, "{json}");
    assert_eq!(json["requests"]["by_status"]["200"], 4, "{json}");
    assert_server_saw_every_request(&server, &run);
    // Unchanged sources: the cached component, no second build.
    let again = run_with(&server, "molotov/seed_hello.py", &["-r", "1"]);
    assert_eq!(again.json()["scenarios"]["ok"], 1);
    assert!(!again.stderr.contains("building"), "{}", again.stderr);
}

#[test]
fn the_seeds_read_write_pair_fails_its_write_as_python_would() {
    // The seed's second example calls json.dumps without importing json:
    // under Molotov as here, that scenario fails with a NameError.
    let server = Server::start();
    let run = run_with(&server, "molotov/seed_pair.py", &["--single-run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let by_name = &run.json()["scenarios"]["by_name"];
    assert_eq!(by_name["my_scenario_one"]["ok"], 1, "{by_name}");
    assert_eq!(by_name["scenario_two"]["failed"], 1, "{by_name}");
    assert!(
        by_name["scenario_two"]["failures"]
            .to_string()
            .contains("NameError: name 'json' is not defined"),
        "{by_name}"
    );
    assert_server_saw_every_request(&server, &run);
}

#[test]
fn the_seeds_event_handlers_all_receive_events_and_print() {
    let server = Server::start();
    let run = run_with(&server, "molotov/seed_events.py", &["-w", "2", "-r", "3"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.json()["scenarios"]["ok"], 6);
    let mut printed = run.printed_by("W:0");
    printed.extend(run.printed_by("W:1"));
    for arrow in ["=>", "<="] {
        let times = printed.iter().filter(|line| **line == arrow).count();
        assert_eq!(times, 6, "{arrow}: {}", run.stderr);
    }
    assert_server_saw_every_request(&server, &run);
}

#[test]
fn molotovs_quickstart_runs_unchanged_with_its_statsd_counter() {
    let server = Server::start();
    let run = run_with(
        &server,
        "molotov/loadtest.py",
        &[
            "-w",
            "2",
            "--single-run",
            "--statsd",
            "--statsd-address",
            "udp://127.0.0.1:9",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["scenarios"]["ok"], 6, "{json}");
    assert_eq!(json["requests"]["by_name"]["POST /"]["count"], 2, "{json}");
    // `session.statsd.incr("BLEH")` in one of its three scenarios.
    assert_eq!(json["custom"]["counters"]["BLEH"], 2, "{json}");
    assert_server_saw_every_request(&server, &run);
}

#[test]
fn molotovs_api_works_as_its_users_write_it() {
    let server = Server::start();
    let run = run_with(
        &server,
        "molotov/molotov_api.py",
        &[
            "-w",
            "2",
            "--single-run",
            "--statsd",
            "--statsd-address",
            "udp://127.0.0.1:9",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    // Six scenarios, each run by both workers, every check passing.
    assert_eq!(json["scenarios"]["ok"], 12, "{json}");
    assert_eq!(json["scenarios"]["failed"], 0, "{json}");
    assert_server_saw_every_request(&server, &run);
    // Two handlers saw every run and every request of the workers.
    let counters = &json["custom"]["counters"];
    assert_eq!(counters["events.scenario_success"], 12, "{counters}");
    assert!(count(&counters["events.sending_request"]) > 0, "{counters}");
    assert_eq!(
        counters["events.sending_request"], counters["events.response_received"],
        "{counters}"
    );
    // statsd through the context: counter, timing and gauge.
    assert_eq!(counters["cart"], 2, "{counters}");
    assert_eq!(json["custom"]["timings_ms"]["think"]["min"], 5.0, "{json}");
    assert_eq!(json["custom"]["gauges"]["queue"]["last"], 3.5, "{json}");
    for printed in [
        "session.print from worker 0",
        "print from worker 1",
        "global teardown ran",
    ] {
        assert!(run.stderr.contains(printed), "{printed}: {}", run.stderr);
    }
}

/// Eight workers on one instance: each one's `setup_session` (a request on
/// its session) runs once the instance knows the worker.
#[test]
fn session_fixtures_of_workers_sharing_an_instance_use_their_own_sessions() {
    let server = Server::start();
    let run = run_with(
        &server,
        "molotov/molotov_api.py",
        &[
            "-w",
            "8",
            "--workers-per-instance",
            "8",
            "--single-run",
            "--statsd",
            "--statsd-address",
            "udp://127.0.0.1:9",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["workers_per_instance"], 8, "{json}");
    assert_eq!(json["scenarios"]["ok"], 48, "{json}");
    assert_eq!(json["scenarios"]["failed"], 0, "{json}");
    assert_server_saw_every_request(&server, &run);
}

#[test]
fn without_statsd_the_context_has_no_client_as_in_molotov() {
    let server = Server::start();
    let run = run_with(
        &server,
        "molotov/molotov_api.py",
        &["-w", "2", "--single-run"],
    );
    let failures = run.json()["scenarios"]["by_name"]["e_context_vars_statsd"].to_string();
    assert!(failures.contains("\"failed\":2"), "{failures}");
    assert!(failures.contains("ctx.statsd is None"), "{failures}");
}

#[test]
fn a_failing_global_setup_stops_the_run_with_its_message() {
    let server = Server::start();
    let run = run_with(&server, "molotov/failing_setup.py", &["-r", "1"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("RuntimeError: the token service is down"),
        "{}",
        run.stderr
    );
    assert_eq!(server.served(), 1, "no scenario ran");
}

#[test]
fn what_a_python_scenario_leaves_unawaited_fails_its_run() {
    let server = Server::start();
    let run = run_with(&server, "molotov/unawaited.py", &["--single-run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["scenarios"]["ok"], 0, "{json}");
    let by_name = json["scenarios"]["by_name"].to_string();
    assert!(by_name.contains("never awaited (add `await`)"), "{by_name}");
    assert!(by_name.contains("returned a generator"), "{by_name}");
    assert_eq!(count(&json["requests"]["count"]), 0, "{json}");
}

#[test]
fn what_a_javascript_scenario_leaves_unsettled_fails_its_run() {
    let server = Server::start();
    let run = run_with(&server, "js/unsettled.js", &["--single-run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["scenarios"]["ok"], 1, "{json}");
    assert_eq!(json["scenarios"]["failed"], 4, "{json}");
    let by_name = json["scenarios"]["by_name"].to_string();
    assert!(by_name.contains("promise never settled"), "{by_name}");
    assert!(by_name.contains("returned a generator"), "{by_name}");
    // On a shared instance: failed by the host, which has nothing in flight
    // for it, rather than left to hang a run bounded only by `-r`.
    let shared = ["-w", "2", "--workers-per-instance", "2", "-r", "2"];
    for (scenario, ok, failed) in [("awaits_nothing", 0, 4), ("awaits_runtime_timers", 4, 0)] {
        let run = run_with(
            &server,
            "js/unsettled.js",
            &[&["-s", scenario][..], &shared].concat(),
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let json = run.json();
        assert_eq!(json["scenarios"]["ok"], ok, "{scenario}: {json}");
        assert_eq!(json["scenarios"]["failed"], failed, "{scenario}: {json}");
        let failures = json["scenarios"]["by_name"][scenario]["failures"].to_string();
        assert!(
            failed == 0 || failures.contains("nothing would complete"),
            "{failures}"
        );
    }
}

#[test]
fn a_config_file_may_name_a_python_scenario() {
    let server = Server::start();
    let config = scratch("molotov.json");
    let scenario = file("molotov/seed_hello.py");
    std::fs::write(
        &config,
        serde_json::json!({"molotov": {"tests": {"smoke": {
            "scenario": scenario, "workers": 2, "max_runs": 1,
        }}}})
        .to_string(),
    )
    .unwrap();
    let rules = connect_to(&server);
    let config = config.to_str().unwrap();
    let run = run_args(&[
        "smoke",
        "--config",
        config,
        "--target",
        &server.url,
        "--connect-to",
        &rules[0],
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.json()["scenarios"]["ok"], 2);
}
