//! A run from start to end: load, global fixtures, workers, the end-of-run report.

mod arrivals;
mod context;
mod cores;
mod egress;
mod live;
mod parent_fixtures;
mod picker;
mod sandbox;
mod script;
mod shared;
mod sizing;
mod stamp;
mod stop;
mod stopper;
mod worker;

pub use context::load;
pub use parent_fixtures::ParentFixtures;
pub use script::{handle_summary, run_options};

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::Url;

use self::arrivals::Arrivals;
use self::context::context;
use self::cores::WorkerThreads;
use self::live::Watchers;
use self::picker::Picker;
use self::shared::Shared;
use self::stamp::unix_ms;
use self::stopper::Stopper;
use self::worker::fixture;
use crate::console::Console;
use crate::plan::{LoadModel, RunIdentity, RunPlan};
use crate::shard::Shard;
use molotov_http::SharedSession;
use molotov_metrics::{Report, RunFacts, StopReason, Tally, Timeline, statsd};
use molotov_runtime::{GLOBAL_WORKER, Instance, Loaded, RunContext, Threads};

/// The end of a run that could run.
pub struct Outcome {
    pub report: Report,
    /// What the report was made from, for `-p` to merge.
    pub tally: Tally,
    /// What parts of one run share (see `RawResults`).
    pub identity: RunIdentity,
    pub shard: Option<Shard>,
    /// `-x`, `-f` or a failed `setup` failed the run (exit code 1).
    pub failed: bool,
}

/// Loads the component and runs the load test the plan describes.
pub async fn run(plan: RunPlan) -> anyhow::Result<Outcome> {
    let output = &plan.output;
    let mut console = Console::new(output.quiet, output.verbose, output.plain_console);
    if plan.part.is_child() {
        console.report_to_parent();
    }
    let loaded = load(&plan).await?;
    let target = target(&plan, &console).await?;
    let statsd = match &plan.output.statsd {
        Some(address) => Some(statsd::Statsd::connect(address)?),
        None => None,
    };
    let context = Arc::new(context(&plan, target, statsd, &console)?);

    let ticker = loaded.tick_epochs();
    let flusher = context.metrics.statsd.is_some().then(|| {
        let metrics = Arc::clone(&context.metrics);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(statsd::FLUSH_EVERY);
            while let Some(statsd) = &metrics.statsd {
                every.tick().await;
                statsd.flush();
            }
        })
    });
    let result = run_loaded(loaded, Arc::clone(&context), console, plan).await;
    ticker.abort();
    if let Some(flusher) = flusher {
        flusher.abort();
    }
    if let Some(statsd) = &context.metrics.statsd {
        statsd.flush();
    }
    result
}

/// `--target`, or the built-in target served in-process on 127.0.0.1.
pub async fn target(plan: &RunPlan, console: &Console) -> anyhow::Result<Url> {
    match &plan.http.target {
        Some(url) => Url::parse(url).with_context(|| format!("--target {url} is not a URL")),
        None => {
            let address = crate::serve::spawn(([127, 0, 0, 1], 0).into()).await?;
            console.note(&format!(
                "no --target given: serving the built-in target on http://{address}"
            ));
            Ok(Url::parse(&format!("http://{address}/"))?)
        }
    }
}

async fn run_loaded(
    loaded: Loaded,
    context: Arc<RunContext>,
    console: Console,
    plan: RunPlan,
) -> anyhow::Result<Outcome> {
    let watchers = Watchers::start(&plan, &console).await?;
    let mut global = Instance::new(
        &loaded,
        Arc::clone(&context),
        GLOBAL_WORKER,
        SharedSession::default(),
    )
    .await?;
    let mut description = global
        .describe()
        .await
        .context("the component failed to describe itself")?;
    if let Some(path) = &plan.part.fixtures_from {
        // The parent ran the script's global setup, and runs its teardown.
        parent_fixtures::seed_vars(&context, path)?;
        description.fixtures.global_setup = false;
        description.fixtures.global_teardown = false;
    }
    global.subscribe(&description);
    let picker = Picker::new(&description, &plan.load)?;
    if description.fixtures.global_setup
        && let Err(message) = fixture(global.global_setup().await)
    {
        bail!("global-setup failed: {message}");
    }

    let late_s = match plan.load.start_at {
        Some(at) => wait_until(at).await,
        None => None,
    };
    let mut started = Instant::now();
    let mut started_at_ms = unix_ms(SystemTime::now());
    let duration = plan.load.length();
    let ramp_up = plan.load.ramp_up();
    let threads = WorkerThreads::start(plan.load.workers)?;
    let per_instance =
        sandbox::workers_per_instance(plan.limits.workers_per_instance, &loaded, &mut global)
            .await?;
    let instances = sandbox::start_workers(
        &loaded,
        &context,
        &description,
        (plan.load.first_worker, plan.load.workers),
        per_instance,
        &threads,
    )
    .await?;
    let shared = Arc::new(Shared {
        delays: description
            .scenarios
            .iter()
            .map(|s| s.delay + plan.load.delay)
            .collect(),
        loaded,
        context: Arc::clone(&context),
        description,
        picker,
        workers: plan.load.workers,
        ramp_up,
        deadline: std::sync::OnceLock::new(),
        stop: Stopper::new(),
        instances,
        per_instance,
        global: tokio::sync::Mutex::new(global),
        arrivals: matches!(plan.load.model, LoadModel::Open { .. }).then(Arrivals::new),
        active_workers: matches!(plan.load.model, LoadModel::Staged(_))
            .then(|| watch::channel(0).0),
        timeline: std::sync::Mutex::new(Timeline::new(plan.output.timeline_every.as_secs_f64())),
        plan,
        console,
    });

    let open = shared.arrivals.is_some();
    if !open {
        let _ = shared.deadline.set(duration.map(|d| started + ramp_up + d));
    }
    let mut workers = JoinSet::new();
    let first_worker = shared.plan.load.first_worker;
    for worker_id in first_worker..first_worker + shared.workers {
        workers.spawn_on(
            worker::worker(worker_id, Arc::clone(&shared)),
            threads.for_worker(worker_id),
        );
    }
    if let Some(arrivals) = &shared.arrivals {
        // The open model's clock starts once its workers are set up and
        // waiting: runs intended before would be dropped for want of them.
        arrivals
            .wait_for_workers(shared.workers, &shared.stop)
            .await;
        (started, started_at_ms) = (Instant::now(), unix_ms(SystemTime::now()));
        let _ = shared.deadline.set(duration.map(|d| started + d));
    }
    let (done, done_watch) = watch::channel(false);
    let ((aborted, sizing), ()) = tokio::join!(
        async {
            tokio::join!(
                async {
                    let aborted = stop::wait_for_workers(&mut workers, &shared).await;
                    done.send_replace(true);
                    aborted
                },
                stop::watch_run(&shared, started, done_watch, &watchers),
            )
        },
        start_arrivals(&shared, started),
    );
    drop(threads);
    shared.console.finish_progress();

    if shared.description.fixtures.global_teardown && !aborted {
        let mut global = shared.global.lock().await;
        if let Err(why) = worker::bounded_teardown(&shared, global.global_teardown()).await {
            shared.console.note(&format!("global-teardown {why}"));
        }
    }

    let stopped_by = shared.stop.reason().unwrap_or(if aborted {
        StopReason::Interrupted
    } else if shared.deadline().is_some_and(|d| Instant::now() >= d) {
        StopReason::Duration
    } else {
        StopReason::Completed
    });
    let facts = RunFacts {
        component: shared.plan.component.shown.clone(),
        component_sha256: shared.plan.component.sha256.clone(),
        flags: shared.plan.command_line.clone(),
        started_at_ms,
        late_s,
        shard: shared.plan.part.shown_shard(),
        workers: shared.workers,
        processes: 1,
        workers_per_instance: Some(shared.per_instance),
        duration_s: started.elapsed().as_secs_f64(),
        stopped_by,
        sizing,
    };
    stop::sample_timeline(&shared, started);
    let tally = egress::tally_so_far(&context);
    let mut report = Report::new(facts, &tally);
    if !shared.plan.part.is_child() {
        // A `-p` child's share is judged, and put in k6's terms, by its
        // parent, on the whole.
        let k6_script = shared.plan.identity.k6.as_ref();
        report.judge(&shared.plan.stop.thresholds, &tally, k6_script);
    }
    report.timeline = std::mem::take(&mut *shared.timeline.lock().expect("timeline"));
    if let Some(reason) = context.abort.reason() {
        report
            .warnings
            .push(format!("the script aborted the run: {reason}"));
    }
    let failed = report.fails_run(shared.plan.stop.exception, shared.plan.stop.fail);
    watchers.finish(&report, &tally).await;
    Ok(Outcome {
        report,
        tally,
        failed,
        identity: shared.plan.identity.clone(),
        shard: shared.plan.part.shard,
    })
}

/// The open model's scheduler (`--rate`), until the deadline or a stop.
async fn start_arrivals(shared: &Shared, started: Instant) {
    let Some(arrivals) = &shared.arrivals else {
        return;
    };
    let LoadModel::Open { rate, stages } = &shared.plan.load.model else {
        return;
    };
    let schedule = arrivals::Schedule {
        start: *rate,
        stages: stages.clone(),
    };
    let recorder = shared
        .context
        .metrics
        .recorder(molotov_runtime::GLOBAL_WORKER);
    let stop = shared.stop.stopped.subscribe();
    arrivals
        .schedule(schedule, started, shared.deadline(), recorder, stop)
        .await;
}

/// `--start-at`: waits for it (a Ctrl+C ends the wait, and the run then
/// stops at once); returns how late the run starts when it is.
async fn wait_until(at: SystemTime) -> Option<f64> {
    match at.duration_since(SystemTime::now()) {
        Ok(wait) => {
            let mut interrupts = crate::interrupts::subscribe();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = interrupts.changed() => {}
            }
            None
        }
        // Within a tenth of a second is on time.
        Err(late) => Some(late.duration().as_secs_f64()).filter(|late| *late > 0.1),
    }
}
