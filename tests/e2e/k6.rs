//! k6 scripts run unchanged (`molotov run script.js`): the JS SDK's k6 layer
//! gives them k6's modules, lifecycle and globals, and their options become
//! the run's, against the built-in target and a local httpbin (PyPI's,
//! installed by `tests/toolchains.sh`).

use serde_json::Value;

use crate::support::{
    PythonServer, Server, count, ok, run, run_in, self_signed_server, websockets_echo, workspace,
};

fn script(name: &str) -> std::path::PathBuf {
    workspace().join("tests/guests/js/k6").join(name)
}

/// The k6 script `name` run against `server` (as `--target` and
/// `__ENV.BASE_URL`), with `args` after.
fn run_against(server: &Server, name: &str, args: &[&str]) -> crate::support::Run {
    let base = format!("BASE_URL={}", server.url);
    let mut all = vec!["--target", server.url.as_str(), "--env", base.as_str()];
    all.extend_from_slice(args);
    run(&script(name), &all)
}

/// A custom counter's value: 0 if it never counted.
fn counter(json: &Value, name: &str) -> u64 {
    json["custom"]["counters"][name].as_u64().unwrap_or(0)
}

/// The script's options make the run (2 VUs sharing 8 iterations, its
/// thresholds); setup's data reaches every iteration and teardown; the
/// server answers exactly the requests the script makes; checks and custom
/// metrics are counted.
#[test]
fn a_k6_script_runs_unchanged_with_its_options() {
    let server = Server::start();
    let run = run_against(&server, "script.js", &[]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    assert_eq!(json["workers"], 2, "{json}");
    // Its waiting calls awaited by the build, the VUs share an instance.
    assert_eq!(json["workers_per_instance"], 128, "{json}");
    assert_eq!(ok(json, "default"), 8, "{json}");
    // setup's request, three per iteration (the refused one reaches none),
    // and the one that asks for these stats.
    assert_eq!(count(&server.stats()["requests"]), 1 + 3 * 8 + 1);
    // Checks within a group are named by its path, as k6 names them.
    for check in [
        "::hello::status is 200",
        "::hello::result is OK",
        "::hello::content type",
        "::hello::timings add up",
        "echo",
        "form",
        "refused is status 0",
        "refused has no JSON",
    ] {
        assert_eq!(
            counter(json, &format!("check {check}: passed")),
            8,
            "{check}: {json}"
        );
    }
    let paths: Vec<&str> = (json["k6"]["checks"].as_array().expect("checks").iter())
        .filter_map(|check| check["path"].as_str())
        .collect();
    assert!(paths.contains(&"::hello::status is 200") && paths.contains(&"::echo"));
    // k6's summary shows them under the group.
    assert!(
        run.stdout.contains("  █ hello\n    ✓ content type\n"),
        "{}",
        run.stdout
    );
    assert_eq!(counter(json, "checks: false"), 0, "{json}");
    assert_eq!(counter(json, "items"), 8);
    assert_eq!(counter(json, "fine: true"), 8);
    let trend = &json["custom"]["timings_ms"]["hello latency"];
    assert!(trend["max"].as_f64().is_some_and(|ms| ms > 0.0), "{json}");
    assert_eq!(
        count(&json["requests"]["by_name"]["hello"]["count"]),
        8,
        "{json}"
    );
    let thresholds: Vec<(String, bool)> = json["thresholds"]
        .as_array()
        .expect("thresholds")
        .iter()
        .map(|t| {
            (
                t["expr"].as_str().unwrap_or("").to_string(),
                t["ok"] == true,
            )
        })
        .collect();
    let expected = [
        "custom checks{kind:echo}: rate == 1",
        "custom group_duration{group:::hello}: max < 10000ms",
        "custom hello latency{kind:hello}: max < 10000",
        "p95 < 5000ms",
        "custom http_req_duration{group:::hello}: p95 < 5000ms",
        "hello: max < 10000ms abort",
        "custom http_req_duration{status:200}: p95 < 5000ms",
        "custom http_req_failed{method:GET,name:refused}: rate == 1",
        "custom http_req_failed{name:nothing}: rate < 0.01",
        "custom http_req_waiting: p95 < 5000ms",
        "custom http_reqs{status:500}: value < 1",
        "custom http_reqs{type:api}: value == 8",
        "custom items: value >= 8",
        "custom items{kind:none}: value == 0",
    ];
    assert_eq!(
        thresholds,
        expected.map(|expr| (expr.to_string(), true)),
        "{json}"
    );
    // Each sub-metric holds just the samples its tags match.
    let timings = &json["custom"]["timings_ms"];
    let ms = |name: &str, stat: &str| timings[name][stat].as_f64();
    assert!(ms("http_req_duration{status:200}", "min").is_some_and(|ms| ms > 0.0));
    assert_eq!(counter(json, "http_reqs{type:api}"), 8, "{json}");
    assert_eq!(
        counter(json, "http_req_failed{method:GET,name:refused}: true"),
        8
    );
    assert_eq!(counter(json, "checks{kind:echo}: true"), 8, "{json}");
    assert_eq!(counter(json, "checks{kind:echo}: false"), 0, "{json}");
    // The untagged trend has the zeros tagged `kind: other` too.
    assert!(ms("hello latency{kind:hello}", "min") > ms("hello latency", "min"));
    // The group's requests, and its own time.
    for group in [
        "http_req_duration{group:::hello}",
        "group_duration{group:::hello}",
    ] {
        assert!(
            ms(group, "min").is_some_and(|ms| ms > 0.0),
            "{group}: {json}"
        );
    }
    assert!(ms("group_duration", "max") >= ms("group_duration{group:::hello}", "max"));
    assert!(
        run.stderr
            .contains("threshold http_req_blocked: p(95)<5000 (not judged yet)"),
        "{}",
        run.stderr
    );
}

/// k6/html: parseHTML and response.html() give k6's Selection and Element
/// (an HTML5 parser, jQuery's traversal, forms serialized); a token read
/// from a page the server sent is posted back, its form submitted and a
/// link followed.
#[test]
fn k6_html_parses_pages_as_k6_does() {
    let server = Server::start();
    let run = run_against(&server, "html.js", &[]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    let checks = json["k6"]["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 13, "{json}");
    for check in checks {
        assert_eq!(
            (&check["passes"], &check["fails"]),
            (&4.into(), &0.into()),
            "{check}"
        );
    }
    assert_eq!(server.served(), 4 * 4 + 1);
}

/// Test data from a CSV file beside the script, parsed by jslib's papaparse
/// (imported by its URL, carried by the SDK) into a SharedArray.
#[test]
fn a_csv_file_parsed_by_jslibs_papaparse_feeds_the_iterations() {
    let server = Server::start();
    let run = run_against(&server, "csv.js", &[]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    for check in ["two users", "the user is posted"] {
        assert_eq!(
            counter(json, &format!("check {check}: passed")),
            4,
            "{check}: {json}"
        );
    }
    assert_eq!(server.served(), 4 + 1);
}

/// Newer k6 scripts' promises: an async default function, `http.asyncRequest`
/// (alone and at once), `http.url` naming a request by its template; and
/// `exec.vu.tags` tagging what the VU measures.
#[test]
fn async_requests_and_templated_urls_run_as_in_k6() {
    let server = Server::start();
    let run = run_against(&server, "async.js", &[]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    for check in [
        "asyncRequest",
        "at once",
        "a waiting call",
        "then, unawaited",
    ] {
        assert_eq!(
            counter(json, &format!("check {check}: passed")),
            4,
            "{check}: {json}"
        );
    }
    // The async function's waiting call awaited too: the VUs share.
    assert_eq!(json["workers_per_instance"], 128, "{json}");
    let by_name = &json["requests"]["by_name"];
    assert_eq!(count(&by_name["${}/?id=${}"]["count"]), 4, "{json}");
    assert_eq!(server.served(), 4 * 5 + 1);
    // exec.vu.tags tag every request the VU makes.
    assert_eq!(counter(json, "http_reqs{kind:async}"), 20, "{json}");
    assert_eq!(json["thresholds"][0]["ok"], true, "{json}");
}

/// Flags given on the command line override the script's options, as k6's
/// do; the script's thresholds still judge the run (3 items are not 8, nor
/// 3 requests tagged `type: api`).
#[test]
fn command_line_flags_override_the_scripts_options() {
    let server = Server::start();
    let run = run_against(&server, "script.js", &["-w", "1", "-r", "3"]);
    let json = run.json();
    assert_eq!(run.code, Some(1), "{}\n{json}", run.stderr);
    assert_eq!(json["workers"], 1, "{json}");
    assert_eq!(ok(json, "default"), 3, "{json}");
    let failed: Vec<&str> = json["thresholds"]
        .as_array()
        .expect("thresholds")
        .iter()
        .filter(|t| t["ok"] != true)
        .filter_map(|t| t["expr"].as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "custom http_reqs{type:api}: value == 8",
            "custom items: value >= 8"
        ],
        "{json}"
    );
}

/// A script's `handleSummary` gets the results in k6's shape and writes
/// what it returns (jslib's `textSummary` and `jUnit`, imported by URL);
/// the JSON results carry the same metrics; `exec.test.abort` stops the
/// run, which fails, with its summary and files still written.
#[test]
fn handle_summary_writes_the_scripts_own_summary_and_abort_stops_the_run() {
    let server = Server::start();
    let base = format!("BASE_URL={}", server.url);
    let dir = tempfile::tempdir().expect("a directory");
    let summary_js = script("summary.js");
    let summary_js = summary_js.to_str().expect("utf-8");
    let run = run_in(dir.path(), &[summary_js, "--env", &base]);
    let json = run.json();
    // `http_reqs: count>1000` fails: 10 requests.
    assert_eq!(run.code, Some(1), "{}\n{json}", run.stderr);
    let k6 = &json["k6"]["metrics"];
    assert_eq!(k6["http_reqs"]["values"]["count"], 10.0, "{json}");
    assert_eq!(k6["iterations"]["values"]["count"], 10.0, "{json}");
    assert_eq!(k6["checks"]["values"]["rate"], 1.0, "{json}");
    assert_eq!(k6["checks"]["values"]["passes"], 20.0, "{json}");
    assert_eq!(
        k6["checks"]["thresholds"]["rate>0.99"]["ok"], true,
        "{json}"
    );
    assert_eq!(k6["http_reqs"]["thresholds"]["count>1000"]["ok"], false);
    let home = &k6["http_req_duration{name:home}"];
    assert_eq!(home["thresholds"]["p(95)<5000"]["ok"], true, "{json}");
    assert!(home["values"]["p(95)"].as_f64().is_some_and(|ms| ms > 0.0));
    assert_eq!(k6["waited"]["type"], "trend", "{json}");
    // The bytes on the wire, as the egress manifest counts them by destination.
    let contacted = json["egress"]["contacted"].as_array().expect("contacted");
    for (metric, key, at_least) in [
        (
            "data_sent",
            "bytes_sent",
            10 * "GET / HTTP/1.1\r\n\r\n".len(),
        ),
        (
            "data_received",
            "bytes_received",
            10 * "HTTP/1.1 200 OK\r\n\r\n".len(),
        ),
    ] {
        let bytes: u64 = contacted.iter().map(|c| count(&c[key])).sum();
        assert!(bytes >= at_least as u64, "{metric}: {json}");
        assert_eq!(k6[metric]["values"]["count"].as_f64(), Some(bytes as f64));
        assert_eq!(k6[metric]["contains"], "data", "{json}");
    }
    // The parts of each request's time, as k6 splits it.
    let most = |metric: &str| k6[metric]["values"]["max"].as_f64().unwrap_or(-1.0);
    for phase in [
        "http_req_connecting",
        "http_req_tls_handshaking",
        "http_req_sending",
        "http_req_waiting",
        "http_req_receiving",
    ] {
        assert_eq!(k6[phase]["type"], "trend", "{phase}: {json}");
        assert!(
            (0.0..=most("http_req_duration")).contains(&most(phase)),
            "{phase}: {json}"
        );
    }
    assert!(most("http_req_waiting") > 0.0, "{json}");
    let checks = json["k6"]["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 2, "{json}");
    // What handleSummary wrote: the same data, JUnit, and its text instead
    // of molotov's k6 section.
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("summary.json")).expect("summary.json"),
    )
    .expect("JSON");
    let names = |metrics: &Value| -> Vec<String> {
        metrics
            .as_object()
            .expect("metrics")
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(names(&data["metrics"]), names(k6));
    assert_eq!(
        data["metrics"]["http_reqs"]["values"]["count"].as_f64(),
        Some(10.0)
    );
    assert_eq!(data["root_group"]["checks"][0]["name"], "status is 200");
    assert_eq!(data["root_group"]["checks"][0]["passes"], 10);
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit.xml");
    assert!(
        junit.contains(r#"<testsuites tests="3" failures="1">"#),
        "{junit}"
    );
    assert!(!run.stdout.contains("in k6's terms"), "{}", run.stdout);
    for line in [
        " ✓ status is 200",
        " ✓ checks....",
        " ✗ http_reqs....",
        ": avg=",
        " p(99)=",
    ] {
        assert!(run.stdout.contains(line), "{line:?} in:\n{}", run.stdout);
    }
    // summaryTrendStats: the statistics a trend has, the others named.
    assert_eq!(
        data["options"]["summaryTrendStats"],
        serde_json::json!(["avg", "p(99)", "max"])
    );
    assert!(!run.stdout.contains("p(95)="), "{}", run.stdout);
    assert!(
        run.stderr.contains("summaryTrendStats count (molotov keeps avg, min, med, max, p(50), p(90), p(95), p(99), p(99.9))"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&server.stats()["requests"]), 10 + 1);

    std::fs::remove_file(dir.path().join("summary.json")).expect("written");
    let aborted = run_in(
        dir.path(),
        &[summary_js, "--env", &base, "--env", "ABORT_AT=2", "-q"],
    );
    let json = aborted.json();
    assert_eq!(aborted.code, Some(1), "{}\n{json}", aborted.stderr);
    assert_eq!(json["stopped_by"], "aborted", "{json}");
    assert!(
        count(&json["scenarios"]["ok"]) + count(&json["scenarios"]["failed"]) < 10,
        "{json}"
    );
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains("the script aborted the run: enough for today"),
        "{json}"
    );
    assert!(dir.path().join("summary.json").exists());

    let escapes = run_in(
        dir.path(),
        &[
            script("summary_escapes.js").to_str().expect("utf-8"),
            "--env",
            &base,
            "-q",
        ],
    );
    escapes.assert_cannot_run(
        r#"handleSummary: "../escaped.txt" is not a path under the current directory"#,
    );
    assert!(
        escapes.json.is_some(),
        "the results are written all the same"
    );
    assert!(!dir.path().join("../escaped.txt").exists());
}

/// k6's WebSocket modules against PyPI's `websockets` echo server: each
/// iteration lasts until its socket closed and its timers ended, so every
/// echo is counted in the iteration that asked for it.
#[test]
fn k6_websockets_and_ws_echo_through_a_websockets_server() {
    let server = websockets_echo();
    let url = format!("WS_URL={}", server.url.replace("http://", "ws://"));
    let run = run(&script("websockets.js"), &["--env", &url]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    assert_eq!(ok(json, "default"), 6, "{json}");
    // Four browser-like iterations of three echoes, two of k6/ws of two.
    assert_eq!(counter(json, "echoes"), 4 * 3 + 2 * 2, "{json}");
    assert_eq!(counter(json, "checks: false"), 0, "{json}");
    assert_eq!(counter(json, "checks: true"), 4 * (3 + 1) + 2 * 2, "{json}");
    // In k6's terms: sockets and their messages, and a handshake's 101 is
    // no failed HTTP request.
    let k6 = &json["k6"]["metrics"];
    assert_eq!(k6["ws_sessions"]["values"]["count"], 6.0, "{json}");
    assert_eq!(k6["ws_msgs_sent"]["values"]["count"], 16.0, "{json}");
    assert_eq!(k6["ws_msgs_received"]["values"]["count"], 16.0, "{json}");
    assert_eq!(k6["http_req_failed"]["values"]["passes"], 0.0, "{json}");
    assert_eq!(k6["ws_session_duration"]["type"], "trend", "{json}");
    // k6/ws's 30 s timer was cleared with its socket.
    let longest = json["scenarios"]["duration_ms"]["max"].as_f64();
    assert!(longest.is_some_and(|ms| ms < 20_000.0), "{json}");
}

/// Several scenarios at once: each runs in a process of its own, with its
/// executor and from its startTime; setup and teardown run once, by the
/// parent, and setup's data reaches both; one report judges the whole run.
#[test]
fn several_scenarios_run_at_once_each_with_its_executor() {
    let server = Server::start();
    let base = format!("BASE_URL={}", server.url);
    let run = run(&script("scenarios.js"), &["--env", &base]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    assert!(
        run.stderr
            .contains("scenarios in a process each: browse, buy"),
        "{}",
        run.stderr
    );
    assert_eq!(
        (json["workers"].as_u64(), json["processes"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(ok(json, "browse"), 2 * 3, "{json}");
    assert_eq!(ok(json, "buy"), 4, "{json}");
    let by_name = &json["requests"]["by_name"];
    assert_eq!(count(&by_name["browse"]["count"]), 6, "{json}");
    assert_eq!(count(&by_name["buy"]["count"]), 4, "{json}");
    assert_eq!(count(&by_name["setup"]["count"]), 1, "{json}");
    assert_eq!(count(&by_name["teardown"]["count"]), 1, "{json}");
    assert_eq!(counter(json, "checks: true"), 10, "{json}");
    assert_eq!(count(&server.stats()["requests"]), 10 + 2 + 1);
    let verdicts: Vec<(&str, bool)> = (json["thresholds"].as_array().expect("thresholds").iter())
        .map(|t| (t["expr"].as_str().unwrap_or(""), t["ok"] == true))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("custom checks: rate == 1", true),
            ("buy: max < 10000ms", true)
        ],
        "{json}"
    );
    let k6 = &json["k6"]["metrics"];
    assert_eq!(k6["iterations"]["values"]["count"], 10.0, "{json}");
}

/// k6's time-based executors (constant-arrival-rate, ramping-vus,
/// constant-vus), three scenarios at once: each runs about as many
/// iterations as it implies, each request named by its scenario.
#[test]
fn time_based_executors_run_as_many_iterations_as_they_imply() {
    let server = Server::start();
    let base = format!("BASE_URL={}", server.url);
    let run = run(&script("executors.js"), &["--env", &base]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    let by_name = &json["requests"]["by_name"];
    // 10 a second for 2 s; a 0.1 s iteration for 2 s; up to 2 VUs and down.
    let arrivals = count(&by_name["arrivals"]["count"]);
    assert!((15..=25).contains(&arrivals), "{json}");
    let steady = count(&by_name["steady"]["count"]);
    assert!((8..=25).contains(&steady), "{json}");
    let ramp = count(&by_name["ramp"]["count"]);
    assert!((3..=40).contains(&ramp), "{json}");
    let scenarios = json["scenarios"]["by_name"].as_object().expect("scenarios");
    let names: Vec<&String> = scenarios.keys().collect();
    assert_eq!(names, ["arrivals", "ramp", "steady"], "{json}");
    assert_eq!(
        count(&server.stats()["requests"]),
        arrivals + steady + ramp + 1
    );
}

/// `insecureSkipTLSVerify` reaches a server whose certificate no one
/// vouches for; without it (`--insecure`), the same server is refused.
#[test]
fn insecure_skip_tls_verify_reaches_a_self_signed_server() {
    let (server, _ca) = self_signed_server(Vec::new());
    let url = format!("URL={}/", server.url);
    let run = run(&script("insecure.js"), &["--env", &url]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    assert_eq!(counter(json, "checks: true"), 2, "{json}");

    let hello = &crate::support::guests().hello;
    let checked = crate::support::run(hello, &["--target", &server.url, "-r", "1", "-q"]);
    let json = checked.json();
    assert_eq!(count(&json["requests"]["errors"]), 1, "{json}");
}

/// What a k6 user can get wrong is one line each, before any request.
#[test]
fn a_k6_scripts_mistakes_are_one_line_each() {
    for (name, expected) in [
        (
            "unsupported_module.js",
            "imports k6/browser, which molotov does not support",
        ),
        (
            "init_throws.js",
            "the script failed in its init context: JSON.parse",
        ),
        (
            "bad_threshold.js",
            "threshold http_req_duration: `p(95) 500` has no comparison",
        ),
    ] {
        let run = run(
            &script(name),
            &["-q", "--env", "BASE_URL=http://127.0.0.1:1/"],
        );
        run.assert_cannot_run(expected);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{name}: {}",
            run.stderr
        );
    }
}

/// httpbin (PyPI's) on 127.0.0.1, counting the requests it serves in a file.
const HTTPBIN: &str = r#"
import logging, sys, threading
from werkzeug.serving import make_server
from httpbin import app

logging.getLogger("werkzeug").setLevel(logging.ERROR)

counts_file = sys.argv[1]
lock = threading.Lock()
served = 0

def counted(environ, start_response):
    global served
    with lock:
        served += 1
        with open(counts_file, "w") as f:
            f.write(str(served))
    return app(environ, start_response)

server = make_server("127.0.0.1", 0, counted, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"#;

/// A script written for httpbin.org runs against a local httpbin with
/// `--connect-to`: every check passes, its thresholds (one on a request's
/// URL, one on a custom counter) hold, and httpbin served exactly the
/// requests the run reports. Another sends multipart bodies.
#[test]
fn a_k6_script_for_httpbin_runs_against_a_local_one() {
    let counts = tempfile::NamedTempFile::new().expect("a counts file");
    let httpbin = PythonServer::start(HTTPBIN, &[counts.path().as_os_str()]);
    let port = httpbin.url.rsplit(':').next().expect("a port");
    let connect = format!("httpbin.org:80:127.0.0.1:{port}");
    let run = run(&script("httpbin.js"), &["--connect-to", &connect]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    assert_eq!(ok(json, "default"), 6, "{json}");
    let served: u64 = std::fs::read_to_string(counts.path())
        .expect("httpbin's count")
        .trim()
        .parse()
        .expect("a number");
    assert_eq!(served, 6 * 14);
    assert_eq!(count(&json["requests"]["count"]), served, "{json}");
    assert_eq!(counter(json, "checks: false"), 0, "{json}");
    assert_eq!(counter(json, "checks: true"), 6 * 19, "{json}");
    // The summary in k6's terms, after molotov's own.
    for line in [
        "checks..........................: 100.00% ✓ 114 ✗ 0",
        "http_reqs.......................: 84 ",
        "iterations......................: 6 ",
        "vus.............................: 2",
    ] {
        assert!(run.stdout.contains(line), "{line:?} in:\n{}", run.stdout);
    }
    // Bytes as k6 shows them: `12 kB 3.4 kB/s`.
    for metric in ["data_received", "data_sent"] {
        let line = (run.stdout.lines())
            .find(|line| line.trim_start().starts_with(&format!("{metric}...")))
            .unwrap_or_default();
        assert!(line.ends_with("B/s"), "{metric} in:\n{}", run.stdout);
    }
    // A 418 per iteration: k6 counts statuses outside 200-399 as failed,
    // but the 401 that its own responseCallback expects.
    let failed = "http_req_failed.................: 7.14% ✓ 6 ✗ 78";
    assert!(run.stdout.contains(failed), "{}", run.stdout);
    // Sorted by metric name, as the options reach the host.
    let thresholds: Vec<(&str, bool)> = json["thresholds"]
        .as_array()
        .expect("thresholds")
        .iter()
        .map(|t| (t["expr"].as_str().unwrap_or(""), t["ok"] == true))
        .collect();
    assert_eq!(
        thresholds,
        [
            ("custom checks: rate == 1.0", true),
            ("http://httpbin.org/post: max < 2000ms", true),
            ("custom http_req_failed: rate < 0.15", true),
            ("custom json_size: mean > 0", true),
            ("custom verbs_checked: value == 30", true),
        ],
        "{json}"
    );
    // The threshold judges the share the summary shows.
    let judged = (json["thresholds"].as_array().expect("thresholds").iter())
        .find(|t| t["expr"] == "custom http_req_failed: rate < 0.15")
        .and_then(|t| t["value"].as_f64());
    assert_eq!(judged, Some(6.0 / 84.0), "{json}");

    // Multipart bodies with a file, and the userAgent option.
    let multipart = crate::support::run(&script("multipart.js"), &["--connect-to", &connect]);
    let json = multipart.json();
    assert_eq!(multipart.code, Some(0), "{}\n{json}", multipart.stderr);
    assert_eq!(counter(json, "checks: false"), 0, "{json}");
    assert_eq!(counter(json, "checks: true"), 2 * 7, "{json}");
    // Its 404s are expected (setResponseCallback): no failed request in k6's terms.
    assert_eq!(json["requests"]["by_status"]["404"], 2, "{json}");
    let failed = &json["k6"]["metrics"]["http_req_failed"]["values"];
    assert_eq!(
        (failed["passes"].as_f64(), failed["fails"].as_f64()),
        (Some(0.0), Some(10.0)),
        "{json}"
    );
}

/// k6/crypto's hashes and HMACs give what Python's hashlib gives.
#[test]
fn k6_crypto_hashes_as_hashlib_does() {
    let run = run(&script("crypto.js"), &["-r", "1"]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    assert_eq!(counter(json, "checks: false"), 0, "{json}");
    assert_eq!(counter(json, "checks: true"), 19, "{json}");
}

/// A script whose requests the build cannot await (made in a callback of
/// `forEach`) runs a VU per instance, unchanged and with the same counts.
#[test]
fn a_script_the_build_cannot_await_runs_a_vu_per_instance() {
    let server = Server::start();
    let base = format!("BASE_URL={}", server.url);
    let run = run(&script("foreach.js"), &["--env", &base]);
    let json = run.json();
    assert_eq!(run.code, Some(0), "{}\n{json}", run.stderr);
    assert_eq!(json["workers_per_instance"], 1, "{json}");
    assert_eq!(ok(json, "default"), 4, "{json}");
    assert_eq!(counter(json, "checks: true"), 8, "{json}");
    assert_eq!(count(&server.stats()["requests"]), 8 + 1);
}
