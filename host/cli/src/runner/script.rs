//! What the host asks a script component (a k6 script) outside its
//! workers, each time in an instance of its own that has the run's
//! environment: before the run is planned, the run it wants (its options,
//! as JSON); after the run, what to write of the results (its
//! `handleSummary`).

use std::sync::Arc;

use anyhow::bail;
use molotov_http::SharedSession;
use molotov_runtime::{GLOBAL_WORKER, Instance, Loaded, RunContext};
use url::Url;

use super::context::{context, load};
use crate::console::Console;
use crate::plan::RunPlan;

/// The options of the component `plan` runs, if it is a script that has
/// them; an error naming the script when it could not give them.
pub async fn run_options(plan: &RunPlan) -> anyhow::Result<Option<String>> {
    let loaded = load(plan).await?;
    if !loaded.is_script() {
        return Ok(None);
    }
    let (mut instance, _) = script_instance(plan, &loaded, no_target(plan)?).await?;
    match instance.run_options().await {
        Ok(None) => Ok(None),
        Ok(Some(Ok(options))) => Ok(Some(options)),
        Ok(Some(Err(message))) => bail!("{}: {message}", plan.component.shown),
        Err(error) => bail!("{}: {error}", plan.component.shown),
    }
}

/// What the script's `handleSummary` makes of `results` (JSON in k6's
/// shape): destinations and texts, none when it has no such function.
pub async fn handle_summary(
    plan: &RunPlan,
    results: &str,
) -> anyhow::Result<Option<Vec<(String, String)>>> {
    let loaded = load(plan).await?;
    let (mut instance, _) = script_instance(plan, &loaded, no_target(plan)?).await?;
    match instance.handle_summary(results).await {
        Ok(Ok(outputs)) => Ok(outputs),
        Ok(Err(message)) => bail!("handleSummary: {message}"),
        Err(error) => bail!("handleSummary: {error}"),
    }
}

/// The target of calls that send no requests (options, summary): none is
/// served for them.
fn no_target(plan: &RunPlan) -> anyhow::Result<Url> {
    Ok(match &plan.http.target {
        Some(url) => Url::parse(url)?,
        None => Url::parse("http://127.0.0.1/")?,
    })
}

/// An instance for a script's own calls, with requests to `target`, and
/// the context it shares with no other.
pub(super) async fn script_instance(
    plan: &RunPlan,
    loaded: &Loaded,
    target: Url,
) -> anyhow::Result<(Instance, Arc<RunContext>)> {
    let console = Console::new(
        plan.output.quiet,
        plan.output.verbose,
        plan.output.plain_console,
    );
    let context = Arc::new(context(plan, target, None, &console)?);
    let shared = Arc::clone(&context);
    let instance = Instance::new(loaded, shared, GLOBAL_WORKER, SharedSession::default()).await?;
    Ok((instance, context))
}
