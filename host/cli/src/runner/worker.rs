//! One worker's life: ramp-up offset, setup fixtures, the run loop, teardown fixtures.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::watch;

use super::picker::Pick;
use super::shared::Shared;
use super::stop::apply_stop_rules;
use molotov_http::SharedSession;
use molotov_metrics::StopReason;
use molotov_runtime::{GuestError, SessionFixture, Worker, WorkerError};

pub async fn worker(worker_id: u32, shared: Arc<Shared>) {
    let mut stop = shared.stop.stopped.subscribe();
    let index = worker_id - shared.plan.load.first_worker;
    let offset = shared
        .ramp_up
        .mul_f64(f64::from(index) / f64::from(shared.workers));
    if !pause(offset, &mut stop).await {
        return;
    }
    let live = &shared.context.metrics.live;
    live.workers.fetch_add(1, Ordering::Relaxed);
    // Starting and finishing are boxed: inline, their states (instantiation,
    // fixtures) would size the future that every worker keeps for the whole run.
    if let Some(instance) = Box::pin(start_worker(worker_id, &shared)).await
        && let Some(instance) = run_scenarios(worker_id, &shared, instance, &mut stop).await
    {
        Box::pin(finish_worker(worker_id, &shared, instance, true)).await;
    }
    live.workers.fetch_sub(1, Ordering::Relaxed);
}

/// Sleeps unless the run stops first; returns whether the run goes on.
async fn pause(duration: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if duration.is_zero() {
        return !*stop.borrow();
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
    !*stop.borrow()
}

/// Instantiates and runs the worker's `setup` and `setup-session`; a failure stops the run.
async fn start_worker(worker_id: u32, shared: &Shared) -> Option<Worker> {
    let console = &shared.console;
    let fail = |what: &str, message: &dyn std::fmt::Display| {
        console.note(&format!("[W:{worker_id}] {what} failed: {message}"));
        shared.stop.stop(StopReason::SetupFailed);
    };
    let worker = shared.instances.worker(worker_id, SharedSession::default());
    let mut instance = match worker.await {
        Ok(instance) => instance,
        Err(error) => {
            fail("instantiation", &error);
            return None;
        }
    };
    let fixtures = shared.description.fixtures;
    if fixtures.setup {
        let options = fixture(instance.setup(worker_id).await);
        let applied = match options {
            Ok(Some(options)) => instance
                .session()
                .lock()
                .await
                .apply(&options)
                .map_err(|e| e.to_string()),
            Ok(None) => Ok(()),
            Err(message) => Err(message),
        };
        if let Err(message) = applied {
            fail("setup", &message);
            return None;
        }
    }
    if fixtures.setup_session
        && let Err(message) = fixture(
            instance
                .session_fixture(SessionFixture::Setup, worker_id)
                .await,
        )
    {
        fail("setup-session", &message);
        // `setup` succeeded: its `teardown` still runs.
        finish_worker(worker_id, shared, instance, false).await;
        return None;
    }
    Some(instance)
}

/// The worker's loop: pick, run, record, apply the stop rules, pause.
async fn run_scenarios(
    worker_id: u32,
    shared: &Shared,
    mut instance: Worker,
    stop: &mut watch::Receiver<bool>,
) -> Option<Worker> {
    let recorder = instance.recorder().clone();
    let mut cancelled = shared.stop.cancelled.subscribe();
    // Made once: polling it again while a run goes on costs next to nothing.
    let cancel = cancelled.wait_for(|cancelled| *cancelled);
    tokio::pin!(cancel);
    let mut rng = SmallRng::from_os_rng();
    let mut step: u64 = 0;
    let mut active = shared.active_workers.as_ref().map(watch::Sender::subscribe);
    // When the last run (or pause) ended: the time the stop rules go by.
    let mut now = Instant::now();
    loop {
        if *stop.borrow() || shared.deadline().is_some_and(|d| now >= d) {
            break;
        }
        if shared.plan.load.max_runs.is_some_and(|max| step >= max) {
            break;
        }
        // Closed-model stages run the workers below their current target.
        let index = worker_id - shared.plan.load.first_worker;
        if let Some(active) = &mut active
            && index >= *active.borrow()
        {
            if !wait_until_active(index, shared, active, stop).await {
                break;
            }
            now = Instant::now();
            continue;
        }
        // The open model: wait for a run's intended start.
        let intended = match &shared.arrivals {
            Some(arrivals) => {
                let next = tokio::select! {
                    biased;
                    _ = stop.wait_for(|stopped| *stopped) => None,
                    next = arrivals.next() => next,
                };
                match next {
                    Some(intended) if !*stop.borrow() => Some(intended),
                    _ => break,
                }
            }
            None => None,
        };
        let index = match shared.picker.pick(step, &mut rng) {
            Pick::Scenario(index) => index,
            Pick::Done => break,
            Pick::AskComponent => {
                // Raced against a cancel, as runs are: a picker that sleeps
                // must not outlast `--graceful-stop`.
                let picked = tokio::select! {
                    biased;
                    picked = instance.pick(worker_id, step + 1) => Some(picked),
                    _ = &mut cancel => None,
                };
                let Some(picked) = picked else {
                    return replace(worker_id, shared, instance).await;
                };
                let picked = match picked {
                    Ok(name) => shared.description.index_of(&name).ok_or_else(|| {
                        let message = format!("picked {name:?}, which is not a scenario");
                        let console = &shared.console;
                        console.failure(worker_id, "(picker)", &message, None);
                        message
                    }),
                    Err(error) => {
                        let message = report_broken(worker_id, shared, "(picker)", &error);
                        instance = replace(worker_id, shared, instance).await?;
                        Err(message)
                    }
                };
                match picked {
                    Ok(index) => index,
                    Err(message) => {
                        recorder.scenario("(picker)", Some(&message), Duration::ZERO);
                        step += 1;
                        now = Instant::now();
                        continue;
                    }
                }
            }
        };
        let name = shared.description.scenarios[index].name.as_str();
        step += 1;
        instance.set_step(step);
        instance.scenario_started(name);
        let started = Instant::now();
        let result = tokio::select! {
            biased;
            result = instance.run(index as u32) => Some(result),
            _ = &mut cancel => None,
        };
        let Some(result) = result else {
            recorder.cancelled(name);
            // The call was dropped midway: the instance cannot be entered again.
            return replace(worker_id, shared, instance).await;
        };
        now = Instant::now();
        let elapsed = now - started;
        let failure = match result {
            Ok(Ok(())) => None,
            Ok(Err(message)) => {
                shared.console.failure(worker_id, name, &message, None);
                Some(message)
            }
            Err(error) => {
                let message = report_broken(worker_id, shared, name, &error);
                // A trap leaves the instance unusable: carry the session into a new one.
                instance = replace(worker_id, shared, instance).await?;
                Some(message)
            }
        };
        instance.scenario_ended(name, failure.clone());
        // A hook that breaks on the run's events fails that run (once: the
        // run is counted after its events, as ok or failed, never both).
        let delivered = tokio::select! {
            biased;
            delivered = instance.deliver_events() => Some(delivered),
            _ = &mut cancel => None,
        };
        let Some(delivered) = delivered else {
            recorder.scenario(name, failure.as_deref(), elapsed);
            return replace(worker_id, shared, instance).await;
        };
        let failure = match &delivered {
            Err(error) if failure.is_none() => {
                let message = report_broken(worker_id, shared, "(events)", error);
                Some(format!("the event hook broke: {message}"))
            }
            _ => failure,
        };
        recorder.scenario(name, failure.as_deref(), elapsed);
        if let Some(intended) = intended {
            recorder.response_time(now.saturating_duration_since(intended));
        }
        apply_stop_rules(shared);
        if delivered.is_err() {
            instance = replace(worker_id, shared, instance).await?;
        }
        // The open model paces runs by its rate, not by delays.
        let delay = shared.delays[index];
        if !delay.is_zero() && intended.is_none() {
            if !pause(delay, stop).await {
                break;
            }
            now = Instant::now();
        }
    }
    Some(instance)
}

/// Closed-model stages: parks the worker (not counted as running) until the
/// stages need it again; returns whether the run goes on.
async fn wait_until_active(
    index: u32,
    shared: &Shared,
    active: &mut watch::Receiver<u32>,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let workers = &shared.context.metrics.live.workers;
    workers.fetch_sub(1, Ordering::Relaxed);
    tokio::select! {
        _ = active.wait_for(|active| index < *active) => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
    workers.fetch_add(1, Ordering::Relaxed);
    !*stop.borrow()
}

/// Shows a broken guest's failure (with its backtrace under `-vv`); returns its message.
fn report_broken(worker_id: u32, shared: &Shared, name: &str, error: &GuestError) -> String {
    let message = error.to_string();
    let backtrace = match error {
        GuestError::Trap { backtrace, .. } if !backtrace.is_empty() => Some(backtrace.as_str()),
        _ => None,
    };
    shared.console.failure(worker_id, name, &message, backtrace);
    message
}

/// Replaces a broken instance, keeping the worker's session (cookies,
/// headers). A seat stays: its instance's task replaces the instance.
async fn replace(worker_id: u32, shared: &Shared, instance: Worker) -> Option<Worker> {
    match shared.instances.replace(worker_id, instance).await {
        Ok(instance) => Some(instance),
        // Its shared instance could not be replaced: the worker stops.
        Err(WorkerError::SharedInstanceGone) => None,
        Err(error) => {
            shared.console.note(&format!(
                "[W:{worker_id}] cannot replace the broken instance: {error}"
            ));
            None
        }
    }
}

/// `teardown-session` (if the session was set up) and `teardown`: their
/// errors are reported, not fatal, and each has `--graceful-stop` to end.
async fn finish_worker(
    worker_id: u32,
    shared: &Shared,
    mut instance: Worker,
    session_set_up: bool,
) {
    let fixtures = shared.description.fixtures;
    let console = &shared.console;
    if session_set_up && fixtures.teardown_session {
        let call = instance.session_fixture(SessionFixture::Teardown, worker_id);
        if let Err(why) = bounded_teardown(shared, call).await {
            console.note(&format!("[W:{worker_id}] teardown-session {why}"));
            if matches!(why, Teardown::Abandoned(_)) {
                // The call was dropped midway: the instance cannot be entered again.
                return;
            }
        }
    }
    if fixtures.teardown
        && let Err(why) = bounded_teardown(shared, instance.teardown(worker_id)).await
    {
        console.note(&format!("[W:{worker_id}] teardown {why}"));
    }
}

/// Why a teardown fixture did not end well.
pub enum Teardown {
    Failed(String),
    /// It outlasted `--graceful-stop`: a guest that sleeps, or waits on a
    /// slow server, cannot hold the run past it.
    Abandoned(String),
}

impl std::fmt::Display for Teardown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Failed(message) => write!(f, "failed: {message}"),
            Self::Abandoned(message) => f.write_str(message),
        }
    }
}

pub async fn bounded_teardown<T>(
    shared: &Shared,
    call: impl Future<Output = Result<Result<T, String>, GuestError>>,
) -> Result<T, Teardown> {
    let limit = shared.plan.stop.graceful_stop;
    match tokio::time::timeout(limit, call).await {
        Ok(result) => fixture(result).map_err(Teardown::Failed),
        Err(_) => Err(Teardown::Abandoned(format!(
            "took over {}s (--graceful-stop) and was abandoned",
            limit.as_secs_f64()
        ))),
    }
}

/// A fixture's outcome with a broken guest and a reported error alike as a message.
pub fn fixture<T>(result: Result<Result<T, String>, GuestError>) -> Result<T, String> {
    result.map_err(|error| error.to_string())?
}
