//! Molotov parity around the run: `molotov new`, `--config`, sizing, statsd, processes.

use crate::support::{Run, Server, count, guests, run_against, run_args, scratch};

/// `molotov run --config FILE TEST ARGS…`.
fn run_config(args: &[&str]) -> Run {
    let (config, rest) = args.split_first().expect("a config");
    let mut all = vec!["--config", config];
    all.extend_from_slice(rest);
    run_args(&all)
}

#[test]
fn config_env_reaches_the_scenario_and_bad_configs_are_named() {
    let server = Server::start();
    let config = scratch("molotov.json");
    let text = serde_json::json!({"molotov": {
        "env": {"EXPECTED": "yes"},
        "tests": {
            "state": {
                "scenario": guests().suite,
                "single_mode": "session_state",
                "max-runs": 2,
                "target": server.url,
            },
            "typo": {"scenario": guests().suite, "wokers": 3},
            "wrong-type": {"scenario": guests().suite, "workers": "ten", "duration": 5},
            "wrong-switch": {"scenario": guests().suite, "single_run": 5},
        }
    }});
    std::fs::write(&config, text.to_string()).expect("write config");
    let config = config.to_str().expect("utf-8 path");

    let state = run_config(&[config, "state"]);
    assert_eq!(state.code, Some(0), "stderr: {}", state.stderr);
    assert_eq!(count(&state.json()["scenarios"]["ok"]), 2);

    run_config(&[config, "missing"]).assert_cannot_run(
        "no test named `missing`; it has: state, typo, wrong-switch, wrong-type",
    );
    run_config(&[config, "typo"]).assert_cannot_run("test `typo`: unknown option `wokers`");
    let wrong_type = run_config(&[config, "wrong-type"]);
    wrong_type.assert_cannot_run(&format!(
        "{config}: test `wrong-type`: option `workers`: invalid value 'ten'"
    ));
    assert_eq!(
        wrong_type.stderr.lines().count(),
        1,
        "{}",
        wrong_type.stderr
    );
    run_config(&[config, "wrong-switch"])
        .assert_cannot_run("test `wrong-switch`: option `single_run`: invalid value '5'");
}

/// Workers beyond the service's capacity of 6 get 503s: with a tolerance of
/// 20%, sizing must stop between 7 workers (14% failing) and 8 (25%), give
/// or take the worker that joins during a check, and cancel the rest of the
/// ramp-up.
#[test]
fn sizing_stops_where_the_failure_ratio_passes_the_tolerance() {
    let server = Server::start();
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-s",
            "capacity",
            "--env",
            "CAPACITY=6",
            "--sizing",
            "--sizing-tolerance",
            "20",
            "-w",
            "30",
            "--ramp-up",
            "15",
            "-d",
            "30",
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["stopped_by"], "sizing");
    let sizing = &json["sizing"];
    assert_eq!(sizing["reached"], true);
    assert_eq!(sizing["tolerance_percent"], 20.0);
    let workers = count(&sizing["workers"]);
    assert!((7..=10).contains(&workers), "reached at {workers} workers");
    let ratio = sizing["failure_percent"].as_f64().expect("a ratio");
    assert!(ratio > 20.0 && ratio < 45.0, "failure ratio {ratio}%");
    assert!(
        json["duration_s"].as_f64().expect("duration") < 10.0,
        "the ramp-up was cancelled"
    );
    assert!(
        run.stdout.contains("SIZING: tolerance 20% passed at"),
        "{}",
        run.stdout
    );
}

/// Every request and run reaches a real UDP socket under Molotov's names.
#[test]
fn statsd_receives_a_timing_and_a_counter_per_request() {
    let server = Server::start();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
    socket
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .expect("timeout");
    let address = format!("udp://{}", socket.local_addr().expect("address"));
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-s",
            "ok",
            "-w",
            "2",
            "-r",
            "5",
            "--statsd",
            "--statsd-address",
            &address,
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let mut lines = Vec::new();
    let mut datagram = [0u8; 2048];
    while let Ok(size) = socket.recv(&mut datagram) {
        let text = String::from_utf8_lossy(&datagram[..size]).into_owned();
        lines.extend(text.lines().map(String::from));
    }
    let port = server
        .url
        .rsplit(':')
        .next()
        .expect("a port")
        .trim_end_matches('/');
    let key = format!(".GET.127_0_0_1_{port}._");
    let with = |suffix: &str| {
        lines
            .iter()
            .filter(|l| l.starts_with("molotov.") && l.contains(&key) && l.ends_with(suffix))
            .count()
    };
    assert_eq!(with("|ms"), 10, "{lines:?}");
    assert_eq!(with(".200:1|c"), 10, "{lines:?}");
    let runs = lines
        .iter()
        .filter(|l| l.contains(".scenario.ok.ok:1|c"))
        .count();
    assert_eq!(runs, 10, "{lines:?}");
}

#[test]
fn a_bad_statsd_address_cannot_run() {
    crate::support::run(
        &guests().hello,
        &["-r", "1", "--statsd", "--statsd-address", "udp://nowhere"],
    )
    .assert_cannot_run("--statsd-address udp://nowhere: not a host:port");
}

/// Two processes: the totals are the sum of the parts, as the server counted them.
#[test]
fn processes_merge_into_one_report() {
    let server = Server::start();
    let before = server.served();
    let run = run_against(
        &server,
        &guests().suite,
        &["-p", "2", "-w", "2", "-r", "5", "-s", "ok"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["processes"]), 2);
    assert_eq!(count(&json["workers"]), 4);
    assert_eq!(count(&json["scenarios"]["ok"]), 20);
    assert_eq!(count(&json["requests"]["by_name"]["GET /"]["count"]), 20);
    assert_eq!(
        server.served() - before - 1,
        20,
        "the server saw every request once"
    );
    let latency = &json["latency_ms"];
    let (p50, max) = (latency["p50"].as_f64(), latency["max"].as_f64());
    assert!(
        p50.zip(max)
            .is_some_and(|(p50, max)| p50 > 0.0 && p50 <= max),
        "{latency}"
    );
    assert!(
        run.stdout.contains("WORKERS: 4 in 2 processes"),
        "{}",
        run.stdout
    );
}

/// `-x` in one process stops the others (whose runs all succeed), and the
/// merged exit code says so.
#[test]
fn a_stop_rule_in_one_process_stops_them_all() {
    let server = Server::start();
    let run = run_against(
        &server,
        &guests().suite,
        &[
            "-p",
            "2",
            "-w",
            "2",
            "-d",
            "30",
            "-s",
            "first_process_fails",
            "-x",
        ],
    );
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["stopped_by"], "exception");
    assert!(count(&json["scenarios"]["failed"]) >= 1);
    assert!(json["duration_s"].as_f64().expect("duration") < 20.0);
}

/// Ctrl+C reaches every process through the parent, and the merged results are written.
#[test]
fn ctrl_c_stops_every_process_and_still_writes_the_results() {
    let run = crate::support::run_interrupted(
        &guests().hello,
        &["-p", "2", "-w", "2", "-d", "60", "-c"],
        std::time::Duration::from_secs(2),
    );
    assert_eq!(run.code, Some(130), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["stopped_by"], "interrupted");
    assert_eq!(count(&json["processes"]), 2);
    assert!(
        run.stderr.contains("| WORKERS: 4 | REQUESTS: "),
        "the parent shows the processes' progress added up: {}",
        run.stderr
    );
    assert!(count(&json["scenarios"]["ok"]) > 0);
}

/// `-vv` shows each exchange: the request as sent, the response as received.
#[test]
fn very_verbose_dumps_requests_and_responses() {
    let server = Server::start();
    let run = run_against(&server, &guests().suite, &["-s", "ok", "-r", "1", "-vv"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("[W:0] > GET /\n"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("[W:0] < 200 {}/ (", server.url)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("[W:0] < {\"result\":\"OK\"}"),
        "{}",
        run.stderr
    );
}

/// The scenario's delay and `--delay` add up after every run.
#[test]
fn delays_pause_each_worker_after_every_run() {
    let server = Server::start();
    let run = run_against(
        &server,
        &guests().suite,
        &["-s", "paced", "-w", "2", "-r", "3", "--delay", "0.1"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(count(&json["scenarios"]["ok"]), 6);
    let seconds = json["duration_s"].as_f64().expect("duration");
    // Two pauses of 0.3 s between three runs at the least.
    assert!(seconds >= 0.6, "{seconds} s");
}
