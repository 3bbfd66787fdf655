//! A run from start to end: load, global fixtures, workers, the end-of-run report.

mod arrivals;
mod cores;
mod egress;
mod live;
mod picker;
mod sandbox;
mod shared;
mod sizing;
mod stamp;
mod stop;
mod stopper;
mod worker;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::Url;

use self::arrivals::Arrivals;
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
use molotov_http::{HttpClient, SharedSession, WsLimits};
use molotov_metrics::{Metrics, NameLimits, Report, RunFacts, StopReason, Tally, Timeline, statsd};
use molotov_runtime::{
    EngineLimits, GLOBAL_WORKER, Instance, Loaded, OutputBudget, RunArgs, RunContext, SchemaCache,
    SharedVars, Threads,
};

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

/// How long loading a component may take before a line says it is compiling.
const COMPILE_NOTICE: Duration = Duration::from_millis(500);

/// Loads the component and runs the load test the plan describes.
pub async fn run(plan: RunPlan) -> anyhow::Result<Outcome> {
    let output = &plan.output;
    let mut console = Console::new(output.quiet, output.verbose, output.plain_console);
    if plan.part.is_child() {
        console.report_to_parent();
    }
    let loaded = load(&plan).await?;
    let target = target(&plan, &console).await?;
    let (allowed_hosts, egress_policy) = egress::rules(&plan.http, &target);
    let limits = &plan.limits;

    let args = RunArgs {
        workers: plan.load.workers,
        duration_s: plan.load.duration.map(|d| d.as_secs_f64().ceil() as u64),
        max_runs: plan.load.max_runs,
        target: plan.http.target.clone(),
        single_run: plan.load.single_run,
        statsd: plan.output.statsd.is_some(),
    };
    let shards = std::thread::available_parallelism().map_or(2, |n| n.get()) * 4;
    let statsd = match &plan.output.statsd {
        Some(address) => Some(statsd::Statsd::connect(address)?),
        None => None,
    };
    let context = Arc::new(RunContext {
        args,
        env: plan.env.iter().cloned().collect(),
        vars: SharedVars::new(limits.max_vars_bytes),
        client: HttpClient::new(
            Some(target),
            allowed_hosts,
            plan.http.timeout,
            limits.max_body_bytes,
            molotov_http::tls_config(&plan.http.ca_certs).context("--ca-cert")?,
        )
        .with_connect_to(plan.http.connect_to.clone())
        .with_websocket_limits(WsLimits {
            max_frames_per_second: limits.ws_max_frame_rate,
            ..WsLimits::for_max_body(limits.max_body_bytes)
        })
        .with_grpc_max_messages(limits.grpc_max_messages)
        .with_egress(egress_policy, limits.max_request_names),
        metrics: Metrics::new(
            shards,
            statsd,
            NameLimits {
                requests: limits.max_request_names,
                custom_metrics: limits.max_metric_names,
            },
        ),
        output: Arc::new(console.clone()),
        output_budget: OutputBudget::new(limits.max_output_lines),
        dump_exchanges: plan.output.verbose >= 2,
        guest_deadline: limits.guest_deadline,
        max_memory_bytes: limits.max_memory_bytes,
        max_open: limits.max_open,
        max_body_bytes: limits.max_body_bytes,
        schemas: SchemaCache::default(),
    });

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

/// Compiles the component (or loads it from the cache) for an engine sized for
/// `-w`. A compile that takes a while says so (unless `-q`); Ctrl+C stops it.
pub async fn load(plan: &RunPlan) -> anyhow::Result<Loaded> {
    let limits = EngineLimits {
        instances: plan.load.workers.saturating_add(2),
        max_memory_bytes: plan.limits.max_memory_bytes,
    };
    let engine = molotov_runtime::engine(&limits, plan.cache_dir.as_deref())?;
    let cache_dir = plan.cache_dir.clone();
    let path = plan.component.path.clone();
    let mut loading = tokio::task::spawn_blocking(move || {
        molotov_runtime::load(&engine, &path, cache_dir.as_deref())
    });
    let mut interrupts = crate::interrupts::subscribe();
    let mut told = plan.output.quiet;
    loop {
        tokio::select! {
            loaded = &mut loading => return Ok(loaded??),
            // A compile cannot be cut short: the process leaves it behind.
            _ = interrupts.wait_for(|count| *count > 0) => {
                return Err(crate::interrupts::Interrupted.into());
            }
            // From the cache it takes milliseconds: only a compile lasts this long.
            () = tokio::time::sleep(COMPILE_NOTICE), if !told => {
                eprintln!(
                    "compiling {} for this machine (first run only: the result is cached)…",
                    plan.component.shown
                );
                told = true;
            }
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
    let description = global
        .describe()
        .await
        .context("the component failed to describe itself")?;
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
    let mut tally = context.metrics.snapshot();
    tally.egress = egress::manifest(context.client.egress_log());
    let mut report = Report::new(facts, &tally);
    if !shared.plan.part.is_child() {
        // A `-p` child's share is judged by its parent, on the whole.
        report.judge(&shared.plan.stop.thresholds, &tally);
    }
    report.timeline = std::mem::take(&mut *shared.timeline.lock().expect("timeline"));
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
