//! Reports people look at and metrics where teams watch them: the HTML
//! report and the live dashboard opened in a real headless Chromium
//! (Debian's, installed by `tests/toolchains.sh`), and remote write into a
//! real Prometheus started on 127.0.0.1 for the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// What headless Chromium made of a page: its DOM after the scripts ran,
/// and the lines of the page's console (errors, blocked requests).
struct Browsed {
    dom: String,
    console: Vec<String>,
}

/// Opens `url` in headless Chromium with a profile of its own, able to
/// resolve 127.0.0.1 only (so that nothing leaves the machine), and lets the
/// page's timers run for `budget_ms` of virtual time.
fn browse(url: &str, budget_ms: u32, extra: &[&str]) -> Browsed {
    let profile = scratch("chromium-profile");
    let output = Command::new("timeout")
        .arg("120")
        .arg(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--enable-logging=stderr",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("chromium starts (run tests/toolchains.sh)");
    assert!(output.status.success(), "chromium failed: {output:?}");
    let _ = std::fs::remove_dir_all(&profile);
    Browsed {
        dom: String::from_utf8_lossy(&output.stdout).into_owned(),
        console: (String::from_utf8_lossy(&output.stderr).lines())
            .filter(|line| line.contains(":INFO:CONSOLE"))
            .map(String::from)
            .collect(),
    }
}

/// The `data-value` of the element with `id`.
fn value_of(dom: &str, id: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    attribute_after(&dom[at..], "data-value")
}

/// The first `data-value` in the row of `name` in the table `#table`.
fn row_value(dom: &str, table: &str, name: &str) -> String {
    let table_at = dom.find(&format!("id=\"{table}\"")).expect("the table");
    let row_at = dom[table_at..]
        .find(&format!("data-name=\"{name}\""))
        .unwrap_or_else(|| panic!("no row {name:?} in #{table}"));
    attribute_after(&dom[table_at + row_at + 1..], "data-value")
}

fn attribute_after(text: &str, attribute: &str) -> String {
    let marker = format!("{attribute}=\"");
    let start = text.find(&marker).expect("the attribute") + marker.len();
    text[start..]
        .split('"')
        .next()
        .expect("a value")
        .to_string()
}

fn file_url(path: &Path) -> String {
    format!(
        "file://{}",
        path.canonicalize().expect("the page exists").display()
    )
}

#[test]
fn the_html_report_renders_in_chromium_with_the_numbers_of_the_json() {
    let server = Server::start();
    let html = scratch("report.html");
    let run = run_against(
        &server,
        &guests().read_write,
        &["-w", "2", "-d", "3", "-q", "--html", html.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();

    let page = browse(&file_url(&html), 2000, &["--dump-dom"]);
    // No console line: no script error, and no request (the page's
    // Content-Security-Policy would log any it blocked).
    assert_eq!(page.console, Vec::<String>::new());
    assert_eq!(
        value_of(&page.dom, "requests-count"),
        json["requests"]["count"].to_string()
    );
    assert_eq!(
        value_of(&page.dom, "scenarios-ok"),
        json["scenarios"]["ok"].to_string()
    );
    for (name, named) in json["requests"]["by_name"].as_object().unwrap() {
        assert_eq!(
            row_value(&page.dom, "requests", name),
            named["count"].to_string()
        );
    }
    for (name, scenario) in json["scenarios"]["by_name"].as_object().unwrap() {
        assert_eq!(
            row_value(&page.dom, "scenarios", name),
            scenario["ok"].to_string()
        );
    }
    for (status, count) in json["requests"]["by_status"].as_object().unwrap() {
        assert!(page.dom.contains(&format!(
            "<td>{status}</td><td class=\"n\" data-value=\"{count}\">"
        )));
    }
    // Four charts (requests, latency, workers, distribution), each with lines.
    let charts: Vec<&str> = page.dom.split("<svg").skip(1).collect();
    assert_eq!(charts.len(), 4, "{}", page.dom);
    for chart in charts {
        let chart = chart.split("</svg>").next().unwrap();
        assert!(
            chart.contains("<polyline") || chart.contains("<path"),
            "an empty chart: {chart}"
        );
    }

    // A screenshot for people to look at (kept under target/).
    let screenshot = workspace().join("target").join("report-screenshot.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = format!("--screenshot={}", screenshot.display());
    browse(&file_url(&html), 2000, &[&shot, "--window-size=1280,2600"]);
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );

    // `molotov report` makes the same page from the JSON file.
    let results = scratch("results.json");
    std::fs::write(&results, json.to_string()).unwrap();
    let from_json = scratch("from-json.html");
    let made = molotov()
        .args([
            "report",
            results.to_str().unwrap(),
            "-o",
            from_json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let again = std::fs::read_to_string(&from_json).unwrap();
    assert_eq!(
        value_of(&again, "requests-count"),
        json["requests"]["count"].to_string()
    );
}

#[test]
fn shards_raw_results_make_one_report_merged_exactly() {
    let server = Server::start();
    let raws: Vec<PathBuf> = (0..2)
        .map(|index| {
            let raw = scratch("shard.raw.json");
            let shard = format!("{index}/2");
            let run = run_against(
                &server,
                &guests().hello,
                &[
                    "-w",
                    "2",
                    "-r",
                    "5",
                    "-q",
                    "--shard",
                    &shard,
                    "--raw",
                    raw.to_str().unwrap(),
                ],
            );
            assert_eq!(run.code, Some(0), "{}", run.stderr);
            raw
        })
        .collect();
    let html = scratch("merged.html");
    let made = molotov()
        .arg("report")
        .args(&raws)
        .arg("-o")
        .arg(&html)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let page = std::fs::read_to_string(&html).unwrap();
    // Two shards of one worker each, five runs a worker.
    assert_eq!(value_of(&page, "requests-count"), "10");
    assert_eq!(value_of(&page, "scenarios-ok"), "10");

    // `molotov merge --html` writes the same report.
    let merged = scratch("merged-by-merge.html");
    let out = molotov()
        .arg("merge")
        .args(&raws)
        .args(["-q", "--html", merged.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let page = std::fs::read_to_string(&merged).unwrap();
    assert_eq!(value_of(&page, "requests-count"), "10");
}

#[test]
fn a_run_compared_with_its_baseline_shows_both() {
    let server = Server::start();
    let results: Vec<(PathBuf, Value)> = ["2", "4"]
        .into_iter()
        .map(|workers| {
            let run = run_against(
                &server,
                &guests().read_write,
                &["-w", workers, "-r", "50", "-q"],
            );
            assert_eq!(run.code, Some(0), "{}", run.stderr);
            let json = scratch("compared.json");
            std::fs::write(&json, run.json().to_string()).unwrap();
            (json, run.json().clone())
        })
        .collect();
    let (before, after) = (&results[0], &results[1]);
    let html = scratch("compared.html");
    let made = molotov()
        .arg("report")
        .arg(&after.0)
        .arg("--baseline")
        .arg(&before.0)
        .arg("-o")
        .arg(&html)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let page = browse(&file_url(&html), 1000, &["--dump-dom"]);
    assert_eq!(page.console, Vec::<String>::new());
    assert!(page.dom.contains("Compared with the baseline"));
    let compared = &page.dom[page.dom.find("id=\"compare-names\"").unwrap()..];
    for (name, named) in after.1["requests"]["by_name"].as_object().unwrap() {
        let before_count = count(&before.1["requests"]["by_name"][name]["count"]);
        let row = &compared[compared.find(&format!("data-name=\"{name}\"")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains(&format!("<td class=\"n\">{before_count}</td>")),
            "{row}"
        );
        assert!(
            row.contains(&format!("data-value=\"{}\"", named["count"])),
            "{row}"
        );
    }
    // Five charts: the report's four and the two distributions side by side.
    assert_eq!(page.dom.matches("<svg").count(), 5);
}

#[test]
fn report_names_what_it_cannot_read() {
    let results = scratch("two-results.json");
    let report = br#"{"molotov_version":"0","requests":{}}"#;
    std::fs::write(&results, report).unwrap();
    for (files, expected) in [
        (vec![scratch("missing.json")], "cannot read"),
        (vec![file_with("notes.txt", b"hello")], "is not JSON"),
        (
            vec![file_with("foreign.json", br#"{"users":[1,2]}"#)],
            "is neither molotov's results",
        ),
        (
            vec![file_with("broken.json", br#"{"requests":3}"#)],
            "is not molotov's results",
        ),
        (
            vec![results.clone(), results.clone()],
            "merge exactly only from their raw results",
        ),
    ] {
        let out = molotov()
            .arg("report")
            .args(&files)
            .args(["-o", scratch("never.html").to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in {stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// Reads the child's stderr on a thread; returns the dashboard's URL once printed.
fn dashboard_url(child: &mut Child) -> String {
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.split("dashboard: ").nth(1) {
                let _ = sender.send(url.trim().to_string());
            }
        }
    });
    receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the run prints its dashboard's address")
}

#[test]
fn the_live_dashboard_shows_the_counts_grow_in_chromium() {
    let server = Server::start();
    let json = scratch("dashboard.json");
    let mut child = molotov()
        .arg("run")
        .arg(&guests().read_write)
        .args(["--target", &server.url, "-w", "2", "-d", "8", "--console"])
        .args(["--dashboard=127.0.0.1:0", "--json", json.to_str().unwrap()])
        .spawn()
        .unwrap();
    let url = dashboard_url(&mut child);
    // A page whose own name was rebound to 127.0.0.1 cannot read it.
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    std::thread::sleep(Duration::from_millis(2500));
    let first = browse(&url, 1500, &["--dump-dom"]);
    std::thread::sleep(Duration::from_millis(2000));
    let second = browse(&url, 1500, &["--dump-dom"]);
    let status = child.wait().unwrap();
    assert!(status.success());

    assert_eq!(first.console, Vec::<String>::new());
    assert!(
        first.dom.contains("data-state=\"running\""),
        "{}",
        first.dom
    );
    assert!(
        first.dom.contains("data-updates="),
        "the page updated itself: {}",
        first.dom
    );
    let count = |page: &Browsed| -> u64 { value_of(&page.dom, "requests-count").parse().unwrap() };
    assert!(0 < count(&first) && count(&first) < count(&second));
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(count(&second) <= results["requests"]["count"].as_u64().unwrap());
}

/// Prometheus with its remote-write receiver, on 127.0.0.1, stopped by pid.
struct Prometheus {
    child: Child,
    address: String,
}

impl Prometheus {
    fn start() -> Self {
        let dir = scratch("prometheus");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("prometheus.yml"), "scrape_configs: []\n").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus starts (run tests/toolchains.sh)");
        let prometheus = Self { child, address };
        let started = Instant::now();
        while !prometheus.get("/-/ready").starts_with("HTTP/1.1 200") {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "Prometheus is not ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        prometheus
    }

    fn get(&self, path: &str) -> String {
        let Ok(mut stream) = std::net::TcpStream::connect(&self.address) else {
            return String::new();
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        );
        let mut answer = String::new();
        let _ = stream.write_all(request.as_bytes());
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    /// The value of an instant PromQL query that returns one number.
    fn query(&self, promql: &str) -> f64 {
        let query: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        let answer = self.get(&format!("/api/v1/query?query={query}"));
        let body = answer.split("\r\n\r\n").nth(1).expect("a body");
        let json: Value = serde_json::from_str(body).expect("JSON");
        let value = &json["data"]["result"][0]["value"][1];
        value
            .as_str()
            .unwrap_or_else(|| panic!("{promql}: {json}"))
            .parse()
            .unwrap()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn remote_write_reaches_a_real_prometheus_with_the_counts_of_the_json() {
    let prometheus = Prometheus::start();
    let server = Server::start();
    let write_url = format!("http://{}/api/v1/write", prometheus.address);
    let label = format!("rw{}", std::process::id());
    let run = run_against(
        &server,
        &guests().read_write,
        &[
            "-w",
            "2",
            "-d",
            "3",
            "-q",
            "--prometheus-rw",
            &write_url,
            "--prometheus-rw-every",
            "1",
            "--prometheus-label",
            &format!("test={label}"),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    let sum = |series: &str| prometheus.query(&format!("sum({series})")) as u64;
    let requests = count(&json["requests"]["count"]);
    assert!(requests > 0);
    assert_eq!(
        sum(&format!("molotov_requests_total{{test=\"{label}\"}}")),
        requests
    );
    assert_eq!(
        sum(&format!(
            "molotov_request_duration_seconds_count{{test=\"{label}\"}}"
        )),
        requests
    );
    assert_eq!(
        sum(&format!(
            "molotov_runs_total{{test=\"{label}\",outcome=\"ok\"}}"
        )),
        count(&json["scenarios"]["ok"])
    );
    assert_eq!(
        sum(&format!(
            "molotov_responses_total{{test=\"{label}\",status=\"200\",job=\"molotov\",process=\"0\"}}"
        )),
        requests
    );

    // `-p 2`: each process pushes its own series, under one run id.
    let label = format!("rwp{}", std::process::id());
    let run = run_against(
        &server,
        &guests().hello,
        &[
            "-p",
            "2",
            "-w",
            "1",
            "-r",
            "7",
            "-q",
            "--prometheus-rw",
            &write_url,
            "--prometheus-label",
            &format!("test={label}"),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let selector = format!("molotov_requests_total{{test=\"{label}\"}}");
    assert_eq!(sum(&selector), 14);
    let processes = prometheus.query(&format!("count(count by (process) ({selector}))"));
    let run_ids = prometheus.query(&format!("count(count by (run_id) ({selector}))"));
    assert_eq!((processes, run_ids), (2.0, 1.0));

    // A k6 script's run pushes k6's own series as well.
    let label = format!("rwk6{}", std::process::id());
    let k6_script = workspace().join("tests/guests/js/k6/script.js");
    let run = run_against(
        &server,
        &k6_script,
        &[
            "-q",
            "--env",
            &format!("BASE_URL={}", server.url),
            "--prometheus-rw",
            &write_url,
            "--prometheus-label",
            &format!("test={label}"),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    let k6 = |series: &str| prometheus.query(&format!("{series}{{test=\"{label}\"}}"));
    let requests = prometheus.query(&format!("sum(k6_http_reqs_total{{test=\"{label}\"}})"));
    assert_eq!(requests as u64, count(&json["requests"]["count"]));
    assert_eq!(k6("k6_iterations_total"), 8.0);
    assert_eq!(k6("k6_vus_max"), 2.0);
    assert!(k6("k6_hello_latency_p95") > 0.0);
    let contacted = json["egress"]["contacted"].as_array().expect("contacted");
    let received: u64 = contacted.iter().map(|c| count(&c["bytes_received"])).sum();
    assert!(received > 0, "{json}");
    assert_eq!(k6("k6_data_received_total"), received as f64);
    let check = format!("k6_checks_rate{{test=\"{label}\",check=\"status is 200\"}}");
    assert_eq!(prometheus.query(&check), 1.0);
    let named = format!("k6_http_req_duration_max{{test=\"{label}\",name=\"hello\"}}");
    assert!(prometheus.query(&named) > 0.0);
}

#[test]
fn an_unreachable_remote_write_url_warns_once_and_the_run_completes() {
    let server = Server::start();
    let run = run_against(
        &server,
        &guests().hello,
        &[
            "-w",
            "1",
            "-d",
            "3",
            "--console",
            "--prometheus-rw",
            "http://127.0.0.1:1/api/v1/write",
            "--prometheus-rw-every",
            "1",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(count(&run.json()["scenarios"]["ok"]) > 0);
    assert_eq!(
        run.stderr.matches("cannot push metrics").count(),
        1,
        "{}",
        run.stderr
    );
}
