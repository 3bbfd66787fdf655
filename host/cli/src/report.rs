//! `molotov report` and `--html`: a run's results (its JSON, or raw results
//! merged exactly) written as `molotov-report`'s self-contained HTML page,
//! alone or compared with a baseline run.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use molotov_metrics::Report;

use crate::cli::{MergeArgs, ReportArgs};

pub fn report(args: &ReportArgs) -> anyhow::Result<()> {
    let report = read(&args.files, args.allow_partial)?;
    let Some(baseline) = &args.baseline else {
        return write_html(&report, &args.output);
    };
    let baseline = read(std::slice::from_ref(baseline), false).context("--baseline")?;
    write(
        &args.output,
        molotov_report::render_compared(&report, &baseline),
    )
}

pub fn write_html(report: &Report, path: &Path) -> anyhow::Result<()> {
    write(path, molotov_report::render(report, None))
}

fn write(path: &Path, page: String) -> anyhow::Result<()> {
    std::fs::write(path, page)
        .with_context(|| format!("cannot write the HTML report to {}", path.display()))
}

/// One run's `--json` results as they are; raw results (one run's, or its
/// shards' or processes') merged as `molotov merge` does.
fn read(files: &[PathBuf], allow_partial: bool) -> anyhow::Result<Report> {
    let mut raw = true;
    for path in files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", path.display()))?;
        match (value.get("tally"), value.get("requests")) {
            (Some(_), _) => {}
            (None, Some(_)) if files.len() == 1 => raw = false,
            (None, Some(_)) => bail!(
                "{} is a run's `--json` results: several runs merge exactly only from their raw results (`run --raw`)",
                path.display()
            ),
            (None, None) => bail!(
                "{} is neither molotov's results (`run --json`) nor its raw results (`run --raw`)",
                path.display()
            ),
        }
    }
    if !raw {
        return Ok(Report::read_json(&files[0])?);
    }
    let merge = MergeArgs {
        files: files.to_vec(),
        json: None,
        html: None,
        junit: None,
        threshold: Vec::new(),
        allow_partial,
        quiet: true,
    };
    Ok(crate::merge::merge(&merge)?.report)
}
