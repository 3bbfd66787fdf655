//! A run from start to end: workers, scenario picking, ramp-up, duration, stop rules, fixtures.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::SmallRng;
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::Url;

use crate::cli::RunArgs as Flags;
use crate::component::bindings::{
    Event, EventKinds, FailureEvent, Fixtures, RunArgs, ScenarioEvent,
};
use crate::component::{
    self, Description, EngineLimits, GuestError, Instance, Loaded, RunContext, SessionFixture,
};
use crate::console::Console;
use crate::metrics::Metrics;
use crate::report::{Report, StopReason};
use crate::session::{HttpClient, SessionState};

/// The end of a run that could run.
pub struct Outcome {
    pub report: Report,
    /// `-x`, `-f` or a failed `setup` failed the run (exit code 1).
    pub failed: bool,
}

/// How often the console reports progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// Molotov's default duration when neither `-d`, `-r` nor `--single-run` bound the run.
const DEFAULT_DURATION: Duration = Duration::from_secs(86_400);
/// The worker id that global fixtures see.
const GLOBAL_WORKER: u32 = u32::MAX;

/// How each worker picks its next scenario.
enum Picker {
    Weighted {
        names: Vec<String>,
        index: WeightedIndex<u32>,
    },
    Single(String),
    /// `--single-run`: every scenario once, in name order.
    EachOnce(Vec<String>),
    /// The component's own `pick` export.
    Component,
}

/// What every worker task shares.
struct Shared {
    loaded: Loaded,
    context: Arc<RunContext>,
    description: Description,
    delays: HashMap<String, Duration>,
    picker: Picker,
    flags: Flags,
    deadline: Option<Instant>,
    stop: Stopper,
}

/// The first reason to stop wins; every worker sees it at once.
struct Stopper {
    reason: Mutex<Option<StopReason>>,
    signal: watch::Sender<bool>,
}

impl Stopper {
    fn stop(&self, reason: StopReason) {
        let mut current = self.reason.lock().expect("stop lock");
        if current.is_none() {
            *current = Some(reason);
        }
        self.signal.send_replace(true);
    }

    fn reason(&self) -> Option<StopReason> {
        *self.reason.lock().expect("stop lock")
    }
}

/// Loads the component and runs the load test the flags describe.
pub async fn run(flags: Flags) -> anyhow::Result<Outcome> {
    let console = Console::new(flags.quiet, flags.verbose, flags.console);
    let target = match &flags.target {
        Some(url) => Some(Url::parse(url).with_context(|| format!("--target {url} is not a URL"))?),
        None => {
            let address = crate::serve::spawn(([127, 0, 0, 1], 0).into()).await?;
            console.note(&format!(
                "no --target given: serving the built-in target on http://{address}"
            ));
            Some(Url::parse(&format!("http://{address}/"))?)
        }
    };
    let max_memory_bytes = flags.max_memory_mib as usize * 1024 * 1024;
    let limits = EngineLimits {
        instances: flags.workers.saturating_add(2),
        max_memory_bytes,
    };
    let engine = component::engine(&limits)?;
    let cache_dir = flags
        .cache_dir
        .clone()
        .or_else(component::default_cache_dir);
    let path = flags.component.clone();
    let loaded =
        tokio::task::spawn_blocking(move || component::load(&engine, &path, cache_dir.as_deref()))
            .await??;

    let args = RunArgs {
        workers: flags.workers,
        duration_s: flags.duration.map(|d| d.ceil() as u64),
        max_runs: flags.max_runs,
        target: flags.target.clone(),
        single_run: flags.single_run,
    };
    let shards = std::thread::available_parallelism().map_or(2, |n| n.get()) * 4;
    let context = Arc::new(RunContext {
        args,
        env: flags.env.iter().cloned().collect(),
        vars: Mutex::new(HashMap::new()),
        client: HttpClient::new(
            target,
            flags.allow_host.clone(),
            Duration::from_secs_f64(flags.timeout),
            crate::session::tls_config(&flags.ca_cert)?,
        ),
        metrics: Metrics::new(shards),
        console,
        guest_deadline: Duration::from_secs_f64(flags.guest_deadline),
        max_memory_bytes,
    });

    let ticker = {
        let engine = loaded.engine.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(component::EPOCH_TICK).await;
                engine.increment_epoch();
            }
        })
    };
    let result = run_loaded(loaded, context, flags).await;
    ticker.abort();
    result
}

async fn run_loaded(
    loaded: Loaded,
    context: Arc<RunContext>,
    flags: Flags,
) -> anyhow::Result<Outcome> {
    let mut global = Instance::new(
        &loaded,
        Arc::clone(&context),
        GLOBAL_WORKER,
        SessionState::default(),
    )
    .await?;
    let description = global
        .describe()
        .await
        .context("the component failed to describe itself")?;
    let picker = picker(&description, &flags)?;
    if description.fixtures.contains(Fixtures::GLOBAL_SETUP)
        && let Err(message) = fixture(global.global_setup(&context.args).await)
    {
        bail!("global-setup failed: {message}");
    }

    let (signal, _) = watch::channel(false);
    let started = Instant::now();
    let duration = match (flags.duration, flags.max_runs, flags.single_run) {
        (Some(seconds), _, _) => Some(Duration::from_secs_f64(seconds)),
        (None, None, false) => Some(DEFAULT_DURATION),
        _ => None,
    };
    let shared = Arc::new(Shared {
        delays: description
            .scenarios
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    Duration::from_millis(s.delay_ms.into()) + Duration::from_secs_f64(flags.delay),
                )
            })
            .collect(),
        loaded,
        context: Arc::clone(&context),
        description,
        picker,
        deadline: duration.map(|d| started + flags.ramp_up_duration() + d),
        stop: Stopper {
            reason: Mutex::new(None),
            signal,
        },
        flags,
    });

    let mut workers = JoinSet::new();
    for worker_id in 0..shared.flags.workers {
        workers.spawn(worker(worker_id, Arc::clone(&shared)));
    }
    let watchdog = tokio::spawn(watch_run(Arc::clone(&shared), started));
    let forced = wait_for_workers(&mut workers, &shared).await;
    watchdog.abort();
    context.console.finish_progress();

    if shared
        .description
        .fixtures
        .contains(Fixtures::GLOBAL_TEARDOWN)
        && !forced
    {
        match global.global_teardown().await {
            Ok(Ok(())) => {}
            Ok(Err(message)) => context
                .console
                .note(&format!("global-teardown failed: {message}")),
            Err(error) => context
                .console
                .note(&format!("global-teardown failed: {error}")),
        }
    }

    let stopped_by = shared.stop.reason().unwrap_or(if forced {
        StopReason::Interrupted
    } else if shared.deadline.is_some_and(|d| Instant::now() >= d) {
        StopReason::Duration
    } else {
        StopReason::Completed
    });
    let tally = context.metrics.snapshot();
    let report = Report::new(
        &shared.flags.component,
        shared.flags.workers,
        started.elapsed().as_secs_f64(),
        stopped_by,
        &tally,
    );
    let failures = report.scenarios.failed;
    let failed = matches!(
        stopped_by,
        StopReason::Exception | StopReason::FailLimit | StopReason::SetupFailed
    ) || (shared.flags.exception && failures > 0)
        || shared.flags.fail.is_some_and(|limit| failures >= limit);
    Ok(Outcome { report, failed })
}

impl Flags {
    fn ramp_up_duration(&self) -> Duration {
        Duration::from_secs_f64(self.ramp_up)
    }
}

fn picker(description: &Description, flags: &Flags) -> anyhow::Result<Picker> {
    let names = || description.scenarios.iter().map(|s| s.name.clone());
    if description.scenarios.is_empty() {
        bail!("the component has no scenario");
    }
    if let Some(name) = &flags.single_mode {
        if !names().any(|n| n == *name) {
            bail!(
                "-s {name}: no such scenario; the component has {}",
                names().collect::<Vec<_>>().join(", ")
            );
        }
        return Ok(Picker::Single(name.clone()));
    }
    if flags.single_run {
        let mut sorted: Vec<String> = names().collect();
        sorted.sort();
        return Ok(Picker::EachOnce(sorted));
    }
    if description.fixtures.contains(Fixtures::PICKER) {
        return Ok(Picker::Component);
    }
    let weights: Vec<u32> = description.scenarios.iter().map(|s| s.weight).collect();
    let index = WeightedIndex::new(&weights)
        .map_err(|_| anyhow::anyhow!("every scenario has weight 0: nothing to run"))?;
    Ok(Picker::Weighted {
        names: names().collect(),
        index,
    })
}

/// Stops the run at its deadline or on Ctrl+C, and reports progress.
async fn watch_run(shared: Arc<Shared>, started: Instant) {
    let mut progress = tokio::time::interval(PROGRESS_EVERY);
    progress.tick().await;
    loop {
        let until_deadline = shared
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()));
        tokio::select! {
            _ = progress.tick() => shared.context.console.progress(&shared.context.metrics, started.elapsed()),
            _ = tokio::time::sleep(until_deadline.unwrap_or(Duration::MAX)), if until_deadline.is_some() => {
                shared.stop.stop(StopReason::Duration);
                return;
            }
        }
    }
}

/// Waits for every worker; Ctrl+C stops gracefully, a second one forcefully.
/// Returns whether the workers were cancelled.
async fn wait_for_workers(workers: &mut JoinSet<()>, shared: &Shared) -> bool {
    let mut interrupts = 0;
    loop {
        tokio::select! {
            joined = workers.join_next() => match joined {
                None => return false,
                Some(Err(error)) if error.is_panic() => {
                    shared.context.console.note(&format!("a worker panicked: {error}"));
                }
                Some(_) => {}
            },
            _ = tokio::signal::ctrl_c() => {
                interrupts += 1;
                shared.stop.stop(StopReason::Interrupted);
                if interrupts == 1 {
                    shared.context.console.note("stopping: runs in flight finish (Ctrl+C again to cancel them)");
                } else {
                    workers.abort_all();
                    while workers.join_next().await.is_some() {}
                    return true;
                }
            }
        }
    }
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

async fn worker(worker_id: u32, shared: Arc<Shared>) {
    let mut stop = shared.stop.signal.subscribe();
    let flags = &shared.flags;
    let offset = flags
        .ramp_up_duration()
        .mul_f64(f64::from(worker_id) / f64::from(flags.workers));
    if !pause(offset, &mut stop).await {
        return;
    }
    let live = &shared.context.metrics.live;
    live.workers.fetch_add(1, Ordering::Relaxed);
    if let Some(instance) = start_worker(worker_id, &shared).await {
        let instance = run_scenarios(worker_id, &shared, instance, &mut stop).await;
        finish_worker(worker_id, &shared, instance).await;
    }
    live.workers.fetch_sub(1, Ordering::Relaxed);
}

/// Instantiates and runs the worker's `setup` and `setup-session`; a failure stops the run.
async fn start_worker(worker_id: u32, shared: &Shared) -> Option<Instance> {
    let console = &shared.context.console;
    let fail = |what: &str, message: &dyn std::fmt::Display| {
        console.note(&format!("[W:{worker_id}] {what} failed: {message}"));
        shared.stop.stop(StopReason::SetupFailed);
    };
    let mut instance = match new_instance(worker_id, shared, SessionState::default()).await {
        Ok(instance) => instance,
        Err(error) => {
            fail("instantiation", &error);
            return None;
        }
    };
    let fixtures = shared.description.fixtures;
    if fixtures.contains(Fixtures::SETUP) {
        let options = fixture(instance.setup(worker_id, &shared.context.args).await);
        let applied = options.and_then(|options| match options {
            Some(options) => instance
                .state_mut()
                .session
                .apply(&options)
                .map_err(|e| format!("{e:?}")),
            None => Ok(()),
        });
        if let Err(message) = applied {
            fail("setup", &message);
            return None;
        }
    }
    if fixtures.contains(Fixtures::SETUP_SESSION)
        && let Err(message) = fixture(
            instance
                .session_fixture(SessionFixture::Setup, worker_id)
                .await,
        )
    {
        fail("setup-session", &message);
        return None;
    }
    Some(instance)
}

async fn new_instance(
    worker_id: u32,
    shared: &Shared,
    session: SessionState,
) -> anyhow::Result<Instance> {
    let mut instance = Instance::new(
        &shared.loaded,
        Arc::clone(&shared.context),
        worker_id,
        session,
    )
    .await?;
    instance.state_mut().events = shared.description.events;
    Ok(instance)
}

/// The worker's loop: pick, run, record, apply the stop rules, pause.
async fn run_scenarios(
    worker_id: u32,
    shared: &Shared,
    mut instance: Instance,
    stop: &mut watch::Receiver<bool>,
) -> Option<Instance> {
    let flags = &shared.flags;
    let recorder = instance.state().recorder().clone();
    let mut rng = SmallRng::from_os_rng();
    let mut step: u64 = 0;
    loop {
        if *stop.borrow() || shared.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if flags.max_runs.is_some_and(|max| step >= max) {
            break;
        }
        let name = match &shared.picker {
            Picker::Weighted { names, index } => names[index.sample(&mut rng)].clone(),
            Picker::Single(name) => name.clone(),
            Picker::EachOnce(names) => match names.get(step as usize) {
                Some(name) => name.clone(),
                None => break,
            },
            Picker::Component => match instance.pick(worker_id, step + 1).await {
                Ok(name) => name,
                Err(error) => {
                    let message = report_broken(worker_id, shared, "(picker)", &error);
                    recorder.scenario("(picker)", Some(&message), Duration::ZERO);
                    instance = replace(worker_id, shared, instance).await?;
                    step += 1;
                    continue;
                }
            },
        };
        step += 1;
        instance.state_mut().step = step;
        let scenario_event = || ScenarioEvent {
            scenario: name.clone(),
            worker_id,
        };
        instance.queue_event(EventKinds::SCENARIO_START, || {
            Event::ScenarioStart(scenario_event())
        });
        let started = Instant::now();
        let result = instance.run(&name).await;
        let elapsed = started.elapsed();
        let failure = match result {
            Ok(Ok(())) => None,
            Ok(Err(message)) => {
                shared
                    .context
                    .console
                    .failure(worker_id, &name, &message, None);
                Some(message)
            }
            Err(error) => {
                let message = report_broken(worker_id, shared, &name, &error);
                // A trap leaves the instance unusable: carry the session into a new one.
                instance = replace(worker_id, shared, instance).await?;
                Some(message)
            }
        };
        recorder.scenario(&name, failure.as_deref(), elapsed);
        apply_stop_rules(shared);
        match failure {
            None => instance.queue_event(EventKinds::SCENARIO_SUCCESS, || {
                Event::ScenarioSuccess(scenario_event())
            }),
            Some(message) => instance.queue_event(EventKinds::SCENARIO_FAILURE, || {
                Event::ScenarioFailure(FailureEvent {
                    scenario: name.clone(),
                    worker_id,
                    message,
                })
            }),
        }
        if let Err(error) = instance.deliver_events().await {
            let message = report_broken(worker_id, shared, "(events)", &error);
            recorder.scenario("(events)", Some(&message), Duration::ZERO);
            instance = replace(worker_id, shared, instance).await?;
        }
        let delay = shared.delays.get(&name).copied().unwrap_or_default();
        if !pause(delay, stop).await {
            break;
        }
    }
    Some(instance)
}

/// Shows a broken guest's failure (with its backtrace under `-vv`); returns its message.
fn report_broken(worker_id: u32, shared: &Shared, name: &str, error: &GuestError) -> String {
    let message = error.to_string();
    let backtrace = match error {
        GuestError::Trap { backtrace, .. } => Some(backtrace.as_str()),
        _ => None,
    };
    shared
        .context
        .console
        .failure(worker_id, name, &message, backtrace);
    message
}

/// Replaces a broken instance, keeping the worker's session (cookies, headers).
async fn replace(worker_id: u32, shared: &Shared, instance: Instance) -> Option<Instance> {
    let session = instance.into_session();
    match new_instance(worker_id, shared, session).await {
        Ok(instance) => Some(instance),
        Err(error) => {
            shared.context.console.note(&format!(
                "[W:{worker_id}] cannot replace the broken instance: {error}"
            ));
            None
        }
    }
}

/// `-x` stops at the first failure, `-f N` at the Nth.
fn apply_stop_rules(shared: &Shared) {
    let failed = shared.context.metrics.live.failed.load(Ordering::Relaxed);
    if failed == 0 {
        return;
    }
    if shared.flags.exception {
        shared.stop.stop(StopReason::Exception);
    }
    if shared.flags.fail.is_some_and(|limit| failed >= limit) {
        shared.stop.stop(StopReason::FailLimit);
    }
}

/// `teardown-session` and `teardown`: their errors are reported, not fatal.
async fn finish_worker(worker_id: u32, shared: &Shared, instance: Option<Instance>) {
    let Some(mut instance) = instance else { return };
    let fixtures = shared.description.fixtures;
    let console = &shared.context.console;
    if fixtures.contains(Fixtures::TEARDOWN_SESSION)
        && let Err(message) = fixture(
            instance
                .session_fixture(SessionFixture::Teardown, worker_id)
                .await,
        )
    {
        console.note(&format!(
            "[W:{worker_id}] teardown-session failed: {message}"
        ));
    }
    if fixtures.contains(Fixtures::TEARDOWN)
        && let Err(message) = fixture(instance.teardown(worker_id).await)
    {
        console.note(&format!("[W:{worker_id}] teardown failed: {message}"));
    }
}

/// A fixture's outcome with a broken guest and a reported error alike as a message.
fn fixture<T>(result: Result<Result<T, String>, GuestError>) -> Result<T, String> {
    result.map_err(|error| error.to_string())?
}
