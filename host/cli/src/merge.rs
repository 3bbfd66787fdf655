//! `molotov merge`: the raw results of a run's shards merged exactly into
//! one report: counts summed, percentiles from merged HDR histograms,
//! timelines aligned by their wall-clock start, thresholds judged on the
//! whole. Parts of different components or flags are refused, and so is a
//! run with shards missing, unless `--allow-partial`.

use std::collections::BTreeSet;

use anyhow::bail;

use crate::cli::MergeArgs;
use crate::raw::RawResults;
use crate::runner::Outcome;
use molotov_metrics::{Report, RunFacts, StopReason, Tally, Timeline};

pub fn merge(args: &MergeArgs) -> anyhow::Result<Outcome> {
    let parts: Vec<(String, RawResults)> = (args.files.iter())
        .map(|path| Ok((path.display().to_string(), RawResults::read(path)?)))
        .collect::<anyhow::Result<_>>()?;
    let (first_name, first) = &parts[0];
    for (name, part) in &parts[1..] {
        if part.component_sha256 != first.component_sha256 {
            bail!(
                "{name} ran another component than {first_name} (SHA-256 {} and {}): not parts of one run",
                short(&part.component_sha256),
                short(&first.component_sha256)
            );
        }
        if let Err(mismatch) = part.identity.check_same(&first.identity) {
            bail!("{name} and {first_name} ran with other settings: {mismatch}");
        }
    }
    check_shards(&parts, args.allow_partial)?;

    let joined = Joined::of(parts.iter().map(|(_, part)| part), first.timeline.every_s);
    let ended_at_ms = (parts.iter())
        .map(|(_, p)| p.started_at_ms + (p.duration_s * 1000.0) as u64)
        .max()
        .unwrap_or(joined.started_at_ms);
    let facts = RunFacts {
        component: first.component.clone(),
        component_sha256: first.component_sha256.clone(),
        flags: first.command_line.clone(),
        started_at_ms: joined.started_at_ms,
        late_s: joined.late_s,
        shard: None,
        workers: joined.workers,
        processes: 1,
        workers_per_instance: joined.workers_per_instance,
        duration_s: (ended_at_ms - joined.started_at_ms) as f64 / 1000.0,
        stopped_by: joined.stopped_by,
        sizing: None,
    };
    let mut report = Report::new(facts, &joined.tally);
    report.judge(&args.threshold, &joined.tally, first.identity.k6.as_ref());
    report.timeline = joined.timeline;
    let failed = joined.failed || report.fails_run(false, None);
    Ok(Outcome {
        report,
        tally: joined.tally,
        failed,
        identity: first.identity.clone(),
        shard: None,
    })
}

/// Parts of one run (its processes, or its shards) as one: their tallies
/// added, their timelines aligned by when each started, and what their
/// facts say together.
pub struct Joined {
    pub tally: Tally,
    pub timeline: Timeline,
    pub started_at_ms: u64,
    /// The latest part's delay after `--start-at`.
    pub late_s: Option<f64>,
    pub workers: u32,
    pub workers_per_instance: Option<u32>,
    pub stopped_by: StopReason,
    /// Whether any part failed.
    pub failed: bool,
}

impl Joined {
    pub fn of<'a>(parts: impl Iterator<Item = &'a RawResults> + Clone, every_s: f64) -> Self {
        let started_at_ms = (parts.clone().map(|p| p.started_at_ms).min()).unwrap_or_default();
        let mut tally = Tally::default();
        let mut timeline = Timeline::new(every_s);
        for part in parts.clone() {
            tally.merge(&part.tally);
            // A part may start later than others (a k6 scenario's startTime).
            let offset_s = (part.started_at_ms - started_at_ms) as f64 / 1000.0;
            timeline.merge(&part.timeline, offset_s);
        }
        Self {
            tally,
            timeline,
            started_at_ms,
            late_s: parts.clone().filter_map(|p| p.late_s).reduce(f64::max),
            workers: parts.clone().map(|p| p.workers).sum(),
            workers_per_instance: parts.clone().filter_map(|p| p.workers_per_instance).max(),
            stopped_by: merged_reason(parts.clone().map(|p| p.stopped_by)),
            failed: parts.clone().any(|p| p.failed),
        }
    }
}

/// Every shard of the run once, or `--allow-partial`.
fn check_shards(parts: &[(String, RawResults)], allow_partial: bool) -> anyhow::Result<()> {
    let Some(count) = parts.iter().find_map(|(_, p)| p.shard.map(|s| s.count)) else {
        return Ok(());
    };
    let mut seen = BTreeSet::new();
    for (name, part) in parts {
        match part.shard {
            Some(shard) if shard.count != count => {
                bail!(
                    "{name} is shard {}/{}, the others are of {count}",
                    shard.index,
                    shard.count
                )
            }
            Some(shard) if !seen.insert(shard.index) => {
                bail!("shard {}/{count} is given twice", shard.index)
            }
            Some(_) => {}
            None => bail!("{name} is not a shard (run without --shard) but the others are"),
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|index| !seen.contains(index))
        .map(|index| index.to_string())
        .collect();
    if !missing.is_empty() && !allow_partial {
        bail!(
            "shards {} of {count} are missing (failed, or not given): --allow-partial merges the others",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Why a run of several parts stopped: a part's rule (`-x`, a threshold…)
/// over the duration, over completion.
fn merged_reason(reasons: impl Iterator<Item = StopReason> + Clone) -> StopReason {
    (reasons.clone())
        .find(|r| !matches!(r, StopReason::Duration | StopReason::Completed))
        .or_else(|| reasons.clone().find(|r| *r == StopReason::Duration))
        .unwrap_or(StopReason::Completed)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
