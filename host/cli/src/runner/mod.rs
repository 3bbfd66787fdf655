//! A run from start to end: load, global fixtures, workers, the end-of-run report.

mod arrivals;
mod cores;
mod egress;
mod live;
mod picker;
mod sandbox;
mod shared;
mod sizing;
mod stages;
mod stamp;
mod stop;
mod stopper;
mod worker;

pub use stages::Stages;
pub use stamp::sha256_of;

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
use crate::cli::RunFlags;
use crate::console::Console;
use crate::shard::Shard;
use molotov_http::{HttpClient, SharedSession};
use molotov_metrics::{Metrics, NameLimits, Report, RunFacts, StopReason, Tally, Timeline, statsd};
use molotov_runtime::{
    EngineLimits, GLOBAL_WORKER, Instance, Loaded, OutputBudget, RunArgs, RunContext, SharedVars,
    Threads,
};

/// The end of a run that could run.
pub struct Outcome {
    pub report: Report,
    /// What the report was made from, for `-p` to merge.
    pub tally: Tally,
    /// The flags that parts of one run share (see `RawResults`).
    pub plan: String,
    pub shard: Option<Shard>,
    /// `-x`, `-f` or a failed `setup` failed the run (exit code 1).
    pub failed: bool,
}

/// Molotov's default duration when neither `-d`, `-r` nor `--single-run` bound the run.
const DEFAULT_DURATION: Duration = Duration::from_secs(86_400);

/// How long loading a component may take before a line says it is compiling.
const COMPILE_NOTICE: Duration = Duration::from_millis(500);

/// Loads the component and runs the load test the flags describe.
pub async fn run(flags: RunFlags) -> anyhow::Result<Outcome> {
    flags.check_load_model()?;
    let mut console = Console::new(flags.quiet, flags.verbose, flags.console);
    if flags.tally_out.is_some() {
        console.report_to_parent();
    }
    let loaded = load(&flags).await?;
    let target = target(&flags, &console).await?;
    let max_memory_bytes = flags.max_memory_mib as usize * 1024 * 1024;
    let (allowed_hosts, egress_policy) = egress::rules(&flags, &target);

    let args = RunArgs {
        workers: flags.workers(),
        duration_s: flags.duration.map(|d| d.as_secs_f64().ceil() as u64),
        max_runs: flags.max_runs,
        target: flags.target.clone(),
        single_run: flags.single_run,
        statsd: flags.statsd,
    };
    let shards = std::thread::available_parallelism().map_or(2, |n| n.get()) * 4;
    let statsd = match flags.statsd {
        true => Some(statsd::Statsd::connect(&flags.statsd_address)?),
        false => None,
    };
    let context = Arc::new(RunContext {
        args,
        env: flags.env.iter().cloned().collect(),
        vars: SharedVars::new(flags.max_vars_mib as usize * 1024 * 1024),
        client: HttpClient::new(
            Some(target),
            allowed_hosts,
            flags.timeout,
            flags.max_body_mib as usize * 1024 * 1024,
            molotov_http::tls_config(&flags.ca_cert).context("--ca-cert")?,
        )
        .with_connect_to(flags.connect_to.clone())
        .with_egress(egress_policy, flags.max_request_names as usize),
        metrics: Metrics::new(
            shards,
            statsd,
            NameLimits {
                requests: flags.max_request_names as usize,
                custom_metrics: flags.max_metric_names as usize,
            },
        ),
        output: Arc::new(console.clone()),
        output_budget: OutputBudget::new(flags.max_output),
        dump_exchanges: flags.verbose >= 2,
        guest_deadline: flags.guest_deadline,
        max_memory_bytes,
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
    let result = run_loaded(loaded, Arc::clone(&context), console, flags).await;
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
pub async fn target(flags: &RunFlags, console: &Console) -> anyhow::Result<Url> {
    match &flags.target {
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
pub async fn load(flags: &RunFlags) -> anyhow::Result<Loaded> {
    let limits = EngineLimits {
        instances: flags.workers().saturating_add(2),
        max_memory_bytes: flags.max_memory_mib as usize * 1024 * 1024,
    };
    let engine = molotov_runtime::engine(&limits)?;
    let cache_dir = flags
        .cache_dir
        .clone()
        .or_else(molotov_runtime::default_cache_dir);
    let path = flags.component.clone();
    let mut loading = tokio::task::spawn_blocking(move || {
        molotov_runtime::load(&engine, &path, cache_dir.as_deref())
    });
    let mut interrupts = crate::interrupts::subscribe();
    let mut told = flags.quiet;
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
                    flags.shown_component()
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
    flags: RunFlags,
) -> anyhow::Result<Outcome> {
    let watchers = Watchers::start(&flags, &console).await?;
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
    let picker = Picker::new(&description, &flags)?;
    if description.fixtures.global_setup
        && let Err(message) = fixture(global.global_setup().await)
    {
        bail!("global-setup failed: {message}");
    }

    let late_s = match flags.start_at {
        Some(at) => wait_until(at).await,
        None => None,
    };
    let mut started = Instant::now();
    let mut started_at_ms = unix_ms(SystemTime::now());
    let stages_last = flags.stages.as_ref().map(Stages::total);
    let duration = match (
        flags.duration.or(stages_last),
        flags.max_runs,
        flags.single_run,
    ) {
        (Some(duration), _, _) => Some(duration),
        (None, None, false) => Some(DEFAULT_DURATION),
        _ => None,
    };
    let ramp_up = flags.ramp_up();
    let threads = WorkerThreads::start(flags.workers())?;
    let per_instance = sandbox::workers_per_instance(&flags, &loaded, &mut global).await?;
    let instances = sandbox::start_workers(
        &loaded,
        &context,
        &description,
        &flags,
        per_instance,
        &threads,
    )
    .await?;
    let shared = Arc::new(Shared {
        delays: description
            .scenarios
            .iter()
            .map(|s| s.delay + flags.delay)
            .collect(),
        loaded,
        context: Arc::clone(&context),
        description,
        picker,
        workers: flags.workers(),
        ramp_up,
        deadline: std::sync::OnceLock::new(),
        stop: Stopper::new(),
        instances,
        per_instance,
        global: tokio::sync::Mutex::new(global),
        arrivals: flags.rate.map(|_| Arrivals::new()),
        active_workers: (flags.stages.is_some() && flags.rate.is_none())
            .then(|| watch::channel(0).0),
        timeline: std::sync::Mutex::new(Timeline::new(flags.timeline_every.as_secs_f64())),
        flags,
        console,
    });

    let open = shared.arrivals.is_some();
    if !open {
        let _ = shared.deadline.set(duration.map(|d| started + ramp_up + d));
    }
    let mut workers = JoinSet::new();
    let first_worker = shared.flags.first_worker;
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
        component: shared.flags.shown_component(),
        component_sha256: sha256_of(&shared.flags.component)?,
        flags: shared.flags.command_line.clone(),
        started_at_ms,
        late_s,
        shard: (shared.flags.resolved_shard).map(|s| format!("{}/{}", s.index, s.count)),
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
    if shared.flags.tally_out.is_none() {
        // A `-p` child's share is judged by its parent, on the whole.
        report.judge(&shared.flags.threshold, &tally);
    }
    report.timeline = std::mem::take(&mut *shared.timeline.lock().expect("timeline"));
    let failed = report.fails_run(shared.flags.exception, shared.flags.fail);
    watchers.finish(&report, &tally).await;
    Ok(Outcome {
        report,
        tally,
        failed,
        plan: shared.flags.plan.clone(),
        shard: shared.flags.resolved_shard,
    })
}

/// The open model's scheduler (`--rate`), until the deadline or a stop.
async fn start_arrivals(shared: &Shared, started: Instant) {
    let Some(arrivals) = &shared.arrivals else {
        return;
    };
    let schedule = arrivals::Schedule {
        start: shared.flags.rate.unwrap_or_default(),
        stages: shared.flags.stages.clone(),
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
