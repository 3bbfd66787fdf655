//! What a run's instances are given: the component, compiled (or loaded
//! from the cache) for an engine sized for the plan, and the context they
//! all share.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use molotov_http::{HttpClient, WsLimits};
use molotov_metrics::{Metrics, NameLimits, statsd};
use molotov_runtime::{
    EngineLimits, Loaded, OutputBudget, RunAbort, RunArgs, RunContext, SchemaCache, SharedVars,
};
use url::Url;

use super::egress;
use crate::console::Console;
use crate::plan::RunPlan;

/// How long loading a component may take before a line says it is compiling.
const COMPILE_NOTICE: Duration = Duration::from_millis(500);

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

/// What every instance of the run shares, for requests to `target`.
pub(super) fn context(
    plan: &RunPlan,
    target: Url,
    statsd: Option<statsd::Statsd>,
    console: &Console,
) -> anyhow::Result<RunContext> {
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
    Ok(RunContext {
        args,
        env: plan.env.iter().cloned().collect(),
        vars: SharedVars::new(limits.max_vars_bytes),
        client: HttpClient::new(
            Some(target),
            allowed_hosts,
            plan.http.timeout,
            limits.max_body_bytes,
            tls(plan)?,
        )
        .with_connect_to(plan.http.connect_to.clone())
        .with_websocket_limits(WsLimits {
            max_frames_per_second: limits.ws_max_frame_rate,
            ..WsLimits::for_max_body(limits.max_body_bytes)
        })
        .with_grpc_max_messages(limits.grpc_max_messages)
        .with_max_connections(limits.max_connections as usize)
        .with_egress(egress_policy, limits.max_request_names)
        // k6's results split each request's time (`http_req_waiting`, …).
        .with_phases(plan.identity.k6.is_some()),
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
        abort: RunAbort::default(),
    })
}

/// The run's TLS settings: webpki's roots and `--ca-cert`, or `--insecure`.
fn tls(plan: &RunPlan) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let verified = molotov_http::tls_config(&plan.http.ca_certs).context("--ca-cert")?;
    Ok(match plan.http.insecure {
        true => molotov_http::without_verification(&verified),
        false => verified,
    })
}
