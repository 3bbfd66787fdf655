//! A k6 script's `setup` and `teardown` when its several scenarios run in
//! processes of their own: run once, by the parent, as k6 runs them; the
//! shared variables the setup left (its data) go to every process, whose
//! own global fixtures are then skipped.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use molotov_metrics::Tally;
use molotov_runtime::{Instance, RunContext};
use url::Url;

use super::context::load;
use super::egress::tally_so_far;
use super::script::script_instance;
use super::worker::fixture;
use crate::plan::RunPlan;

/// The parent's instance of the script, after its global setup.
pub struct ParentFixtures {
    instance: Instance,
    context: Arc<RunContext>,
    teardown: bool,
}

impl ParentFixtures {
    /// Runs the script's global setup, with requests to `target`.
    pub async fn setup(plan: &RunPlan, target: &Url) -> anyhow::Result<Self> {
        let loaded = load(plan).await?;
        let (mut instance, context) = script_instance(plan, &loaded, target.clone()).await?;
        let description =
            (instance.describe().await).context("the component failed to describe itself")?;
        if description.fixtures.global_setup
            && let Err(message) = fixture(instance.global_setup().await)
        {
            bail!("global-setup failed: {message}");
        }
        Ok(Self {
            instance,
            context,
            teardown: description.fixtures.global_teardown,
        })
    }

    /// Writes the shared variables the setup left, for the processes.
    pub fn write_vars(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_vec(&self.context.vars.all())?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Runs the global teardown, for at most `limit`; returns what the
    /// fixtures' requests measured, and why the teardown failed if it did.
    pub async fn teardown(mut self, limit: std::time::Duration) -> (Tally, Option<String>) {
        let failed = match self.teardown {
            false => None,
            true => match tokio::time::timeout(limit, self.instance.global_teardown()).await {
                Ok(outcome) => fixture(outcome).err(),
                Err(_) => Some(format!("took over {}s", limit.as_secs_f64())),
            },
        };
        (tally_so_far(&self.context), failed)
    }
}

/// Seeds a scenario process's shared variables with what its parent's
/// setup left (written by [`ParentFixtures::write_vars`]).
pub fn seed_vars(context: &RunContext, path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let vars: Vec<(String, String)> = serde_json::from_slice(&text)
        .with_context(|| format!("{} holds no shared variables", path.display()))?;
    for (key, value) in vars {
        context.vars.set(key, value)?;
    }
    Ok(())
}
