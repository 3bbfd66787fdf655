//! The host's own memory under a hostile server and a careless guest, as
//! the kernel measured it (the peak resident set of the `molotov` process,
//! from `wait4`): bounded by the limits, not by what the other side sends.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// Peaks seen here with the debug binary: 90 MiB for the 30,000 names, 166
/// MiB for four endless bodies cut at 16 MiB. Without the limits, the endless
/// stream reached 1.1 GB in 3 seconds, and each request name cost about 42 KB
/// (30,000 names: 1.2 GB).
const PEAK_LIMIT_KIB: i64 = 300 * 1024;

/// Forks and runs its arguments, with output to /dev/null, and prints the
/// exit code and the peak resident memory (KiB) that `wait4` gives for it.
/// A process of its own, small: Linux carries a parent's peak over into a
/// child it forks, and this test process may be large (the library tests
/// compile components in it).
const MEASURE: &str = r#"
import os, sys
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"#;

/// Runs `molotov run ARGS… --json FILE`; returns the exit code, the results
/// and the process's peak resident memory in KiB.
fn run_measured(args: &[&str]) -> (i32, Value, i64) {
    let json = scratch("footprint.json");
    let measured = std::process::Command::new("python3")
        .env("MOLOTOV_CACHE_DIR", e2e_cache())
        .args(["-c", MEASURE, env!("CARGO_BIN_EXE_molotov"), "run"])
        .args(args)
        .args(["-q", "--json", json.to_str().unwrap()])
        .output()
        .expect("python3 runs");
    let printed = String::from_utf8(measured.stdout).expect("UTF-8");
    let (code, peak) = printed.trim().split_once(' ').expect("code and peak");
    let results = read(&json);
    (code.parse().unwrap(), results, peak.parse().unwrap())
}

/// Runs `component` once, so that it is compiled and cached before it is
/// measured: compiling a component takes far more memory than running it.
fn compiled(component: &Path, args: &[&str]) {
    let warm = run(component, args);
    assert_eq!(warm.code, Some(0), "{}", warm.stderr);
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the results")).expect("JSON")
}

/// A server whose every response is an endless chunked body.
fn endless_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                let chunk = [b"10000\r\n".as_slice(), &[b'x'; 0x10000], b"\r\n"].concat();
                while stream.write_all(&chunk).is_ok() {}
            });
        }
    });
    format!("http://{address}")
}

#[test]
fn an_endless_response_body_cannot_grow_the_host() {
    let target = endless_server();
    let hello = guests().hello.to_str().unwrap().to_string();
    compiled(&guests().hello, &["-r", "1"]);
    let (code, json, peak_kib) = run_measured(&[
        &hello,
        "--target",
        &target,
        "-w",
        "4",
        "-r",
        "3",
        "--max-body",
        "16",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        count(&json["requests"]["errors_by_kind"]["body-too-large"]),
        12
    );
    assert!(peak_kib < PEAK_LIMIT_KIB, "peak {peak_kib} KiB");
}

#[test]
fn thirty_thousand_distinct_paths_keep_the_host_small() {
    let suite = guests().suite.to_str().unwrap().to_string();
    compiled(&guests().suite, &["-s", "ok", "-r", "1"]);
    let (code, json, peak_kib) = run_measured(&[&suite, "-s", "many_names", "-r", "30000"]);
    assert_eq!(code, 0);
    assert_eq!(count(&json["requests"]["count"]), 30_000);
    // 1,000 names and `(other)`; 1,000 custom metrics and `(other)`.
    assert_eq!(json["requests"]["by_name"].as_object().unwrap().len(), 1001);
    assert_eq!(json["custom"]["counters"].as_object().unwrap().len(), 1001);
    assert!(peak_kib < PEAK_LIMIT_KIB, "peak {peak_kib} KiB");
}
