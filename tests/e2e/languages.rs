//! The same examples in Rust, Go, JavaScript and Python, built from source by
//! `molotov build`, behave the same; `fetch()` is measured like a session request.

use std::path::{Path, PathBuf};

use crate::support::*;

const LANGUAGES: [&str; 4] = ["rust", "go", "js", "python"];

/// Each language with each way of running workers: an instance of its own,
/// and instances shared (`--workers-per-instance 2`).
fn cases() -> Vec<(&'static str, [&'static str; 2])> {
    let mut cases = Vec::new();
    for language in LANGUAGES {
        cases.push((language, ["--workers-per-instance", "1"]));
        cases.push((language, ["--workers-per-instance", "2"]));
    }
    cases
}

#[test]
fn hello_runs_exact_counts_in_every_language() {
    let server = Server::start();
    for (language, mode) in cases() {
        let run = run_against(
            &server,
            &example(language, "hello"),
            &["-w", "2", "-r", "5", mode[0], mode[1]],
        );
        let language = format!("{language} {}", mode[1]);
        assert_eq!(run.code, Some(0), "{language}: {}", run.stderr);
        let json = run.json();
        assert_eq!(json["scenarios"]["ok"], 10, "{language}: {json}");
        assert_eq!(json["scenarios"]["failed"], 0, "{language}");
        assert_eq!(json["requests"]["count"], 10, "{language}");
        assert_eq!(json["requests"]["by_status"]["200"], 10, "{language}");
    }
}

/// Go's collector used to start inside `cabi_realloc`, read the wall clock
/// there and trap ("cannot leave component instance"): about one run in 3,400
/// failed, 12 of these 40,000. The SDK now collects only at safe points.
#[test]
fn go_runs_many_runs_without_a_trap() {
    let server = Server::start();
    let run = run_against(
        &server,
        &example("go", "hello"),
        &["-w", "4", "-r", "10000", "-q"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["scenarios"]["failed"], 0, "{}", json["scenarios"]);
    assert_eq!(json["scenarios"]["ok"], 40_000);
}

#[test]
fn read_write_keeps_its_weights_in_every_language() {
    let server = Server::start();
    for (language, mode) in cases() {
        let run = run_against(
            &server,
            &example(language, "read-write"),
            &["-w", "2", "-r", "150", mode[0], mode[1]],
        );
        let language = format!("{language} {}", mode[1]);
        assert_eq!(run.code, Some(0), "{language}: {}", run.stderr);
        let json = run.json();
        let by_name = &json["scenarios"]["by_name"];
        let reads = count(&by_name["my_scenario_one"]["ok"]);
        let writes = count(&by_name["scenario_two"]["ok"]);
        assert_eq!(reads + writes, 300, "{language}: {json}");
        // 10% of 300 is 30, with a standard deviation of about 5.
        assert!((10..=60).contains(&writes), "{language}: {writes} writes");
        assert_eq!(json["requests"]["by_name"]["POST /"]["count"], writes);
    }
}

#[test]
fn a_failed_check_fails_the_run_with_its_message_in_every_language() {
    let server = Server::start();
    // The examples append `/`: `/status/500/` is not found.
    let missing = format!("SERVER_URL={}/status/500", server.url);
    for (language, mode) in cases() {
        let run = run(
            &example(language, "hello"),
            &["-r", "3", "--env", &missing, mode[0], mode[1]],
        );
        let language = format!("{language} {}", mode[1]);
        assert_eq!(run.code, Some(0), "{language}: {}", run.stderr);
        let json = run.json();
        assert_eq!(json["scenarios"]["failed"], 3, "{language}: {json}");
        assert_eq!(json["requests"]["by_status"]["404"], 3, "{language}");
        let messages: Vec<&String> = (json["scenarios"]["by_name"].as_object())
            .into_iter()
            .flat_map(|by_name| by_name.values())
            .filter_map(|scenario| scenario["failures"].as_object())
            .flat_map(|failures| failures.keys())
            .collect();
        assert!(
            !messages.is_empty() && messages.iter().all(|m| m.contains("404")),
            "{language}: each failure message names the status: {messages:?}"
        );
    }
}

#[test]
fn fixtures_and_events_work_in_every_language() {
    let server = Server::start();
    for (language, mode) in cases() {
        let run = run_against(
            &server,
            &example(language, "events"),
            &["-w", "2", "-r", "5", mode[0], mode[1]],
        );
        let language = format!("{language} {}", mode[1]);
        assert_eq!(run.code, Some(0), "{language}: {}", run.stderr);
        // `teardown` reports what the hook saw: every run's events, delivered
        // before the worker's teardown.
        let counters = &run.json()["custom"]["counters"];
        for kind in [
            "sending-request",
            "response-received",
            "scenario-start",
            "scenario-success",
        ] {
            assert_eq!(
                counters[format!("events.{kind}")],
                10,
                "{language} {kind}: {counters}"
            );
        }
        assert_eq!(counters["events.scenario-failure"], 0, "{language}");
        // Each worker's context counted its 5 steps; every run saw the
        // variable the global setup shared.
        assert_eq!(counters["steps"], 10, "{language}: {counters}");
        assert_eq!(
            run.printed_by("global"),
            ["starting 2 workers"],
            "{language}"
        );
    }
}

#[test]
fn fetch_requests_are_counted_like_session_requests() {
    let server = Server::start();
    let fetch = example("js", "fetch");
    let server_url = format!("SERVER_URL={}", server.url);
    let counted = run(&fetch, &["-w", "2", "-r", "7", "--env", &server_url]);
    assert_eq!(counted.code, Some(0), "{}", counted.stderr);
    let json = counted.json();
    assert_eq!(json["scenarios"]["ok"], 14, "{json}");
    assert_eq!(json["requests"]["count"], 14);
    assert_eq!(json["requests"]["by_name"]["GET /"]["count"], 14);
    // The server counts this question too.
    assert_eq!(server.served(), 15);

    // The allow-list applies to fetch() too.
    let refused = run(
        &fetch,
        &[
            "-r",
            "2",
            "--env",
            &server_url,
            "--allow-host",
            "example.com",
        ],
    );
    let json = refused.json();
    assert_eq!(json["scenarios"]["failed"], 2, "{json}");
    assert_eq!(json["requests"]["errors"], 2);
    assert_eq!(server.served(), 16, "only the count reached the server");
}

/// `fetch()` in the shapes scenarios use (bodies and their types, headers,
/// redirects, a body-less status, HEAD, cookies, a refused connection)
/// answers as the web does, on a shared instance (sent as the instance
/// session's request) and on instances of their own (the runtime's
/// client); on the shared instance the workers' fetches do not take turns
/// on one connection.
#[test]
fn fetch_answers_as_the_web_does_and_its_workers_do_not_take_turns() {
    let server = Server::start();
    let script = workspace().join("tests/guests/js/fetch_shapes.js");
    let server_url = format!("SERVER_URL={}", server.url);
    for (per_instance, shared) in [("8", "SHARED=1"), ("1", "SHARED=")] {
        let args = ["-w", "8", "-r", "2", "--workers-per-instance", per_instance];
        let env = ["--env", &server_url, "--env", shared];
        let out = run(&script, &[&args[..], &env].concat());
        let json = out.json();
        assert_eq!(out.code, Some(0), "{}\n{json}", out.stderr);
        assert_eq!(json["scenarios"]["ok"], 16, "{per_instance}: {json}");
        let contacted = &json["egress"]["contacted"];
        let connections = (contacted.as_array().expect("contacted").iter())
            .filter(|entry| entry["address"] == "127.0.0.1" && entry["port"] != 1)
            .map(|entry| count(&entry["connections"]))
            .sum::<u64>();
        // Eight workers' first requests at once, on two instances (one per
        // thread) when shared: more than one connection each.
        assert!(connections > 2, "{per_instance}: {connections} connections");
    }
}

/// Reading a `fetch()` response's body does not wait for the end of the
/// host's turn (it did: 200 ms a run, 50 runs in 10 s; then 4.5 ms a
/// run on a shared instance, 1 ms waits for each turn of its event loop).
#[test]
fn fetch_bodies_are_read_without_waiting_for_the_host() {
    let server = Server::start();
    let server_url = format!("SERVER_URL={}", server.url);
    for per_instance in ["1", "2"] {
        let args = ["-r", "200", "--workers-per-instance", per_instance];
        let out = run(
            &example("js", "fetch"),
            &[&args[..], &["--env", &server_url]].concat(),
        );
        let json = out.json();
        assert_eq!(json["scenarios"]["ok"], 200, "{json}");
        let seconds = json["duration_s"].as_f64().expect("duration");
        assert!(seconds < 3.0, "200 fetch runs took {seconds} s");
    }
}

/// `fetch()` of server-sent events (`Accept: text/event-stream`) hands the
/// body over as it comes: three events of an hour-long stream are read, and
/// dropping the reader ends the stream.
#[test]
fn fetch_reads_an_event_stream_as_it_comes() {
    let server = Server::start();
    let server_url = format!("SERVER_URL={}", server.url);
    let script = workspace().join("tests/guests/js/stream_fetch.js");
    for per_instance in ["1", "2"] {
        let out = run(
            &script,
            &[
                "-r",
                "3",
                "--workers-per-instance",
                per_instance,
                "--timeout",
                "5",
                "--env",
                &server_url,
            ],
        );
        let json = out.json();
        assert_eq!(out.code, Some(0), "{}\n{json}", out.stderr);
        assert_eq!(json["scenarios"]["ok"], 3, "{json}");
        assert_eq!(
            json["requests"]["by_name"]["GET /sse"]["count"], 3,
            "{json}"
        );
    }
    // Each stream stopped once its reader was dropped (the server writes
    // ahead of the reader by its buffer of 16).
    let sent = count(&server.stats()["sse_events"]);
    assert!(sent < 6 * 25, "the server sent {sent} events");
}

#[test]
fn build_names_what_it_cannot_build() {
    let empty = scratch("empty-project");
    std::fs::create_dir_all(&empty).unwrap();
    for (project, expected) in [
        (scratch("missing"), "no such project directory or file"),
        (empty, "not a scenario project"),
        (file_with("notes.txt", b"hi"), "cannot tell the language"),
    ] {
        let out = molotov().arg("build").arg(&project).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// The opt-in ahead-of-time JavaScript build names a missing weval in one
/// line (and is another build: a cached plain one is not taken for it).
#[test]
fn a_missing_weval_is_named_in_one_line() {
    let out = molotov()
        .arg("build")
        .arg(workspace().join("guest-examples/js/hello"))
        .arg("-o")
        .arg(scratch("aot.wasm"))
        .env("MOLOTOV_WEVAL", "/nonexistent/weval")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("MOLOTOV_WEVAL=/nonexistent/weval: no such file"),
        "{stderr}"
    );
}

/// A guest blocked on a slow `fetch()` is waiting on the host: the guest's
/// CPU deadline does not run out.
#[test]
fn waiting_on_fetch_is_not_guest_time() {
    let server = Server::start();
    // The example appends `/`: the query absorbs it.
    let slow = format!("SERVER_URL={}/slow?ms=1200&rest=", server.url);
    let run = run(
        &example("js", "fetch"),
        &["-r", "1", "--env", &slow, "--guest-deadline", "0.5"],
    );
    let json = run.json();
    assert_eq!(json["scenarios"]["ok"], 1, "{json} {}", run.stdout);
}

/// The Go bindings are generated and committed: they must be regenerated
/// (guest-sdk-go/README.md) whenever the contract changes.
#[test]
fn the_committed_go_bindings_match_the_contract() {
    use sha2::{Digest, Sha256};
    let contract = std::fs::read(workspace().join("wit/scenario.wit")).unwrap();
    let digest: String = Sha256::digest(&contract)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let recorded =
        std::fs::read_to_string(workspace().join("guest-sdk-go/internal/wit/contract.sha256"))
            .unwrap();
    assert_eq!(
        recorded.trim(),
        digest,
        "wit/scenario.wit changed: regenerate guest-sdk-go/internal/wit and its contract.sha256"
    );
}

/// `molotov build` on a Rust project is cargo's component, copied to `-o`.
#[test]
fn build_builds_a_rust_project_with_cargo() {
    let component = scratch("hello.wasm");
    let out = molotov()
        .arg("build")
        .arg(workspace().join("guest-examples/rust/hello"))
        .arg("-o")
        .arg(&component)
        // The outer `cargo test` holds the lock on the workspace's target.
        .env("CARGO_TARGET_DIR", workspace().join("target/e2e-guests"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start();
    let run = run_against(&server, &component, &["-r", "2"]);
    assert_eq!(run.json()["scenarios"]["ok"], 2, "{}", run.stderr);
}

/// JavaScript builds start from the engine an earlier build kept in
/// `js-engine/` under the cache directory; a damaged copy there is made
/// anew rather than used.
#[test]
fn javascript_builds_share_their_engine_and_mend_a_damaged_one() {
    let cache = scratch("shared-engine");
    let build = |output: &Path| {
        let out = molotov()
            .arg("build")
            .arg(workspace().join("guest-examples/js/hello"))
            .arg("-o")
            .arg(output)
            .arg("--cache-dir")
            .arg(&cache)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
    };
    build(&scratch("first-engine.wasm"));
    let kept: Vec<PathBuf> = std::fs::read_dir(cache.join("js-engine"))
        .expect("the engine kept")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "wasm"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let whole = std::fs::metadata(&kept[0]).unwrap().len();
    std::fs::write(&kept[0], b"not an engine").unwrap();
    let mended = scratch("mended-engine.wasm");
    build(&mended);
    assert_eq!(std::fs::metadata(&kept[0]).unwrap().len(), whole);
    let from_kept = scratch("kept-engine.wasm");
    build(&from_kept);
    let server = Server::start();
    let run = run_against(&server, &from_kept, &["-w", "2", "-r", "3"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(count(&run.json()["scenarios"]["ok"]), 6);
}
