//! The egress policy, tried as a hostile scenario would, through the session
//! and through JavaScript's `fetch` (`wasi:http`). Every address other than
//! loopback lives inside a network namespace of the test's own (`unshare
//! -mn`: only `lo`, the stand-in addresses added to it, a test `/etc/hosts`),
//! so no packet leaves the machine; the verdict is what each stand-in server
//! saw, not only what molotov said.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::support::{Run, count, guests, run, workspace};

/// Set in the copy of this test binary that runs inside the namespace.
const INSIDE: &str = "MOLOTOV_E2E_INSIDE_NETNS";

/// The stand-in addresses, bound on `lo` inside the namespace.
const METADATA_V4: &str = "169.254.169.254";
const ALIBABA: &str = "100.100.100.200";
const METADATA_V6: &str = "fd00:ec2::254";
const STAGING: &str = "10.20.30.40";

const HOSTS: &str = "127.0.0.1 localhost\n\
    ::1 localhost\n\
    169.254.169.254 metadata.google.internal\n\
    169.254.169.254 api.example.test\n\
    10.20.30.40 staging.example.test\n\
    127.0.0.9 two.example.test\n\
    169.254.169.254 two.example.test\n";

#[test]
fn scenarios_reach_only_what_the_egress_policy_allows() {
    // Built here, where the registries are reachable, not inside the namespace.
    guests();
    let exe = std::env::current_exe().expect("the test binary");
    let output = Command::new("unshare")
        .args(["-mn", "--"])
        .arg(exe)
        .args(["--exact", "egress::inside_a_network_namespace"])
        .args(["--ignored", "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .expect("unshare runs (util-linux)");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && printed.contains("1 passed"),
        "the tests inside the network namespace failed (run as root?):\n{printed}"
    );
}

#[test]
#[ignore = "run inside a network namespace by scenarios_reach_only_what_the_egress_policy_allows"]
fn inside_a_network_namespace() {
    assert!(
        std::env::var_os(INSIDE).is_some(),
        "run only inside the namespace that the test above makes"
    );
    isolate();
    let standins = Standins::start();

    let denied = [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::ffff:169.254.169.254]/",
        "http://2852039166/",
        "http://0251.0376.0251.0376/",
        "http://0xa9fea9fe/",
        "http://169.254.43518/",
        "http://two.example.test/",
        "http://127.0.0.1/to-metadata",
        "http://0.0.0.0/via-unspecified",
        "http://[::]/via-unspecified-v6",
    ];
    let reached = ["http://10.20.30.40/staging", "http://127.0.0.1/loopback"];
    let probes: Vec<&str> = denied.iter().chain(&reached).copied().collect();

    // The session, then JavaScript's fetch: the same refusals.
    let js = workspace().join("tests/guests/js/probe_fetch.js");
    for (path, component, scenario) in [
        ("session", guests().suite.as_path(), Some("probe")),
        ("fetch", js.as_path(), None),
    ] {
        let run = probe(component, scenario, &probes, &[]);
        let seen = run.printed_by("W:0");
        for url in denied {
            let line = probe_line(&seen, url);
            assert!(
                line.contains("error") && (path == "fetch" || line.contains("egress denied")),
                "{path}: {url} was not refused: {line}"
            );
            assert!(!line.contains("SECRET"), "{path}: {url} leaked: {line}");
        }
        for url in reached {
            let line = probe_line(&seen, url);
            assert!(
                line.contains("200 SECRET"),
                "{path}: {url} not reached: {line}"
            );
        }
        let json = run.json();
        assert_eq!(
            count(&json["requests"]["errors_by_kind"]["egress-denied"]),
            denied.len() as u64,
            "{path}: {}",
            json["requests"]
        );
        let refused = &json["egress"]["refused"];
        for rule in ["cloud-metadata", "unspecified"] {
            assert!(
                refused
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["rule"] == rule),
                "{path}: no refusal by {rule}: {refused}"
            );
        }
        let contacted = json["egress"]["contacted"].to_string();
        assert!(contacted.contains(STAGING), "{path}: {contacted}");
        assert!(!contacted.contains(METADATA_V4), "{path}: {contacted}");
        assert!(run.stdout.contains("EGRESS REFUSED:"), "{}", run.stdout);
        standins.assert_untouched(path);
    }

    // An allowed name whose address is metadata; a --connect-to to metadata.
    for (url, flags) in [
        (
            "http://api.example.test/",
            ["--allow-host", "api.example.test"],
        ),
        (
            "http://127.0.0.1/connect-to",
            ["--connect-to", "127.0.0.1:80:169.254.169.254:80"],
        ),
    ] {
        let run = probe(&guests().suite, Some("probe"), &[url], &flags);
        let line = probe_line(&run.printed_by("W:0"), url);
        assert!(line.contains("egress denied"), "{line}");
        assert_eq!(run.code, Some(3), "nothing was reached: {}", run.stdout);
    }
    standins.assert_untouched("allow-host and connect-to");

    // The operator's explicit allow reaches a denied address.
    let run = probe(
        &guests().suite,
        Some("probe"),
        &["http://169.254.169.254/allowed"],
        &["--egress-allow", "169.254.169.254/32"],
    );
    let line = probe_line(&run.printed_by("W:0"), "http://169.254.169.254/allowed");
    assert!(line.contains("200 SECRET"), "{line}");
    assert_eq!(standins.paths(METADATA_V4), ["/allowed"]);
    standins.forget();

    // Strict: the target (a literal) is reached; a private address behind an
    // allowed name only with --egress-allow; other hosts not at all.
    let strict = ["--egress-strict", "--allow-host", "staging.example.test"];
    let urls = [
        "http://127.0.0.1/strict-target",
        "http://staging.example.test/strict-private",
        "http://10.20.30.40/strict-other-host",
    ];
    let run = probe(&guests().suite, Some("probe"), &urls, &strict);
    let seen = run.printed_by("W:0");
    assert!(probe_line(&seen, urls[0]).contains("200 SECRET"));
    let private = probe_line(&seen, urls[1]);
    assert!(private.contains("private (--egress-strict)"), "{private}");
    assert!(probe_line(&seen, urls[2]).contains("host not allowed"));
    assert!(standins.paths(STAGING).is_empty());
    let allowed = [&strict[..], &["--egress-allow", "10.20.30.0/24"]].concat();
    let run = probe(&guests().suite, Some("probe"), &urls[1..2], &allowed);
    assert!(probe_line(&run.printed_by("W:0"), urls[1]).contains("200 SECRET"));
}

/// One run of `component` (its `scenario`) probing `urls` against the
/// loopback stand-in as target; it exits 0, or 3 when no probe got a response.
fn probe(
    component: &std::path::Path,
    scenario: Option<&str>,
    urls: &[&str],
    extra: &[&str],
) -> Run {
    let probes = format!("PROBES={}", urls.join(" "));
    let mut args = vec![
        "--target",
        "http://127.0.0.1:80",
        "-r",
        "1",
        "--timeout",
        "3",
    ];
    args.extend(["--env", &probes]);
    if let Some(scenario) = scenario {
        args.extend(["-s", scenario]);
    }
    args.extend_from_slice(extra);
    let run = run(component, &args);
    assert!(matches!(run.code, Some(0 | 3)), "stderr: {}", run.stderr);
    run
}

/// What the scenario printed for `url`.
fn probe_line<'a>(printed: &[&'a str], url: &str) -> &'a str {
    let prefix = format!("PROBE {url} -> ");
    printed
        .iter()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no probe of {url} in {printed:?}"))
}

/// Checks that this is a namespace of its own with only `lo`, then adds the
/// stand-in addresses to `lo` and lays a test `/etc/hosts` over the real one.
fn isolate() {
    let devices = std::fs::read_to_string("/proc/self/net/dev").expect("/proc/self/net/dev");
    let interfaces: Vec<&str> = (devices.lines().skip(2))
        .filter_map(|line| line.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(interfaces, ["lo"], "not an isolated network namespace");
    ip(&["link", "set", "lo", "up"]);
    for address in [METADATA_V4, ALIBABA, STAGING] {
        ip(&["addr", "add", &format!("{address}/32"), "dev", "lo"]);
    }
    ip(&[
        "-6",
        "addr",
        "add",
        &format!("{METADATA_V6}/128"),
        "dev",
        "lo",
        "nodad",
    ]);
    let hosts = std::env::temp_dir().join(format!("molotov-e2e-hosts-{}", std::process::id()));
    std::fs::write(&hosts, HOSTS).expect("write the test hosts file");
    let status = Command::new("mount")
        .arg("--bind")
        .arg(&hosts)
        .arg("/etc/hosts")
        .status()
        .expect("mount runs");
    assert!(status.success(), "cannot bind-mount the test /etc/hosts");
}

fn ip(args: &[&str]) {
    let status = Command::new("ip")
        .args(args)
        .status()
        .expect("ip runs (iproute2)");
    assert!(status.success(), "ip {args:?} failed");
}

/// Small HTTP servers on the stand-in addresses, port 80: each answers with a
/// secret and records the path of every request it saw. The one on
/// 127.0.0.1 redirects `/to-metadata` to the metadata address.
struct Standins {
    seen: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl Standins {
    fn start() -> Self {
        let seen = Arc::new(Mutex::new(BTreeMap::new()));
        for address in [
            METADATA_V4,
            ALIBABA,
            METADATA_V6,
            STAGING,
            "127.0.0.1",
            "::1",
        ] {
            let ip: std::net::IpAddr = address.parse().unwrap();
            let listener = TcpListener::bind(SocketAddr::new(ip, 80)).expect("bind a stand-in");
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || serve(listener, address, &seen));
        }
        Self { seen }
    }

    fn paths(&self, address: &str) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .get(address)
            .cloned()
            .unwrap_or_default()
    }

    fn forget(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// No connection reached a metadata stand-in, nor one of the local
    /// services by an unspecified address.
    fn assert_untouched(&self, case: &str) {
        for address in [METADATA_V4, ALIBABA, METADATA_V6] {
            assert!(
                self.paths(address).is_empty(),
                "{case}: {address} saw {:?}",
                self.paths(address)
            );
        }
        for address in ["127.0.0.1", "::1"] {
            let paths = self.paths(address);
            assert!(
                !paths.iter().any(|p| p.starts_with("/via-")),
                "{case}: {address} saw {paths:?}"
            );
        }
    }
}

fn serve(
    listener: TcpListener,
    address: &'static str,
    seen: &Mutex<BTreeMap<String, Vec<String>>>,
) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let mut request_line = String::new();
        let mut reader = BufReader::new(&stream);
        let _ = reader.read_line(&mut request_line);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        seen.lock()
            .unwrap()
            .entry(address.to_string())
            .or_default()
            .push(path.clone());
        let response = if path == "/to-metadata" {
            "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string()
        } else {
            let body = format!("SECRET-{address}");
            format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let _ = stream.write_all(response.as_bytes());
    }
}
