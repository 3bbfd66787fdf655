//! The run's workers as the plan asks for them: how many share an instance
//! (`--workers-per-instance`, or what the component says it runs well);
//! the runtime's `Workers` decide each one's place.

use std::sync::Arc;

use anyhow::bail;
use molotov_runtime::{Description, Instance, Loaded, RunContext, Workers};

use super::cores::WorkerThreads;

/// Workers per instance for a component that can share one, unless told.
pub const DEFAULT_WORKERS_PER_INSTANCE: u32 = 128;

/// How many workers share each instance: the flag, or what the component
/// says it runs well (`capacity`, from `global`), at most the default.
pub async fn workers_per_instance(
    asked: Option<u32>,
    loaded: &Loaded,
    global: &mut Instance,
) -> anyhow::Result<u32> {
    match asked {
        Some(n) if n > 1 && !loaded.can_share_instances() => bail!(
            "--workers-per-instance {n}: this component runs one worker per instance (it does not export molotov:scenario/driver; rebuild it with a current molotov SDK)"
        ),
        Some(n) => Ok(n),
        None => {
            let capacity = global
                .capacity()
                .await
                .map_err(|e| anyhow::anyhow!("the component failed to say its capacity: {e}"))?;
            Ok(capacity.clamp(1, DEFAULT_WORKERS_PER_INSTANCE))
        }
    }
}

/// The run's workers: instances of their own or seats on shared ones, as
/// the runtime decides for `per_instance` workers per instance.
pub async fn start_workers(
    loaded: &Loaded,
    context: &Arc<RunContext>,
    description: &Description,
    (first_worker, workers): (u32, u32),
    per_instance: u32,
    threads: &WorkerThreads,
) -> anyhow::Result<Workers> {
    let ids = first_worker..first_worker + workers;
    let workers = Workers::start(loaded, context, description, ids, per_instance, threads).await?;
    Ok(workers)
}
