//! Mistakes refused before the run, with one line saying what to write
//! instead: never a run of errors that ends green, nor a failure found only
//! after the whole run.

use crate::support::{guests, molotov, run, scratch};

#[test]
fn a_target_without_scheme_or_of_another_scheme_is_refused_before_the_run() {
    let suite = guests().suite.to_str().unwrap();
    for (target, expected) in [
        ("localhost:18080", "write http://localhost:18080"),
        ("ftp://127.0.0.1/", "only http:// and https://"),
    ] {
        let output = molotov()
            .args(["run", suite, "-r", "1", "--target", target])
            .output()
            .expect("molotov starts");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{target}: {stderr}");
        assert!(stderr.contains(expected), "{target}: {stderr}");
        assert!(output.stdout.is_empty(), "{target} ran");
    }
}

#[test]
fn a_duration_of_zero_or_less_is_refused() {
    for (duration, expected) in [("0", "more than 0 seconds"), ("-1", "negative")] {
        let output = molotov()
            .args(["run", guests().suite.to_str().unwrap(), "-d", duration])
            .output()
            .expect("molotov starts");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "-d {duration}: {stderr}");
        assert!(stderr.contains(expected), "-d {duration}: {stderr}");
    }
}

#[test]
fn an_unwritable_results_path_is_refused_before_the_run() {
    let missing = scratch("no-such-dir").join("results");
    for flag in ["--html", "--raw"] {
        let path = missing.with_extension(&flag[2..]);
        let run = run(
            &guests().suite,
            &["-s", "ok", "-d", "30", flag, path.to_str().unwrap()],
        );
        run.assert_cannot_run(flag);
        assert!(!run.stdout.contains("SUCCESSES:"), "it ran: {}", run.stdout);
    }
    // An existing file passes the check, and is then replaced by the report.
    let existing = scratch("existing.html");
    std::fs::write(&existing, "old").unwrap();
    let run = run(
        &guests().suite,
        &["-s", "ok", "-r", "1", "--html", existing.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        std::fs::read_to_string(&existing)
            .unwrap()
            .contains("<html")
    );
}
