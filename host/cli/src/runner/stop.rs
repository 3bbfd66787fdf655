//! When a run stops: the deadline, Ctrl+C, `-x`/`-f`, sizing, and cancelling what is in flight.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use std::sync::Arc;

use molotov_http::SharedSession;
use molotov_runtime::{GLOBAL_WORKER, Instance};

use super::live::Watchers;
use super::shared::Shared;
use super::sizing::{self, Sizing};
use crate::live_view::Plan;
use molotov_metrics::{SizingReport, StopReason};

/// How often the run-wide `current-workers` event is sent.
const CURRENT_WORKERS_EVERY: Duration = Duration::from_secs(1);
/// How often `abort` thresholds are measured during the run.
const THRESHOLD_CHECK_EVERY: Duration = Duration::from_secs(1);
/// How often closed-model `--stages` move the number of running workers.
const STAGE_UPDATE_EVERY: Duration = Duration::from_millis(100);
/// How often the live view's busiest request names are updated.
const BUSIEST_EVERY: Duration = Duration::from_secs(1);

/// Until `done`: stops the run at its deadline or when sizing decides,
/// reports progress, and sends `current-workers`. Returns what sizing found.
pub async fn watch_run(
    shared: &Shared,
    started: Instant,
    mut done: watch::Receiver<bool>,
    watchers: &Watchers,
) -> Option<SizingReport> {
    let live = &shared.context.metrics.live;
    let every = |period| {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        // A slow tick (a hook that takes its whole period) is not made up
        // for with a burst of ready ones.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    };
    let console = &shared.console;
    let mut progress = every(console.update_every(shared.plan.output.console_update));
    let plan = Plan {
        duration: (shared.deadline()).map(|d| d.saturating_duration_since(started)),
        runs: (shared.plan.load.max_runs)
            .map(|runs| runs.saturating_mul(u64::from(shared.workers))),
    };
    let mut busiest_tick = every(BUSIEST_EVERY);
    let mut current_workers = every(CURRENT_WORKERS_EVERY);
    let mut sizing_check = every(sizing::CHECK_EVERY);
    let mut sizing = shared.plan.load.sizing_tolerance().map(Sizing::new);
    let wants_workers = shared.description.wants_worker_counts();
    let mut threshold_check = every(THRESHOLD_CHECK_EVERY);
    let mut timeline_tick = every(shared.plan.output.timeline_every);
    let mut stage_tick = every(STAGE_UPDATE_EVERY);
    let mut page_tick = every(crate::dashboard::EVERY);
    let push_every = (shared.plan.output.remote_write.as_ref()).map(|push| push.every);
    // Without `--prometheus-rw` the branch is off, and the period unused.
    let mut push_tick = every(push_every.unwrap_or(CURRENT_WORKERS_EVERY));
    let aborting = (shared.plan.stop.thresholds.iter()).any(|t| t.abort_after.is_some());
    let mut aborts = shared.context.abort.subscribe();
    let mut deadline = shared.deadline();
    // After the deadline, when the runs still in flight get cancelled.
    let mut grace_ends: Option<Instant> = None;
    loop {
        // Checked at every turn, not only when their timers win a race with
        // the other branches (which may keep this loop busy).
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            deadline = None;
            if shared.plan.stop.force_shutdown {
                shared.stop.cancel(StopReason::Duration);
            } else {
                shared.stop.stop(StopReason::Duration);
                grace_ends = Some(now + shared.plan.stop.graceful_stop);
            }
        }
        if grace_ends.is_some_and(|end| now >= end) {
            grace_ends = None;
            console.note(&format!(
                "cancelling the runs still in flight {}s after the end of -d (--graceful-stop)",
                shared.plan.stop.graceful_stop.as_secs_f64()
            ));
            shared.stop.cancel(StopReason::Duration);
        }
        let next_timer = deadline
            .or(grace_ends)
            .map(|at| at.saturating_duration_since(now));
        tokio::select! {
            _ = done.wait_for(|done| *done) => break,
            _ = progress.tick() => console.progress(&shared.context.metrics.progress(), started.elapsed(), plan),
            _ = busiest_tick.tick(), if console.is_live() => console.update_busiest(&shared.context.metrics.snapshot()),
            _ = current_workers.tick(), if wants_workers => {
                tell_current_workers(shared, live.workers.load(Ordering::Relaxed) as u32).await;
            }
            _ = sizing_check.tick(), if sizing.is_some() => {
                let sizing = sizing.as_mut().expect("checked by the guard");
                let ok = live.ok.load(Ordering::Relaxed);
                let failed = live.failed.load(Ordering::Relaxed);
                if sizing.observe(ok, failed, live.workers.load(Ordering::Relaxed)) {
                    shared.stop.stop(StopReason::Sizing);
                }
            }
            _ = timeline_tick.tick() => sample_timeline(shared, started),
            _ = page_tick.tick(), if watchers.dashboard.is_some() => watchers.publish_page(shared, started),
            _ = push_tick.tick(), if watchers.remote_write.is_some() => watchers.push_metrics(shared),
            _ = stage_tick.tick(), if shared.active_workers.is_some() => {
                let (active, stages) = (shared.active_workers.as_ref(), shared.plan.load.stages());
                if let (Some(active), Some(stages)) = (active, stages) {
                    let target = stages.target_at(0.0, started.elapsed()).round() as u32;
                    active.send_if_modified(|now| std::mem::replace(now, target) != target);
                }
            }
            _ = threshold_check.tick(), if aborting => {
                if let Some(failed) = failed_abort_threshold(shared, started.elapsed()) {
                    console.note(&format!("threshold failed, stopping the run: {failed}"));
                    shared.stop.stop(StopReason::Threshold);
                }
            }
            Ok(()) = aborts.changed() => {
                let reason = aborts.borrow_and_update().clone().unwrap_or_default();
                console.note(&format!("the script aborted the run: {reason}"));
                shared.stop.stop(StopReason::Aborted);
            }
            // Wakes the loop for the deadline or the end of the grace period.
            _ = tokio::time::sleep(next_timer.unwrap_or(Duration::MAX)), if next_timer.is_some() => {}
        }
    }
    sizing.map(|s| s.report())
}

/// Closes the timeline's current interval.
pub fn sample_timeline(shared: &Shared, started: Instant) {
    let slice = shared.context.metrics.take_slice();
    let workers = shared.context.metrics.live.workers.load(Ordering::Relaxed);
    let every = shared.plan.output.timeline_every.as_secs_f64();
    let mut timeline = shared.timeline.lock().expect("timeline");
    timeline.push(started.elapsed().as_secs_f64(), every, slice, workers);
}

/// The first `abort` threshold, past its delay, that the run so far fails
/// (one whose name has not appeared yet is not judged until the end).
fn failed_abort_threshold(shared: &Shared, elapsed: Duration) -> Option<molotov_metrics::Verdict> {
    let due: Vec<_> = (shared.plan.stop.thresholds.iter())
        .filter(|t| t.abort_after.is_some_and(|after| elapsed >= after))
        .collect();
    if due.is_empty() {
        return None;
    }
    let tally = shared.context.metrics.snapshot();
    due.into_iter()
        .map(|threshold| threshold.evaluate(&tally, elapsed))
        .find(|verdict| verdict.value.is_some() && !verdict.ok)
}

/// Tells the global instance's hook the worker count, within one period: a
/// hook that breaks or takes longer (it may `sleep`) would hold up the
/// deadline and the stop. Its instance is then replaced and the run goes on.
async fn tell_current_workers(shared: &Shared, workers: u32) {
    let mut global = shared.global.lock().await;
    let told = tokio::time::timeout(CURRENT_WORKERS_EVERY, global.current_workers(workers)).await;
    let problem = match told {
        Ok(Ok(())) => return,
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!("took over {}s", CURRENT_WORKERS_EVERY.as_secs()),
    };
    let console = &shared.console;
    console.note(&format!(
        "the event hook failed on current-workers: {problem}"
    ));
    // Its call did not return normally: the instance cannot be entered again.
    let context = Arc::clone(&shared.context);
    let session = SharedSession::default();
    match Instance::new(&shared.loaded, context, GLOBAL_WORKER, session).await {
        Ok(mut fresh) => {
            fresh.subscribe(&shared.description);
            *global = fresh;
        }
        Err(error) => console.note(&format!("cannot replace the global instance: {error}")),
    }
}

/// Waits for every worker. Ctrl+C stops gracefully, a second one cancels the
/// runs in flight (teardowns still run), a third aborts the workers outright.
/// Returns whether the workers were aborted.
pub async fn wait_for_workers(workers: &mut JoinSet<()>, shared: &Shared) -> bool {
    let mut interrupts = crate::interrupts::subscribe();
    loop {
        tokio::select! {
            joined = workers.join_next() => match joined {
                None => return false,
                Some(Err(error)) if error.is_panic() => {
                    shared.console.note(&format!("a worker panicked: {error}"));
                }
                Some(_) => {}
            },
            Ok(()) = interrupts.changed() => {
                let console = &shared.console;
                match *interrupts.borrow_and_update() {
                    1 => {
                        shared.stop.stop(StopReason::Interrupted);
                        console.note("stopping: runs in flight finish (Ctrl+C again to cancel them)");
                    }
                    2 => {
                        shared.stop.cancel(StopReason::Interrupted);
                        console.note("cancelling the runs in flight; teardowns run (Ctrl+C again to skip them)");
                    }
                    _ => {
                        workers.abort_all();
                        while workers.join_next().await.is_some() {}
                        return true;
                    }
                }
            }
        }
    }
}

/// `-x` stops at the first failure, `-f N` at the Nth.
pub fn apply_stop_rules(shared: &Shared) {
    let failed = shared.context.metrics.live.failed.load(Ordering::Relaxed);
    if failed == 0 {
        return;
    }
    if shared.plan.stop.exception {
        shared.stop.stop(StopReason::Exception);
    }
    if shared.plan.stop.fail.is_some_and(|limit| failed >= limit) {
        shared.stop.stop(StopReason::FailLimit);
    }
}
