//! The end of a k6 script's run in k6's terms: the summary a k6 user reads
//! (after molotov's own), the data its `handleSummary` gets, and the files
//! that function asks for, written within their limits.

use std::fmt::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use molotov_metrics::{K6Group, K6Results, Report};
use serde_json::json;

use crate::terminal::terminal_safe;

/// How many files one `handleSummary` may write.
pub const MAX_SUMMARY_FILES: usize = 16;

/// The k6-named lines of a run's results.
pub fn summary(k6: &K6Results) -> String {
    let mut out = String::from("\nin k6's terms:\n");
    check_lines(&mut out, &K6Group::root(&k6.checks), "  ");
    if !k6.checks.is_empty() {
        out.push('\n');
    }
    for (name, metric) in &k6.metrics {
        let mark = match metric.thresholds.values().all(|t| t.ok) {
            _ if metric.thresholds.is_empty() => ' ',
            true => '✓',
            false => '✗',
        };
        let _ = writeln!(out, "{mark} {name:.<32}: {}", metric.shown(&k6.trend_stats));
    }
    out
}

/// `group`'s checks, then each group within it under `█ NAME`, as k6 shows
/// them.
fn check_lines(out: &mut String, group: &K6Group, indent: &str) {
    for check in &group.checks {
        let mark = if check.fails == 0 { '✓' } else { '✗' };
        let _ = writeln!(out, "{indent}{mark} {}", check.name);
        if check.fails > 0 {
            let share = 100.0 * check.passes as f64 / (check.passes + check.fails) as f64;
            let _ = writeln!(
                out,
                "{indent}  ↳  {share:.0}% — ✓ {} / ✗ {}",
                check.passes, check.fails
            );
        }
    }
    for inner in &group.groups {
        let _ = writeln!(out, "{indent}█ {}", inner.name);
        check_lines(out, inner, &format!("{indent}  "));
    }
}

/// What k6 gives `handleSummary`: the metrics, the checks under the root
/// group, the summary's options and the run's state.
pub fn handle_summary_data(report: &Report, k6: &K6Results) -> serde_json::Value {
    use std::io::IsTerminal;
    json!({
        "root_group": K6Group::root(&k6.checks),
        "options": {
            "summaryTrendStats": k6.trend_stats,
            "summaryTimeUnit": "",
            "noColor": true,
        },
        "state": {
            "isStdOutTTY": std::io::stdout().is_terminal(),
            "isStdErrTTY": std::io::stderr().is_terminal(),
            "testRunDurationMs": report.duration_s * 1000.0,
        },
        "metrics": k6.metrics,
    })
}

/// Writes what `handleSummary` returned: `stdout` and `stderr` to the
/// console (control characters escaped), every other key as a file under
/// the current directory. At most [`MAX_SUMMARY_FILES`] files and
/// `max_bytes` in all; a path that is absolute or leaves the directory is
/// refused, before anything is written.
pub fn write_outputs(outputs: &[(String, String)], max_bytes: usize) -> anyhow::Result<()> {
    let total: usize = outputs.iter().map(|(_, text)| text.len()).sum();
    if total > max_bytes {
        bail!("handleSummary returned {total} bytes, over the limit of {max_bytes} (--max-body)");
    }
    let files = (outputs.iter()).filter(|(to, _)| to != "stdout" && to != "stderr");
    if files.clone().count() > MAX_SUMMARY_FILES {
        bail!("handleSummary asks for more than {MAX_SUMMARY_FILES} files");
    }
    let paths = files
        .map(|(to, text)| Ok((relative_path(to)?, text)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (to, text) in outputs {
        match to.as_str() {
            "stdout" => print!("{}", terminal_safe(text)),
            "stderr" => eprint!("{}", terminal_safe(text)),
            _ => {}
        }
    }
    for (path, text) in paths {
        std::fs::write(&path, text)
            .with_context(|| format!("handleSummary: cannot write {}", path.display()))?;
    }
    Ok(())
}

/// `to` as a path under the current directory, or why it is not one.
fn relative_path(to: &str) -> anyhow::Result<PathBuf> {
    let path = Path::new(to);
    let inside = !to.is_empty()
        && (path.components()).all(|part| matches!(part, Component::Normal(_) | Component::CurDir));
    if !inside {
        bail!(
            "handleSummary: {:?} is not a path under the current directory (absolute paths and `..` are refused)",
            terminal_safe(to)
        );
    }
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_stay_under_the_current_directory_and_within_their_limits() {
        for bad in ["/etc/passwd", "../up.txt", "a/../../b", ""] {
            let error = write_outputs(&[(bad.into(), "x".into())], 100).unwrap_err();
            assert!(
                error.to_string().contains("not a path under"),
                "{bad}: {error}"
            );
        }
        let big = write_outputs(&[("stdout".into(), "x".repeat(101))], 100).unwrap_err();
        assert!(big.to_string().contains("over the limit of 100"), "{big}");
        let many: Vec<_> = (0..=MAX_SUMMARY_FILES)
            .map(|i| (format!("f{i}.txt"), String::new()))
            .collect();
        let error = write_outputs(&many, 100).unwrap_err();
        assert!(error.to_string().contains("more than 16 files"), "{error}");
    }
}
