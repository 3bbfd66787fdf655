//! A worker's place to run, whichever it is: an instance of its own, or a
//! seat on an instance it shares with other workers; and the run's workers,
//! which decide between the two and replace a broken instance.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;

use molotov_http::{SessionOptions, SharedSession};
use molotov_metrics::Recorder;

use crate::contract::Description;
use crate::engine::Loaded;
use crate::instance::{Instance, SessionFixture};
use crate::outcome::{CallOutcome, GuestError, WorkerError};
use crate::run::RunContext;
use crate::seat::{CallFuture, Seat, SharedInstance};
use crate::worker_events::WorkerEvents;

/// How long a replaced instance's aborted request may hold the session.
const SESSION_RELEASE: Duration = Duration::from_secs(1);

/// The threads a run's workers run on, each with its async runtime.
pub trait Threads {
    /// How many there are.
    fn count(&self) -> u32;
    /// The runtime that worker `worker_id` runs on.
    fn for_worker(&self, worker_id: u32) -> &Handle;
}

/// Where a worker's runs execute: the same calls whichever it is.
pub struct Worker {
    place: Place,
}

enum Place {
    Own(Box<Instance>),
    Seat(Seat),
}

/// The workers of a run: each has an instance of its own, or (with more
/// than one per instance) a seat on one of the shared instances.
pub struct Workers {
    loaded: Loaded,
    run: Arc<RunContext>,
    description: Description,
    shared: Vec<SharedInstance>,
    first_worker: u32,
}

impl Workers {
    /// Starts what the workers `ids` need at `per_instance` each: for more
    /// than one, enough shared instances, a multiple of the threads so that
    /// an instance and its workers share a thread.
    pub async fn start(
        loaded: &Loaded,
        run: &Arc<RunContext>,
        description: &Description,
        ids: Range<u32>,
        per_instance: u32,
        threads: &impl Threads,
    ) -> Result<Self, WorkerError> {
        let workers = ids.len() as u32;
        let mut shared = Vec::new();
        if per_instance > 1 {
            let count = workers
                .div_ceil(per_instance)
                .div_ceil(threads.count())
                .saturating_mul(threads.count())
                .min(workers);
            for worker_id in ids.start..ids.start + count {
                let on = threads.for_worker(worker_id);
                let instance = SharedInstance::start(
                    loaded,
                    Arc::clone(run),
                    description,
                    worker_id,
                    per_instance,
                    on,
                )
                .await?;
                shared.push(instance);
            }
        }
        Ok(Self {
            loaded: loaded.clone(),
            run: Arc::clone(run),
            description: description.clone(),
            shared,
            first_worker: ids.start,
        })
    }

    /// Worker `worker_id`, with `session`: its seat on a shared instance,
    /// or an instance of its own.
    pub async fn worker(
        &self,
        worker_id: u32,
        session: SharedSession,
    ) -> Result<Worker, WorkerError> {
        if !self.shared.is_empty() {
            let index = (worker_id - self.first_worker) as usize % self.shared.len();
            let seat = (self.shared[index].seat(worker_id, session).await)
                .ok_or(WorkerError::SharedInstanceGone)?;
            return Ok(Worker {
                place: Place::Seat(seat),
            });
        }
        let run = Arc::clone(&self.run);
        let mut instance = Instance::new(&self.loaded, run, worker_id, session).await?;
        instance.subscribe(&self.description);
        Ok(Worker {
            place: Place::Own(Box::new(instance)),
        })
    }

    /// The worker `worker_id` again after a broken call, keeping its session
    /// (cookies, headers): a seat stays (its instance's task replaces the
    /// instance), an instance of its own is replaced.
    pub async fn replace(&self, worker_id: u32, worker: Worker) -> Result<Worker, WorkerError> {
        let instance = match worker.place {
            Place::Seat(seat) if seat.is_gone() => return Err(WorkerError::SharedInstanceGone),
            Place::Seat(_) => return Ok(worker),
            Place::Own(instance) => instance,
        };
        let session = instance.session();
        // Its pool slot is needed for the replacement.
        drop(instance);
        // A cancelled call's request was aborted with it: its task lets go of
        // the session (and of its connection, left in doubt and so not
        // reused) as soon as this thread runs it.
        let released = tokio::time::timeout(SESSION_RELEASE, session.lock())
            .await
            .is_ok();
        let session = if released {
            session
        } else {
            SharedSession::default()
        };
        // Boxed: instantiating is rare, and inline it would size the future
        // of every worker's loop.
        Box::pin(self.worker(worker_id, session)).await
    }
}

impl Worker {
    pub fn recorder(&self) -> &Recorder {
        match &self.place {
            Place::Own(instance) => instance.recorder(),
            Place::Seat(seat) => seat.recorder(),
        }
    }

    /// The worker's HTTP session.
    pub fn session(&self) -> SharedSession {
        match &self.place {
            Place::Own(instance) => instance.session(),
            Place::Seat(seat) => seat.session(),
        }
    }

    /// The worker's step, as `molotov::step()` tells the guest.
    pub fn set_step(&mut self, step: u64) {
        match &mut self.place {
            Place::Own(instance) => instance.set_step(step),
            Place::Seat(seat) => seat.set_step(step),
        }
    }

    fn events(&self) -> WorkerEvents<'_> {
        match &self.place {
            Place::Own(instance) => instance.events(),
            Place::Seat(seat) => seat.events(),
        }
    }

    /// Queues `scenario-start` for [`Self::deliver_events`], if subscribed.
    pub fn scenario_started(&mut self, scenario: &str) {
        self.events().scenario_started(scenario);
    }

    /// Queues `scenario-success` or `scenario-failure` (with its message)
    /// for [`Self::deliver_events`], if subscribed.
    pub fn scenario_ended(&mut self, scenario: &str, failure: Option<String>) {
        self.events().scenario_ended(scenario, failure);
    }

    /// Runs the scenario at `index` in the description's list.
    pub async fn run(&mut self, index: u32) -> CallOutcome {
        match &mut self.place {
            Place::Own(instance) => instance.run(index).await,
            Place::Seat(seat) => seat.run(index).await,
        }
    }

    /// Delivers the events queued since the last delivery, in one call.
    pub async fn deliver_events(&mut self) -> Result<(), GuestError> {
        match &mut self.place {
            Place::Own(instance) => instance.deliver_events().await,
            Place::Seat(seat) => seat.deliver_events().await,
        }
    }

    /// Runs `call` on the worker's instance: at once on its own, when the
    /// scheduler hands it back on a shared one.
    async fn call<T: Send + 'static>(
        &mut self,
        call: impl for<'a> FnOnce(&'a mut Instance) -> CallFuture<'a, T> + Send + 'static,
    ) -> Result<T, GuestError> {
        match &mut self.place {
            Place::Own(instance) => call(instance).await,
            Place::Seat(seat) => seat.call(call).await,
        }
    }

    /// The worker's `setup`: the session options it returned, if any.
    pub async fn setup(&mut self, worker_id: u32) -> CallOutcome<Option<SessionOptions>> {
        self.call(move |instance| Box::pin(instance.setup(worker_id)))
            .await
    }

    /// `setup-session` or `teardown-session`, on the worker's session.
    pub async fn session_fixture(
        &mut self,
        fixture: SessionFixture,
        worker_id: u32,
    ) -> CallOutcome {
        self.call(move |instance| Box::pin(instance.session_fixture(fixture, worker_id)))
            .await
    }

    pub async fn teardown(&mut self, worker_id: u32) -> CallOutcome {
        self.call(move |instance| Box::pin(instance.teardown(worker_id)))
            .await
    }

    /// The scenario the component's picker chose for `step`.
    pub async fn pick(&mut self, worker_id: u32, step: u64) -> Result<String, GuestError> {
        self.call(move |instance| Box::pin(instance.pick(worker_id, step)))
            .await
    }
}
