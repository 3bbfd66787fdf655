//! The engine: counts, stop rules, the sandbox, HTTP, bad input.

use crate::support::{self, Server, count, file_with, guests, molotov, run, workspace};

/// Small bodies come with the status, larger ones are fetched: both arrive whole.
#[test]
fn bodies_arrive_whole_whatever_their_size() {
    let server = Server::start();
    let run = run(
        &guests().suite,
        &["-s", "echo_bodies", "-r", "2", "--target", &server.url],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 2, "{json}");
    assert_eq!(count(&json["requests"]["by_status"]["200"]), 8);
}

/// A minor version of the contract only adds: a component built against
/// 0.4.0 runs unchanged on this host.
#[test]
fn a_component_built_for_an_earlier_minor_contract_still_runs() {
    let server = Server::start();
    let before = server.served();
    let run = run(
        &guests().contract_0_4_0,
        &["-w", "2", "-r", "5", "--target", &server.url],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 10, "{json}");
    assert_eq!(json["custom"]["counters"]["pings"], 10, "{json}");
    // The first count (`/stats`) is one of the server's requests too.
    assert_eq!(server.served() - before - 1, 10);
}

#[test]
fn max_runs_give_exact_counts_on_both_sides() {
    let server = Server::start();
    let before = server.served();
    let run = run(
        &guests().suite,
        &["-s", "ok", "-w", "3", "-r", "5", "--target", &server.url],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 15);
    assert_eq!(count(&json["scenarios"]["failed"]), 0);
    assert_eq!(count(&json["scenarios"]["by_name"]["ok"]["ok"]), 15);
    assert_eq!(count(&json["requests"]["count"]), 15);
    assert_eq!(count(&json["requests"]["by_status"]["200"]), 15);
    assert_eq!(count(&json["requests"]["by_name"]["GET /"]["count"]), 15);
    assert_eq!(
        server.served() - before - 1,
        15,
        "the server saw exactly the runs' requests"
    );
    assert_eq!(count(&json["workers"]), 3);
    assert_eq!(json["stopped_by"], "completed");
}

#[test]
fn json_results_have_the_documented_fields() {
    let run = run(&guests().hello, &["-r", "3", "-q"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "-q prints nothing: {}", run.stdout);
    let json = run.json();
    assert!(json["duration_s"].as_f64().is_some());
    for quantile in ["p50", "p90", "p99", "max"] {
        let overall = json["latency_ms"][quantile]
            .as_f64()
            .expect("overall percentile");
        let named = json["requests"]["by_name"]["GET /"]["latency_ms"][quantile]
            .as_f64()
            .expect("percentile");
        assert!(
            overall > 0.0 && named > 0.0,
            "{quantile}: {overall} {named}"
        );
    }
    assert!(json["latency_ms"]["p50"].as_f64() <= json["latency_ms"]["max"].as_f64());
    // No real exchange over TCP takes under 5 µs: smaller values are artefacts.
    assert!(
        json["latency_ms"]["min"].as_f64().expect("min") > 0.005,
        "{}",
        json["latency_ms"]
    );
    assert_eq!(count(&json["requests"]["errors"]), 0);
    assert!(
        json["latency_histogram"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
}

#[test]
fn failed_checks_are_counted_with_their_message() {
    let server = Server::start();
    let run = run(
        &guests().suite,
        &[
            "-s",
            "server_error",
            "-w",
            "2",
            "-r",
            "4",
            "--target",
            &server.url,
        ],
    );
    assert_eq!(
        run.code,
        Some(0),
        "failures alone do not fail a run: {}",
        run.stderr
    );
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["failed"]), 8);
    assert_eq!(count(&json["requests"]["by_status"]["500"]), 8);
    let failures = json["scenarios"]["by_name"]["server_error"]["failures"]
        .as_object()
        .expect("failures");
    assert_eq!(failures.len(), 1);
    let (message, times) = failures.iter().next().expect("one message");
    assert!(
        message.contains("expected status 200, got 500"),
        "{message}"
    );
    assert_eq!(count(times), 8);
    assert_eq!(
        count(&json["custom"]["counters"]["failures-seen"]),
        8,
        "scenario-failure events"
    );
    assert!(run.stdout.contains("FAILURES: 8"), "{}", run.stdout);
}

#[test]
fn weights_pick_scenarios_in_proportion() {
    let run = run(&guests().read_write, &["-w", "4", "-r", "500", "-q"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    let reads = count(&json["scenarios"]["by_name"]["my_scenario_one"]["ok"]) as f64;
    let writes = count(&json["scenarios"]["by_name"]["scenario_two"]["ok"]) as f64;
    assert_eq!(reads + writes, 2000.0);
    // 90% of 2,000 picks: one standard deviation is 13 picks; allow six.
    let share = reads / 2000.0;
    assert!((share - 0.9).abs() < 0.04, "read share {share}");
    assert_eq!(
        count(&json["requests"]["by_name"]["POST /"]["count"]) as f64,
        writes
    );
}

#[test]
fn exception_stops_at_the_first_failure_and_exits_1() {
    let server = Server::start();
    let run = run(
        &guests().suite,
        &[
            "-x",
            "-s",
            "server_error",
            "-w",
            "2",
            "-d",
            "60",
            "--target",
            &server.url,
        ],
    );
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["stopped_by"], "exception");
    let failed = count(&json["scenarios"]["failed"]);
    assert!(
        (1..=2).contains(&failed),
        "only runs in flight finish: {failed}"
    );
}

#[test]
fn fail_limit_stops_after_n_failures_and_exits_1() {
    let server = Server::start();
    let run = run(
        &guests().suite,
        &[
            "-f",
            "3",
            "-s",
            "server_error",
            "-d",
            "60",
            "--target",
            &server.url,
        ],
    );
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["stopped_by"], "fail-limit");
    assert_eq!(count(&json["scenarios"]["failed"]), 3);
}

#[test]
fn fail_limit_not_reached_exits_0() {
    let server = Server::start();
    let failing_twice = ["-s", "server_error", "-r", "2", "--target", &server.url];
    let under = run(
        &guests().suite,
        &[&["-f", "3"], &failing_twice[..]].concat(),
    );
    assert_eq!(under.code, Some(0), "stderr: {}", under.stderr);
    assert_eq!(count(&under.json()["scenarios"]["failed"]), 2);
    let reached = run(
        &guests().suite,
        &[&["-f", "2"], &failing_twice[..]].concat(),
    );
    assert_eq!(reached.code, Some(1), "stderr: {}", reached.stderr);
}

#[test]
fn single_run_runs_every_scenario_once_per_worker() {
    let run = run(&guests().read_write, &["--single-run", "-w", "2"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(
        count(&json["scenarios"]["by_name"]["my_scenario_one"]["ok"]),
        2
    );
    assert_eq!(
        count(&json["scenarios"]["by_name"]["scenario_two"]["ok"]),
        2
    );
    assert_eq!(count(&json["requests"]["count"]), 4);
}

#[test]
fn single_mode_runs_only_the_named_scenario() {
    let run = run(&guests().read_write, &["-s", "scenario_two", "-r", "7"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(
        count(&json["scenarios"]["by_name"]["scenario_two"]["ok"]),
        7
    );
    assert!(
        json["scenarios"]["by_name"]
            .get("my_scenario_one")
            .is_none()
    );
}

#[test]
fn single_mode_with_an_unknown_name_cannot_run() {
    run(&guests().read_write, &["-s", "nope", "-r", "1"]).assert_cannot_run("no such scenario");
}

#[test]
fn ramp_up_starts_workers_over_the_ramp() {
    // Worker i of 4 starts at i × 2 s / 4: the last one at 1.5 s.
    let run = run(
        &guests().hello,
        &["-w", "4", "-r", "1", "--ramp-up", "2", "-q"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 4);
    assert!(
        json["duration_s"].as_f64().expect("duration") >= 1.5,
        "{}",
        json["duration_s"]
    );
}

#[test]
fn duration_bounds_the_run() {
    let run = run(&guests().hello, &["-w", "2", "-d", "1", "-q"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["stopped_by"], "duration");
    assert!(count(&json["scenarios"]["ok"]) > 0);
    assert!(json["duration_s"].as_f64().expect("duration") >= 1.0);
}

#[test]
fn a_trapping_guest_fails_its_run_and_gets_a_fresh_instance() {
    let run = run(&guests().suite, &["-s", "trap", "-r", "3"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    let failures = json["scenarios"]["by_name"]["trap"]["failures"]
        .as_object()
        .expect("failures");
    // The same panic message three times: each run ran in a working instance.
    assert_eq!(failures.len(), 1, "{failures:?}");
    let (message, times) = failures.iter().next().expect("one message");
    assert!(
        message.contains("guest trapped") && message.contains("boom"),
        "{message}"
    );
    assert_eq!(count(times), 3);
}

#[test]
fn a_body_over_max_body_is_an_error_of_its_own_kind() {
    let run = run(
        &guests().suite,
        &["-s", "large_body", "-r", "1", "--max-body", "1"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(
        count(&json["requests"]["errors_by_kind"]["body-too-large"]),
        1
    );
    let failures = json["scenarios"]["by_name"]["large_body"]["failures"].to_string();
    assert!(
        failures.contains("response body over the limit of 1048576 bytes"),
        "{failures}"
    );
}

#[test]
fn a_header_the_session_refuses_is_an_error_the_scenario_sees() {
    let run = run(&guests().suite, &["-s", "bad_headers", "-r", "1"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let failures = run.json()["scenarios"]["by_name"]["bad_headers"]["failures"].to_string();
    assert!(
        failures.contains(r#"set_header \"Content-Length\": invalid request"#),
        "{failures}"
    );
    assert!(failures.contains("the client's to write"), "{failures}");
}

#[test]
fn shared_variables_past_their_budget_fail_the_run_not_the_host() {
    let run = run(
        &guests().suite,
        &["-s", "fill_vars", "-r", "10", "--max-vars", "4"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    let scenarios = &json["scenarios"];
    assert_eq!(count(&scenarios["ok"]), 3, "{scenarios}");
    assert_eq!(count(&scenarios["failed"]), 7, "{scenarios}");
    let failures = scenarios["by_name"]["fill_vars"]["failures"].to_string();
    assert!(
        failures.contains("shared variables over their limit of 4 MiB"),
        "{failures}"
    );
}

#[test]
fn a_guest_writing_to_stderr_never_fails_for_it() {
    let run = run(&guests().suite, &["-s", "chatty", "-r", "100"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(
        count(&json["scenarios"]["ok"]),
        100,
        "{}",
        json["scenarios"]
    );
}

#[test]
fn responses_a_guest_keeps_count_against_its_memory_limit() {
    let run = run(
        &guests().suite,
        &["-s", "hoard", "-r", "1", "--max-memory", "64"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    let failures = json["scenarios"]["by_name"]["hoard"]["failures"].to_string();
    assert!(failures.contains("memory limit of 64 MiB"), "{failures}");
    // It was stopped about 64 responses in, not after the 200 it wanted.
    assert!(
        count(&json["requests"]["count"]) < 70,
        "{}",
        json["requests"]
    );
}

/// WASI's sockets are refused before any is made: a guest cannot hold the
/// host's file descriptors through them (its only way out is the session).
#[test]
fn a_guest_gets_no_socket_from_wasi() {
    let run = run(&guests().suite, &["-s", "wasi_sockets", "-r", "1"]);
    let json = run.json();
    let failures = json["scenarios"]["by_name"]["wasi_sockets"]["failures"].to_string();
    assert!(failures.contains("socket 0 refused"), "{failures}");
}

/// The same for a guest's own `wasi:http` client (JavaScript's `fetch`):
/// 300 responses of 1 MiB kept unread under `--max-memory 128`.
#[test]
fn responses_a_guest_keeps_from_fetch_count_against_its_memory_limit() {
    let server = Server::start();
    let hoard = workspace().join("tests/guests/js/hoard_fetch.js");
    let server_url = format!("SERVER_URL={}", server.url);
    let run = run(
        &hoard,
        &["-r", "1", "--max-memory", "128", "--env", &server_url],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["scenarios"]["failed"], 1, "{json}");
    // Stopped when the held bodies and the instance's own memory reached
    // 128 MiB (about 60 responses in), not after the 300 it wanted.
    assert!(
        count(&json["requests"]["count"]) < 128,
        "{}",
        json["requests"]
    );
}

#[test]
fn distinct_names_past_the_limits_are_counted_under_other() {
    let run = run(
        &guests().suite,
        &[
            "-s",
            "many_names",
            "-r",
            "20",
            "--max-request-names",
            "5",
            "--max-metric-names",
            "3",
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    let by_name = json["requests"]["by_name"].as_object().expect("by_name");
    assert_eq!(by_name.len(), 6, "{by_name:?}");
    assert_eq!(count(&by_name["(other)"]["count"]), 15);
    assert_eq!(count(&json["requests"]["count"]), 20);
    let counters = json["custom"]["counters"].as_object().expect("counters");
    assert_eq!(counters.len(), 4, "{counters:?}");
    assert_eq!(counters["(other)"], 17);
    assert_eq!(json["warnings"].as_array().expect("warnings").len(), 2);
    assert!(
        run.stdout
            .contains("warning: more than 5 distinct request names"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_trap_under_vv_shows_the_guests_wasm_frames_and_nothing_empty() {
    let run = run(&guests().suite, &["-s", "trap", "-r", "1", "-vv"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("wasm backtrace"), "{}", run.stderr);
    assert!(!run.stderr.contains("Caused by"), "{}", run.stderr);
    assert!(!run.stderr.contains("Stack backtrace"), "{}", run.stderr);
}

#[test]
fn a_looping_guest_hits_its_deadline() {
    let run = run(
        &guests().suite,
        &["-s", "spin", "-r", "2", "--guest-deadline", "0.2"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let failures = &run.json()["scenarios"]["by_name"]["spin"]["failures"];
    let message = failures
        .as_object()
        .and_then(|f| f.keys().next().cloned())
        .expect("a failure");
    assert!(message.contains("deadline of 0.2s"), "{message}");
    assert_eq!(count(&failures[&message]), 2);
}

#[test]
fn waiting_on_the_host_does_not_count_against_the_deadline() {
    // Each run waits 300 ms on HTTP and sleep, far beyond a 50 ms guest deadline.
    let run = run(
        &guests().suite,
        &["-s", "slow", "-r", "2", "--guest-deadline", "0.05"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(
        count(&run.json()["scenarios"]["ok"]),
        2,
        "{}",
        run.json()["scenarios"]
    );
}

#[test]
fn a_guest_allocating_without_bound_hits_its_memory_limit() {
    let run = run(
        &guests().suite,
        &["-s", "hog", "-r", "1", "--max-memory", "32"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let failures = run.json()["scenarios"]["by_name"]["hog"]["failures"].to_string();
    assert!(failures.contains("memory limit of 32 MiB"), "{failures}");
}

#[test]
fn hosts_outside_the_allow_list_are_refused() {
    let run = run(
        &guests().suite,
        &["-s", "elsewhere", "-r", "2", "--allow-host", "127.0.0.1"],
    );
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(
        count(&json["requests"]["errors_by_kind"]["host-not-allowed"]),
        2
    );
    let failures = json["scenarios"]["by_name"]["elsewhere"]["failures"].to_string();
    assert!(
        failures.contains("host not allowed: 127.0.0.2:9"),
        "{failures}"
    );
}

#[test]
fn sessions_keep_cookies_headers_variables_and_follow_redirects() {
    let server = Server::start();
    let args = [
        "-s",
        "session_state",
        "-w",
        "2",
        "-r",
        "2",
        "--env",
        "EXPECTED=yes",
        "--target",
        &server.url,
    ];
    let run = run(&guests().suite, &args);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 4, "{}", json["scenarios"]);
    assert_eq!(count(&json["custom"]["counters"]["session-checks"]), 4);
    assert_eq!(count(&json["requests"]["by_status"]["302"]), 4);
}

#[test]
fn an_unreachable_server_is_a_connect_error_not_a_hang() {
    // Port 9 (discard) on loopback: nothing listens there on these machines.
    let run = run(
        &guests().suite,
        &[
            "-s",
            "ok",
            "-r",
            "2",
            "--target",
            "http://127.0.0.1:9",
            "--timeout",
            "5",
        ],
    );
    // Not a green run: nothing reached a server.
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(
        run.stdout
            .contains("NO SERVER REACHED: not one of the 2 requests"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("no request of the run reached a server"),
        "{}",
        run.stderr
    );
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["failed"]), 2);
    assert_eq!(count(&json["requests"]["errors_by_kind"]["connect"]), 2);
}

/// A server that answers one request per connection, then closes it without
/// a `Connection: close` (as when its keep-alive timer fires): the next
/// request, a POST that is never sent twice, must go on a new connection.
#[test]
fn a_connection_the_server_closed_while_idle_is_not_reused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let connections = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Read, Write};
        let mut accepted = 0;
        for stream in listener.incoming().take(3) {
            let mut reader = BufReader::new(stream.expect("accept"));
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("request head");
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().expect("a length");
                }
                if line == "\r\n" {
                    break;
                }
            }
            reader
                .read_exact(&mut vec![0; length])
                .expect("request body");
            let mut stream = reader.into_inner();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .expect("response");
            std::thread::sleep(std::time::Duration::from_millis(50));
            accepted += 1;
        }
        accepted
    });
    let args = [
        "-s",
        "scenario_two",
        "-r",
        "3",
        "--delay",
        "0.2",
        "--target",
    ];
    let run = run(&guests().read_write, &[&args[..], &[&url]].concat());
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 3, "{}", json["scenarios"]);
    assert_eq!(connections.join().expect("server"), 3);
}

#[test]
fn ctrl_c_stops_the_run_and_still_writes_the_results() {
    let html = support::scratch("interrupted.html");
    let run = support::run_interrupted(
        &guests().hello,
        &[
            "-w",
            "2",
            "-d",
            "60",
            "-c",
            "--html",
            html.to_str().unwrap(),
        ],
        std::time::Duration::from_secs(2),
    );
    assert_eq!(run.code, Some(130), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("SUCCESSES:"),
        "summary printed: {}",
        run.stdout
    );
    let json = run.json();
    assert_eq!(json["stopped_by"], "interrupted");
    assert!(json["duration_s"].as_f64().expect("duration") < 50.0);
    let page = std::fs::read_to_string(&html).expect("the HTML report is written too");
    assert!(
        page.contains("<td id=\"stopped-by\">interrupted</td>"),
        "{page}"
    );
}

#[test]
fn a_second_run_loads_the_compiled_component_from_the_cache() {
    let cache = std::env::temp_dir().join(format!("molotov-e2e-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    for _ in 0..2 {
        let output = molotov()
            .env("MOLOTOV_CACHE_DIR", &cache)
            .arg("run")
            .arg(&guests().hello)
            .args(["-r", "1", "-q"])
            .output()
            .expect("molotov runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let names: Vec<String> = std::fs::read_dir(&cache)
        .expect("cache written")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let artifacts: Vec<&String> = names.iter().filter(|n| n.ends_with(".cwasm")).collect();
    assert_eq!(artifacts.len(), 1, "one artifact, reused: {names:?}");
    // Beside it, the functions compiled for it, for other components to share.
    let functions = std::fs::read_dir(cache.join("functions")).expect("functions cached");
    assert!(functions.count() > 0);
    assert_eq!(names.len(), 2, "nothing else: {names:?}");
}

#[test]
fn bad_components_get_one_clear_line_and_exit_2() {
    let missing = std::path::Path::new("/nonexistent/scenarios.wasm");
    support::run(missing, &["-r", "1"])
        .assert_cannot_run("cannot read /nonexistent/scenarios.wasm");

    let text = file_with("notes.wasm", b"this is not wasm");
    support::run(&text, &["-r", "1"]).assert_cannot_run("is not a WebAssembly file");

    let core = file_with("core.wasm", b"\0asm\x01\0\0\0");
    support::run(&core, &["-r", "1"])
        .assert_cannot_run("is a core WebAssembly module, not a component");

    let bytes = std::fs::read(&guests().hello).expect("hello built");
    let truncated = file_with("truncated.wasm", &bytes[..bytes.len() / 2]);
    support::run(&truncated, &["-r", "1"]).assert_cannot_run("is not a valid component");

    // A valid, empty component: it exports nothing of the scenario world.
    let other_world = file_with("empty-component.wasm", b"\0asm\x0d\0\x01\0");
    support::run(&other_world, &["-r", "1"])
        .assert_cannot_run("is not a molotov scenario component");
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        vec!["-w", "0"],
        vec!["-q", "-v"],
        vec!["-d", "soon"],
        vec!["--env", "NOEQUALS"],
    ] {
        let output = molotov()
            .arg("run")
            .arg(&guests().hello)
            .args(&args)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
    support::run(&guests().hello, &["--target", "not a url", "-r", "1"])
        .assert_cannot_run("is not a URL");
    // Every time flag becomes a duration where it is parsed: one that no
    // clock could add (once a panic) is refused there.
    for (flag, value, expected) in [
        ("--timeout", "1e300", "is too long"),
        ("-d", "1e19", "is too long"),
        ("--guest-deadline", "inf", "is too long"),
        ("--ramp-up", "NaN", "is not a number of seconds"),
    ] {
        support::run(&guests().hello, &[flag, value, "-r", "1"]).assert_cannot_run(expected);
    }
}

#[test]
fn https_with_the_operators_ca_negotiates_http2() {
    https_with_the_operators_ca(Vec::new(), "HTTP/2.0");
}

#[test]
fn https_to_a_server_without_http2_speaks_http1() {
    https_with_the_operators_ca(vec![b"http/1.1".to_vec()], "HTTP/1.1");
}

/// A server with a self-signed certificate and these ALPN protocols (the
/// built-in target's h2 and http/1.1 if none), trusted with `--ca-cert` only.
fn https_with_the_operators_ca(alpn: Vec<Vec<u8>>, expected_version: &str) {
    let (server, ca) = support::self_signed_server(alpn);
    let ca = ca.to_str().expect("UTF-8 path");

    let args = [
        "-s",
        "protocol",
        "-r",
        "2",
        "--env",
        &format!("EXPECTED={expected_version}"),
        "--target",
        &server.url,
    ];
    let trusted = run(&guests().suite, &[&args[..], &["--ca-cert", ca]].concat());
    assert_eq!(trusted.code, Some(0), "stderr: {}", trusted.stderr);
    assert_eq!(
        count(&trusted.json()["scenarios"]["ok"]),
        2,
        "{}",
        trusted.json()["scenarios"]
    );

    let untrusted = run(&guests().suite, &args);
    let json = untrusted.json();
    assert_eq!(count(&json["requests"]["errors_by_kind"]["connect"]), 2);
    let failures = json["scenarios"]["by_name"]["protocol"]["failures"].to_string();
    assert!(failures.contains("certificate"), "{failures}");

    let not_pem = file_with("not.pem", b"not a certificate");
    support::run(
        &guests().hello,
        &["-r", "1", "--ca-cert", not_pem.to_str().expect("UTF-8")],
    )
    .assert_cannot_run("no PEM certificate");
}

#[test]
fn guest_output_past_its_rate_is_dropped_and_reported() {
    let run = run(
        &guests().suite,
        &["-s", "loud", "-r", "100", "--max-output", "20"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 100);
    // 5,000 lines asked, 20 a second shown (the run may span a few seconds).
    let shown = run
        .printed_by("W:0")
        .iter()
        .filter(|line| line.starts_with("loud "))
        .count();
    let seconds = json["duration_s"].as_f64().unwrap().ceil() as usize + 1;
    assert!(
        (20..=20 * seconds).contains(&shown),
        "{shown} lines in {seconds} s"
    );
    assert!(
        json["warnings"].to_string().contains("--max-output"),
        "{json}"
    );
}
