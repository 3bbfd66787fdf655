//! The raw results a run writes for another molotov to merge exactly: a `-p`
//! child's for its parent (`--tally-out`), a shard's for `molotov merge`
//! (`--raw`). Every count and HDR histogram, the timeline, and what is needed
//! to refuse merging runs that are not parts of one.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::plan::RunIdentity;
use crate::runner::Outcome;
use crate::shard::Shard;
use molotov_metrics::{SizingReport, StopReason, Tally, Timeline};

#[derive(Debug, Serialize, Deserialize)]
pub struct RawResults {
    pub molotov_version: String,
    pub component: String,
    /// SHA-256 of the component's bytes.
    pub component_sha256: String,
    /// What parts of one run share (not the shard, the output files, the
    /// start time or the verbosity).
    pub identity: RunIdentity,
    /// The command line, as the reports show it.
    pub command_line: String,
    pub shard: Option<Shard>,
    pub workers: u32,
    /// Workers that shared each instance (absent in results of older runs).
    #[serde(default)]
    pub workers_per_instance: Option<u32>,
    /// When the run started, in milliseconds since the Unix epoch: the
    /// merge aligns timelines by it.
    pub started_at_ms: u64,
    pub duration_s: f64,
    /// How long after `--start-at` the run started, when it was late.
    pub late_s: Option<f64>,
    pub stopped_by: StopReason,
    pub sizing: Option<SizingReport>,
    pub failed: bool,
    pub tally: Tally,
    pub timeline: Timeline,
}

impl RawResults {
    pub fn of(outcome: &Outcome) -> Self {
        let report = &outcome.report;
        Self {
            molotov_version: env!("CARGO_PKG_VERSION").to_string(),
            component: report.component.clone(),
            component_sha256: report.component_sha256.clone(),
            identity: outcome.identity.clone(),
            command_line: report.flags.clone(),
            shard: outcome.shard,
            workers: report.workers,
            workers_per_instance: report.workers_per_instance,
            started_at_ms: report.started_at_ms,
            duration_s: report.duration_s,
            late_s: report.late_s,
            stopped_by: report.stopped_by,
            sizing: report.sizing,
            failed: outcome.failed,
            tally: outcome.tally.clone(),
            timeline: report.timeline.clone(),
        }
    }

    /// Writes them to `path`; into a directory, as `shard-I.json` there
    /// (`raw.json` unsharded), so that every shard writes a file of its own
    /// where a scheduler cannot put the shard's index in a path (AWS Batch).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let path = match (path.is_dir(), self.shard) {
            (false, _) => path.to_path_buf(),
            (true, Some(shard)) => path.join(format!("shard-{}.json", shard.index)),
            (true, None) => path.join("raw.json"),
        };
        let text = serde_json::to_string(self)?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| {
            let ours = env!("CARGO_PKG_VERSION");
            let version = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|raw| Some(raw.get("molotov_version")?.as_str()?.to_string()));
            match version {
                Some(theirs) if theirs != ours => format!(
                    "{} holds raw results of molotov {theirs}, which this molotov ({ours}) cannot read: merge them with the version that wrote them",
                    path.display()
                ),
                _ => format!(
                    "{} is not molotov's raw results (`run --raw`)",
                    path.display()
                ),
            }
        })
    }
}
