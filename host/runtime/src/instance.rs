//! One worker's sandboxed instance: every call into the guest runs under a CPU deadline and a memory cap.

use std::sync::Arc;

use wasmtime::component::Resource;
use wasmtime::{Store, UpdateDeadline};

use molotov_http::{SessionOptions, SharedSession};
use molotov_metrics::Recorder;

use crate::bindings::exports::molotov::scenario::scenarios::Guest;
use crate::bindings::{Event, EventKinds, FailureEvent, RunArgs, ScenarioEvent, SessionHandle};
use crate::budget::MemoryLimitExceeded;
use crate::contract::Description;
use crate::engine::Loaded;
use crate::run::RunContext;
use crate::state::WorkerState;

/// The worker id that the global fixtures' instance sees.
pub const GLOBAL_WORKER: u32 = u32::MAX;

/// A call into the guest that did not return: the guest is broken, not the
/// scenario's check. The instance must be replaced.
#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    #[error("guest exceeded its deadline of {seconds}s of CPU time in one call")]
    Deadline { seconds: f64 },
    #[error("{0}")]
    Memory(#[from] MemoryLimitExceeded),
    /// `backtrace` is the guest's wasm frames, empty when wasmtime has none.
    #[error("guest trapped: {message}")]
    Trap { message: String, backtrace: String },
}

/// What a guest language runtime's dying words mean to a scenario's author.
const RUNTIME_LAST_WORDS: [(&str, &str); 1] = [(
    // StarlingMonkey (JavaScript), when the awaited promise is pending and
    // nothing is left that could settle it.
    "event loop error, but no exception is pending",
    "the returned promise never settled: nothing it awaits can complete",
)];

/// Raised from the epoch callback when the guest's own time runs out.
#[derive(Debug, thiserror::Error)]
#[error("guest deadline exceeded")]
struct DeadlineExceeded;

/// The two fixtures that receive the worker's session.
#[derive(Debug, Clone, Copy)]
pub enum SessionFixture {
    Setup,
    Teardown,
}

/// A worker's store and instance.
pub struct Instance {
    store: Store<WorkerState>,
    guest: Guest,
    session: Resource<SessionHandle>,
}

impl Instance {
    /// Instantiates the component for `worker_id`, from the pool.
    pub async fn new(
        loaded: &Loaded,
        run: Arc<RunContext>,
        worker_id: u32,
        session: SharedSession,
    ) -> anyhow::Result<Self> {
        let mut store = Store::new(&loaded.engine, WorkerState::new(run, worker_id, session));
        store.limiter(|state| state.limiter());
        store.epoch_deadline_callback(|mut context| {
            let state = context.data_mut();
            let waited = state.take_http_wait();
            state.clock.add_host_wait(waited);
            if state.clock.guest_time() > state.run.guest_deadline {
                return Err(DeadlineExceeded.into());
            }
            // Not over budget: let other workers run, then check again next tick.
            Ok(UpdateDeadline::Yield(1))
        });
        store.set_epoch_deadline(1);
        let scenario = loaded
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot instantiate the component for worker {worker_id}: {e}")
            })?;
        let guest = scenario.molotov_scenario_scenarios().clone();
        Ok(Self {
            store,
            guest,
            session: Resource::new_own(0),
        })
    }

    fn state(&self) -> &WorkerState {
        self.store.data()
    }

    /// Queues for the guest's hook only the events `description` subscribes to.
    pub fn subscribe(&mut self, description: &Description) {
        self.store.data_mut().events = description.events;
    }

    /// Where the worker records its runs.
    pub fn recorder(&self) -> &Recorder {
        self.state().recorder()
    }

    /// The worker's step, as `molotov::step()` tells the guest.
    pub fn set_step(&mut self, step: u64) {
        self.store.data_mut().step = step;
    }

    /// The worker's HTTP session, to carry into a replacement instance.
    pub fn session(&self) -> SharedSession {
        Arc::clone(&self.state().session)
    }

    /// Starts the guest-time clock and the epoch deadline for one call.
    fn arm(&mut self) {
        let state = self.store.data_mut();
        state.clock.start_call();
        // Waits that ended before this call are not this call's.
        state.take_http_wait();
        self.store.set_epoch_deadline(1);
    }

    fn classify(&self, error: wasmtime::Error) -> GuestError {
        if error.downcast_ref::<DeadlineExceeded>().is_some() {
            return GuestError::Deadline {
                seconds: self.state().run.guest_deadline.as_secs_f64(),
            };
        }
        if let Some(memory) = error.downcast_ref::<MemoryLimitExceeded>() {
            return GuestError::Memory(MemoryLimitExceeded {
                limit_mib: memory.limit_mib,
            });
        }
        let mut message = error.root_cause().to_string();
        let stderr = self.state().stderr_tail();
        if !stderr.is_empty() {
            message = format!("{message} ({stderr})");
        }
        if let Some((_, meaning)) = RUNTIME_LAST_WORDS
            .iter()
            .find(|(words, _)| message.contains(words))
        {
            message = format!("{meaning} ({message})");
        }
        GuestError::Trap {
            message: message.replace('\n', " "),
            // Only the guest's frames: wasmtime's own chain says nothing more.
            backtrace: (error.downcast_ref::<wasmtime::WasmBacktrace>())
                .map_or_else(String::new, ToString::to_string),
        }
    }

    pub async fn describe(&mut self) -> Result<Description, GuestError> {
        self.arm();
        let result = self.guest.call_describe(&mut self.store).await;
        result.map(Description::from).map_err(|e| self.classify(e))
    }

    /// The run's arguments, as the contract passes them to fixtures.
    fn args(&self) -> RunArgs {
        RunArgs::from(&self.state().run.args)
    }

    /// Runs the scenario at `index` in the description's list: `Ok(Err(message))`
    /// is a failed check, `Err` a broken guest.
    pub async fn run(&mut self, index: u32) -> Result<Result<(), String>, GuestError> {
        self.arm();
        let session = Resource::new_borrow(self.session.rep());
        let result = self.guest.call_run(&mut self.store, index, session).await;
        result.map_err(|e| self.classify(e))
    }

    pub async fn global_setup(&mut self) -> Result<Result<(), String>, GuestError> {
        self.arm();
        let args = self.args();
        let result = self.guest.call_global_setup(&mut self.store, &args).await;
        result.map_err(|e| self.classify(e))
    }

    /// The worker's `setup`: the session options it returned, if any.
    pub async fn setup(
        &mut self,
        worker_id: u32,
    ) -> Result<Result<Option<SessionOptions>, String>, GuestError> {
        self.arm();
        let args = self.args();
        let result = self
            .guest
            .call_setup(&mut self.store, worker_id, &args)
            .await;
        match result {
            Ok(outcome) => Ok(outcome.map(|options| options.map(SessionOptions::from))),
            Err(error) => Err(self.classify(error)),
        }
    }

    /// `setup-session` or `teardown-session`, on the worker's session.
    pub async fn session_fixture(
        &mut self,
        fixture: SessionFixture,
        worker_id: u32,
    ) -> Result<Result<(), String>, GuestError> {
        self.arm();
        let session = Resource::new_borrow(self.session.rep());
        let result = match fixture {
            SessionFixture::Setup => {
                self.guest
                    .call_setup_session(&mut self.store, worker_id, session)
                    .await
            }
            SessionFixture::Teardown => {
                self.guest
                    .call_teardown_session(&mut self.store, worker_id, session)
                    .await
            }
        };
        result.map_err(|e| self.classify(e))
    }

    pub async fn teardown(&mut self, worker_id: u32) -> Result<Result<(), String>, GuestError> {
        self.arm();
        let result = self.guest.call_teardown(&mut self.store, worker_id).await;
        result.map_err(|e| self.classify(e))
    }

    pub async fn global_teardown(&mut self) -> Result<Result<(), String>, GuestError> {
        self.arm();
        let result = self.guest.call_global_teardown(&mut self.store).await;
        result.map_err(|e| self.classify(e))
    }

    pub async fn pick(&mut self, worker_id: u32, step: u64) -> Result<String, GuestError> {
        self.arm();
        let result = self.guest.call_pick(&mut self.store, worker_id, step).await;
        result.map_err(|e| self.classify(e))
    }

    /// Delivers the events queued since the last delivery, in one call.
    pub async fn deliver_events(&mut self) -> Result<(), GuestError> {
        if self.state().events == EventKinds::empty() {
            // Nothing is ever queued for a guest with no hook.
            return Ok(());
        }
        let mut events =
            std::mem::take(&mut *self.state().pending_events.lock().expect("event queue"));
        if events.is_empty() {
            return Ok(());
        }
        let delivered = self.on_events(&events).await;
        // The queue's allocation is reused for the next run's events (unless
        // a request of the guest's own client queued some meanwhile).
        events.clear();
        let mut pending = self.state().pending_events.lock().expect("event queue");
        if pending.is_empty() {
            *pending = events;
        }
        delivered
    }

    /// Calls the guest's event hook.
    async fn on_events(&mut self, events: &[Event]) -> Result<(), GuestError> {
        self.arm();
        let result = self.guest.call_on_events(&mut self.store, events).await;
        result.map_err(|e| self.classify(e))
    }

    /// Tells the guest's hook the run's worker count, if it subscribed.
    pub async fn current_workers(&mut self, workers: u32) -> Result<(), GuestError> {
        if !self.state().events.contains(EventKinds::CURRENT_WORKERS) {
            return Ok(());
        }
        self.on_events(&[Event::CurrentWorkers(workers)]).await
    }

    /// Queues `scenario-start` for [`Self::deliver_events`], if subscribed.
    pub fn scenario_started(&mut self, scenario: &str) {
        self.queue_event(EventKinds::SCENARIO_START, |worker_id| {
            Event::ScenarioStart(ScenarioEvent {
                scenario: scenario.to_string(),
                worker_id,
            })
        });
    }

    /// Queues `scenario-success` or `scenario-failure` (with its message)
    /// for [`Self::deliver_events`], if subscribed.
    pub fn scenario_ended(&mut self, scenario: &str, failure: Option<String>) {
        match failure {
            None => self.queue_event(EventKinds::SCENARIO_SUCCESS, |worker_id| {
                Event::ScenarioSuccess(ScenarioEvent {
                    scenario: scenario.to_string(),
                    worker_id,
                })
            }),
            Some(message) => self.queue_event(EventKinds::SCENARIO_FAILURE, |worker_id| {
                Event::ScenarioFailure(FailureEvent {
                    scenario: scenario.to_string(),
                    worker_id,
                    message,
                })
            }),
        }
    }

    fn queue_event(&mut self, kind: EventKinds, event: impl FnOnce(u32) -> Event) {
        let state = self.state();
        if state.events.contains(kind) {
            state.queue(event(state.worker_id));
        }
    }
}
