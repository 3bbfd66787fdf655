//! Where a worker's runs execute: an instance of its own, or a seat on an
//! instance it shares with other workers (`--workers-per-instance`).

use std::sync::Arc;

use anyhow::bail;
use molotov_http::{SessionOptions, SharedSession};
use molotov_metrics::Recorder;
use molotov_runtime::{
    Description, GuestError, Instance, Loaded, RunContext, Seat, SessionFixture, SharedInstance,
};

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

/// The shared instances of a run, each on one worker thread; empty when
/// every worker has its own.
pub struct SharedInstances {
    instances: Vec<SharedInstance>,
    first_worker: u32,
}

impl SharedInstances {
    /// Starts enough instances for `workers` at `per_instance` each, a
    /// multiple of the worker threads, so that an instance and its workers
    /// share a thread.
    pub async fn start(
        loaded: &Loaded,
        context: &Arc<RunContext>,
        description: &Description,
        (first_worker, workers): (u32, u32),
        per_instance: u32,
        threads: &WorkerThreads,
    ) -> anyhow::Result<Self> {
        let mut instances = Vec::new();
        if per_instance > 1 {
            let count = workers
                .div_ceil(per_instance)
                .div_ceil(threads.count())
                .saturating_mul(threads.count())
                .min(workers);
            for index in 0..count {
                let worker_id = first_worker + index;
                let instance = SharedInstance::start(
                    loaded,
                    Arc::clone(context),
                    description,
                    worker_id,
                    threads.for_worker(worker_id),
                )
                .await?;
                instances.push(instance);
            }
        }
        Ok(Self {
            instances,
            first_worker,
        })
    }

    /// The worker's seat, if instances are shared; else the session back.
    pub fn seat(&self, worker_id: u32, session: SharedSession) -> Result<Seat, SharedSession> {
        if self.instances.is_empty() {
            return Err(session);
        }
        let index = (worker_id - self.first_worker) as usize % self.instances.len();
        Ok(self.instances[index].seat(worker_id, session))
    }
}

/// A worker's instance, or its seat on a shared one: the same calls either way.
pub enum WorkerInstance {
    Own(Box<Instance>),
    Seat(Seat),
}

impl WorkerInstance {
    pub fn recorder(&self) -> &Recorder {
        match self {
            Self::Own(instance) => instance.recorder(),
            Self::Seat(seat) => seat.recorder(),
        }
    }

    pub fn session(&self) -> SharedSession {
        match self {
            Self::Own(instance) => instance.session(),
            Self::Seat(seat) => seat.session(),
        }
    }

    pub fn set_step(&mut self, step: u64) {
        match self {
            Self::Own(instance) => instance.set_step(step),
            Self::Seat(seat) => seat.set_step(step),
        }
    }

    pub fn scenario_started(&mut self, scenario: &str) {
        match self {
            Self::Own(instance) => instance.scenario_started(scenario),
            Self::Seat(seat) => seat.scenario_started(scenario),
        }
    }

    pub fn scenario_ended(&mut self, scenario: &str, failure: Option<String>) {
        match self {
            Self::Own(instance) => instance.scenario_ended(scenario, failure),
            Self::Seat(seat) => seat.scenario_ended(scenario, failure),
        }
    }

    pub async fn run(&mut self, index: u32) -> Result<Result<(), String>, GuestError> {
        match self {
            Self::Own(instance) => instance.run(index).await,
            Self::Seat(seat) => seat.run(index).await,
        }
    }

    pub async fn setup(
        &mut self,
        worker_id: u32,
    ) -> Result<Result<Option<SessionOptions>, String>, GuestError> {
        match self {
            Self::Own(instance) => instance.setup(worker_id).await,
            Self::Seat(seat) => seat.setup(worker_id).await,
        }
    }

    pub async fn session_fixture(
        &mut self,
        fixture: SessionFixture,
        worker_id: u32,
    ) -> Result<Result<(), String>, GuestError> {
        match self {
            Self::Own(instance) => instance.session_fixture(fixture, worker_id).await,
            Self::Seat(seat) => seat.session_fixture(fixture, worker_id).await,
        }
    }

    pub async fn teardown(&mut self, worker_id: u32) -> Result<Result<(), String>, GuestError> {
        match self {
            Self::Own(instance) => instance.teardown(worker_id).await,
            Self::Seat(seat) => seat.teardown(worker_id).await,
        }
    }

    pub async fn pick(&mut self, worker_id: u32, step: u64) -> Result<String, GuestError> {
        match self {
            Self::Own(instance) => instance.pick(worker_id, step).await,
            Self::Seat(seat) => seat.pick(worker_id, step).await,
        }
    }

    pub async fn deliver_events(&mut self) -> Result<(), GuestError> {
        match self {
            Self::Own(instance) => instance.deliver_events().await,
            Self::Seat(seat) => seat.deliver_events().await,
        }
    }
}
