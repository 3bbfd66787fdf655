//! WebSockets and server-sent events from a scenario: what the host reports
//! equals what the server counted, the time to the first event reflects the
//! server's wait, and a real WebSocket server no one here wrote (Python's
//! `websockets`) is talked to like the built-in target.

use crate::support::{Server, count, example, ok, run, websockets_echo};

/// In each language's `live` example, on instances shared by many workers
/// (its scenarios are all `async`), then on instances of their own.
#[test]
fn sockets_and_event_streams_report_what_the_server_counted() {
    for language in ["rust", "python", "go", "js"] {
        for per_instance in ["64", "1"] {
            counts_match_the_server(language, per_instance);
        }
    }
}

fn counts_match_the_server(language: &str, workers_per_instance: &str) {
    let server = Server::start();
    let run = run(
        &example(language, "live"),
        &[
            "--target",
            &server.url,
            "-w",
            "3",
            "-r",
            "12",
            "-x",
            "--workers-per-instance",
            workers_per_instance,
        ],
    );
    let json = run.json();
    assert_eq!(run.code, Some(0), "{language}: {}\n{json}", run.stderr);
    assert_eq!(
        json["workers_per_instance"],
        workers_per_instance.parse::<u64>().unwrap()
    );
    let (echo, push, events) = (ok(json, "echo"), ok(json, "push"), ok(json, "events"));
    assert_eq!(echo + push + events, 36, "{json}");
    assert!(echo > 0 && push > 0 && events > 0, "{json}");

    let stats = server.stats();
    assert_eq!(count(&stats["ws_received"]), 3 * echo);
    assert_eq!(count(&stats["ws_sent"]), 3 * echo + 5 * push);
    assert_eq!(count(&stats["sse_events"]), 4 * events);

    let requests = &json["requests"]["by_name"];
    assert_eq!(count(&requests["WS /ws/echo"]["count"]), echo, "{json}");
    assert_eq!(count(&requests["WS /ws/push"]["count"]), push, "{json}");
    assert_eq!(count(&requests["GET /sse"]["count"]), events, "{json}");
    let counters = &json["custom"]["counters"];
    assert_eq!(counters["WS /ws/echo sent"], 3 * echo, "{json}");
    assert_eq!(counters["WS /ws/echo received"], 3 * echo, "{json}");
    assert_eq!(counters["WS /ws/push received"], 5 * push, "{json}");
    assert_eq!(counters["WS /ws/push close 1000"], push, "{json}");
    // An echo brings back the bytes it was sent.
    let echoed = count(&counters["WS /ws/echo sent bytes"]);
    assert!(echoed >= 3 * echo, "{json}");
    assert_eq!(counters["WS /ws/echo received bytes"], echoed, "{json}");
    assert!(
        count(&counters["WS /ws/push received bytes"]) >= 5 * push,
        "{json}"
    );
    assert_eq!(counters["GET /sse events"], 4 * events, "{json}");
    let timings = &json["custom"]["timings_ms"];
    for timing in [
        "GET /sse first-event",
        "GET /sse event-gap",
        "WS /ws/echo session",
    ] {
        assert!(
            timings[timing]["max"].as_f64().unwrap() > 0.0,
            "{timing}: {json}"
        );
    }
}

#[test]
fn the_time_to_first_event_shows_the_servers_wait() {
    let server = Server::start();
    let run = run(
        &example("rust", "live"),
        &[
            "--target",
            &server.url,
            "-s",
            "events",
            "-r",
            "2",
            "--env",
            "SSE_DELAY_MS=300",
            "--threshold",
            "custom GET /sse first-event: p50 >= 300ms",
            "--threshold",
            "GET /sse: p50 < 300ms",
        ],
    );
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    let first = &json["custom"]["timings_ms"]["GET /sse first-event"];
    assert!(first["min"].as_f64().unwrap() >= 300.0, "{json}");
}

#[test]
fn a_worker_past_its_open_sockets_fails_with_too_many_open() {
    let server = Server::start();
    let run = run(
        &example("rust", "live"),
        &[
            "--target",
            &server.url,
            "-s",
            "echo",
            "-r",
            "1",
            "--max-open",
            "0",
            "-x",
        ],
    );
    assert_ne!(run.code, Some(0));
    assert!(run.stdout.contains("--max-open"), "{}", run.stdout);
    let json = run.json();
    assert_eq!(
        json["requests"]["errors_by_kind"]["too-many-open"], 1,
        "{json}"
    );
}

#[test]
fn a_websockets_server_echoes_every_message_of_every_run() {
    let server = websockets_echo();
    let run = run(
        &example("rust", "live"),
        &[
            "--target",
            &server.url,
            "-s",
            "echo",
            "-w",
            "2",
            "-r",
            "5",
            "-x",
        ],
    );
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    assert_eq!(ok(json, "echo"), 10, "{json}");
    assert_eq!(
        json["custom"]["counters"]["WS /ws/echo received"], 30,
        "{json}"
    );
}

#[test]
fn a_server_pushing_past_the_frame_rate_fails_its_socket_and_is_counted() {
    let server = Server::start();
    let run = run(
        &example("rust", "live"),
        &[
            "--target",
            &server.url,
            "-s",
            "push",
            "-r",
            "2",
            "--ws-max-frame-rate",
            "2",
        ],
    );
    let json = run.json();
    assert_eq!(json["scenarios"]["failed"], 2, "{json}");
    let failures = &json["scenarios"]["by_name"]["push"]["failures"];
    assert!(
        failures.to_string().contains("frames in a second"),
        "{json}"
    );
    assert_eq!(
        json["custom"]["counters"]["WS /ws/push error frame-rate"], 2,
        "{json}"
    );
}

/// Workers waiting on sockets that stay silent (the echo server sends
/// nothing unasked) are cancelled at the end of `-d` once `--graceful-stop`
/// has passed, on a shared instance, and the results say so.
#[test]
fn the_end_of_the_run_cancels_workers_waiting_on_silent_sockets() {
    let server = websockets_echo();
    let run = run(
        &example("rust", "live"),
        &[
            "--target",
            &server.url,
            "-s",
            "push",
            "-w",
            "4",
            "-d",
            "2",
            "--graceful-stop",
            "1",
        ],
    );
    let json = run.json();
    assert_eq!(json["scenarios"]["cancelled"], 4, "{json}");
    assert!(json["duration_s"].as_f64().unwrap() < 10.0, "{json}");
}
