//! What a component says of itself and what a run tells it, as plain Rust
//! types: the CLI plans a run from these without seeing the WIT bindings.

use std::time::Duration;

use molotov_http::SessionOptions;

use crate::bindings;

/// A component's description of itself (its `describe` export).
#[derive(Debug, Clone)]
pub struct Description {
    pub scenarios: Vec<ScenarioInfo>,
    pub fixtures: Fixtures,
    /// The events its hook subscribes to; the instance queues only these.
    pub(crate) events: bindings::EventKinds,
}

impl Description {
    /// Whether its hook wants the run's worker count as it changes.
    pub fn wants_worker_counts(&self) -> bool {
        self.events.contains(bindings::EventKinds::CURRENT_WORKERS)
    }

    /// Where scenario `name` is in the list.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.scenarios.iter().position(|s| s.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct ScenarioInfo {
    pub name: String,
    pub weight: u32,
    /// The pause after each of its runs.
    pub delay: Duration,
}

/// The fixtures a component implements: the host calls no other.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fixtures {
    pub global_setup: bool,
    pub setup: bool,
    pub setup_session: bool,
    pub teardown_session: bool,
    pub teardown: bool,
    pub global_teardown: bool,
    /// Its own `pick` export chooses each step's scenario.
    pub picker: bool,
}

/// What a run tells a component of itself (`molotov::args()`).
#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    pub workers: u32,
    /// `-d`, in whole seconds.
    pub duration_s: Option<u64>,
    pub max_runs: Option<u64>,
    pub target: Option<String>,
    pub single_run: bool,
    /// `--statsd` is on.
    pub statsd: bool,
}

impl From<bindings::Description> for Description {
    fn from(description: bindings::Description) -> Self {
        let has = |fixture| description.fixtures.contains(fixture);
        use bindings::Fixtures as F;
        Self {
            fixtures: Fixtures {
                global_setup: has(F::GLOBAL_SETUP),
                setup: has(F::SETUP),
                setup_session: has(F::SETUP_SESSION),
                teardown_session: has(F::TEARDOWN_SESSION),
                teardown: has(F::TEARDOWN),
                global_teardown: has(F::GLOBAL_TEARDOWN),
                picker: has(F::PICKER),
            },
            scenarios: description
                .scenarios
                .into_iter()
                .map(|s| ScenarioInfo {
                    name: s.name,
                    weight: s.weight,
                    delay: Duration::from_millis(s.delay_ms.into()),
                })
                .collect(),
            events: description.events,
        }
    }
}

impl From<&RunArgs> for bindings::RunArgs {
    fn from(args: &RunArgs) -> Self {
        Self {
            workers: args.workers,
            duration_s: args.duration_s,
            max_runs: args.max_runs,
            target: args.target.clone(),
            single_run: args.single_run,
            statsd: args.statsd,
        }
    }
}

impl From<bindings::SessionOptions> for SessionOptions {
    fn from(options: bindings::SessionOptions) -> Self {
        Self {
            headers: options.headers,
            timeout: options
                .timeout_ms
                .map(|ms| Duration::from_millis(ms.into())),
            max_redirects: options.max_redirects,
        }
    }
}
