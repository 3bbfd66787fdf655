//! Asks a script component (a k6 script) which run it wants, before the
//! run is planned: its options, as JSON, computed in an instance that has
//! the run's environment.

use std::sync::Arc;

use anyhow::bail;
use molotov_http::SharedSession;
use molotov_runtime::{GLOBAL_WORKER, Instance};
use url::Url;

use super::context::{context, load};
use crate::console::Console;
use crate::plan::RunPlan;

/// The options of the component `plan` runs, if it is a script that has
/// them; an error naming the script when it could not give them.
pub async fn run_options(plan: &RunPlan) -> anyhow::Result<Option<String>> {
    let loaded = load(plan).await?;
    if !loaded.has_run_options() {
        return Ok(None);
    }
    let console = Console::new(
        plan.output.quiet,
        plan.output.verbose,
        plan.output.plain_console,
    );
    // A script's init context sends no requests: no target is served for it.
    let target = match &plan.http.target {
        Some(url) => Url::parse(url)?,
        None => Url::parse("http://127.0.0.1/")?,
    };
    let context = Arc::new(context(plan, target, None, &console)?);
    let mut instance =
        Instance::new(&loaded, context, GLOBAL_WORKER, SharedSession::default()).await?;
    match instance.run_options().await {
        Ok(None) => Ok(None),
        Ok(Some(Ok(options))) => Ok(Some(options)),
        Ok(Some(Err(message))) => bail!("{}: {message}", plan.component.shown),
        Err(error) => bail!("{}: {error}", plan.component.shown),
    }
}
