//! One worker's sandboxed instance: every call into the guest runs under a CPU deadline and a memory cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use wasmtime::component::Resource;
use wasmtime::{Store, UpdateDeadline};

use molotov_http::{Session, SessionOptions, SharedSession};
use molotov_metrics::Recorder;
use tokio::sync::Mutex;

use crate::bindings::exports::molotov::scenario::scenarios::Guest;
use crate::bindings::exports::molotov::scenario::{driver, script};
use crate::bindings::{Event, EventKinds, RunArgs, SessionHandle};
use crate::budget::MemoryLimitExceeded;
use crate::contract::Description;
use crate::engine::Loaded;
use crate::link::EventQueue;
use crate::outcome::{CallOutcome, GuestError, InstantiateError};
use crate::router::Router;
use crate::run::RunContext;
use crate::state::WorkerState;
use crate::worker_events::WorkerEvents;

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

/// A store and its instance: a worker's own, or one that runs many workers
/// (with a [`Router`] in its store and the component's `driver`).
pub struct Instance {
    store: Store<WorkerState>,
    guest: Guest,
    driver: Option<driver::Guest>,
    script: Option<script::Guest>,
    /// A call did not return: the instance cannot be entered again.
    broken: AtomicBool,
}

impl Instance {
    /// Instantiates the component for `worker_id`, from the pool.
    pub async fn new(
        loaded: &Loaded,
        run: Arc<RunContext>,
        worker_id: u32,
        session: SharedSession,
    ) -> Result<Self, InstantiateError> {
        let state = WorkerState::new(run, worker_id, session);
        Self::instantiate(loaded, state, &format!("worker {worker_id}")).await
    }

    /// Instantiates the component to run the workers `router` holds, up to
    /// `seats`; the store's own session (`instance-session`, the guest's own
    /// HTTP client) is `first_worker`'s recorder's, and stands for them all.
    pub(crate) async fn shared(
        loaded: &Loaded,
        run: Arc<RunContext>,
        first_worker: u32,
        seats: u32,
        router: Box<Router>,
    ) -> Result<Self, InstantiateError> {
        let session = SharedSession::new(Mutex::new(Session::standing_for(seats)));
        let mut state = WorkerState::new(run, first_worker, session);
        state.router = Some(router);
        Self::instantiate(loaded, state, "a shared instance").await
    }

    async fn instantiate(
        loaded: &Loaded,
        state: WorkerState,
        what: &str,
    ) -> Result<Self, InstantiateError> {
        let mut store = Store::new(&loaded.engine, state);
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
        let cannot = |e: wasmtime::Error| InstantiateError {
            what: what.to_string(),
            reason: e.to_string(),
        };
        let instance = loaded
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(cannot)?;
        let guest = loaded
            .scenarios
            .load(&mut store, &instance)
            .map_err(cannot)?;
        let driver = match &loaded.driver {
            Some(indices) => Some(indices.load(&mut store, &instance).map_err(cannot)?),
            None => None,
        };
        let script = match &loaded.script {
            Some(indices) => Some(indices.load(&mut store, &instance).map_err(cannot)?),
            None => None,
        };
        Ok(Self {
            store,
            guest,
            driver,
            script,
            broken: AtomicBool::new(false),
        })
    }

    /// Whether a call did not return (a trap, the deadline, the memory cap).
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// The workers and runs of a shared instance, to carry into its replacement.
    pub(crate) fn take_router(&mut self) -> Option<Box<Router>> {
        self.store.data_mut().router.take()
    }

    pub(crate) fn router(&mut self) -> Option<&mut Router> {
        self.store.data_mut().router.as_deref_mut()
    }

    /// In a shared instance, the worker whose fixture or hook runs next:
    /// what `context.worker-id` and `context.step` answer meanwhile.
    pub(crate) fn set_current_worker(&mut self, worker_id: u32, step: u64) {
        let state = self.store.data_mut();
        state.worker_id = worker_id;
        state.step = step;
    }

    /// The handle the guest gets for `worker_id`'s session.
    fn session_of(&self, worker_id: u32) -> Resource<SessionHandle> {
        let rep = if self.state().router.is_some() {
            worker_id
        } else {
            0
        };
        Resource::new_borrow(rep)
    }

    /// How many workers the component says one of its instances runs well
    /// at once: 1 for a component that cannot share an instance.
    pub async fn capacity(&mut self) -> Result<u32, GuestError> {
        let Some(driver) = self.driver.clone() else {
            return Ok(1);
        };
        self.arm();
        let result = driver.call_capacity(&mut self.store).await;
        result.map_err(|e| self.classify(e))
    }

    /// The run the component says it wants (a script's options, as JSON):
    /// none for a component that does not say; its error when the script
    /// could not give them.
    pub async fn run_options(&mut self) -> Result<Option<Result<String, String>>, GuestError> {
        let Some(script) = self.script.clone() else {
            return Ok(None);
        };
        self.arm();
        let result = script.call_options(&mut self.store).await;
        result.map(Some).map_err(|e| self.classify(e))
    }

    /// What a script writes of the run's `results` (JSON in its vocabulary):
    /// destinations and texts; `Ok(None)` when it is not a script or has no
    /// such function.
    pub async fn handle_summary(
        &mut self,
        results: &str,
    ) -> Result<Result<Option<Vec<(String, String)>>, String>, GuestError> {
        let Some(script) = self.script.clone() else {
            return Ok(Ok(None));
        };
        self.arm();
        let result = script.call_handle_summary(&mut self.store, results).await;
        result.map_err(|e| self.classify(e))
    }

    /// Runs the component's scheduler until it hands the instance back.
    pub(crate) async fn drive(&mut self) -> Result<(), GuestError> {
        let Some(driver) = self.driver.clone() else {
            return Err(GuestError::Trap {
                message: "the component has no driver".into(),
                backtrace: String::new(),
            });
        };
        self.arm();
        if let Some(router) = self.router() {
            router.start_slice();
        }
        match driver.call_drive(&mut self.store).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => {
                self.broken.store(true, Ordering::Relaxed);
                Err(GuestError::Trap {
                    message: format!("the component's scheduler failed: {message}"),
                    backtrace: String::new(),
                })
            }
            Err(error) => Err(self.classify(error)),
        }
    }

    fn state(&self) -> &WorkerState {
        self.store.data()
    }

    /// Queues for the guest's hook only the events `description` subscribes to.
    pub fn subscribe(&mut self, description: &Description) {
        self.store.data_mut().events = description.events;
    }

    /// Where the worker records its runs.
    pub(crate) fn recorder(&self) -> &Recorder {
        self.state().recorder()
    }

    /// The worker's step, as `molotov::step()` tells the guest.
    pub(crate) fn set_step(&mut self, step: u64) {
        self.store.data_mut().step = step;
    }

    /// The worker's HTTP session, to carry into a replacement instance.
    pub(crate) fn session(&self) -> SharedSession {
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
        self.broken.store(true, Ordering::Relaxed);
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
    pub(crate) async fn run(&mut self, index: u32) -> CallOutcome {
        self.arm();
        let session = self.session_of(0);
        let result = self.guest.call_run(&mut self.store, index, session).await;
        result.map_err(|e| self.classify(e))
    }

    pub async fn global_setup(&mut self) -> CallOutcome {
        self.arm();
        let args = self.args();
        let result = self.guest.call_global_setup(&mut self.store, &args).await;
        result.map_err(|e| self.classify(e))
    }

    /// The worker's `setup`: the session options it returned, if any.
    pub(crate) async fn setup(&mut self, worker_id: u32) -> CallOutcome<Option<SessionOptions>> {
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
    pub(crate) async fn session_fixture(
        &mut self,
        fixture: SessionFixture,
        worker_id: u32,
    ) -> CallOutcome {
        self.arm();
        let session = self.session_of(worker_id);
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

    pub(crate) async fn teardown(&mut self, worker_id: u32) -> CallOutcome {
        self.arm();
        let result = self.guest.call_teardown(&mut self.store, worker_id).await;
        result.map_err(|e| self.classify(e))
    }

    pub async fn global_teardown(&mut self) -> CallOutcome {
        self.arm();
        let result = self.guest.call_global_teardown(&mut self.store).await;
        result.map_err(|e| self.classify(e))
    }

    pub(crate) async fn pick(&mut self, worker_id: u32, step: u64) -> Result<String, GuestError> {
        self.arm();
        let result = self.guest.call_pick(&mut self.store, worker_id, step).await;
        result.map_err(|e| self.classify(e))
    }

    /// Delivers the events queued since the last delivery, in one call.
    pub(crate) async fn deliver_events(&mut self) -> Result<(), GuestError> {
        let queue = Arc::clone(&self.state().pending_events);
        let worker_id = self.state().worker_id;
        let events = self.events_of(worker_id, &queue);
        let batch = events.take();
        if batch.is_empty() {
            return Ok(());
        }
        let delivered = self.on_events(&batch).await;
        self.events_of(worker_id, &queue).recycle(batch);
        delivered
    }

    /// The queue of the worker whose instance this is, for its events.
    pub(crate) fn events(&self) -> WorkerEvents<'_> {
        let state = self.state();
        self.events_of(state.worker_id, &state.pending_events)
    }

    /// `worker_id`'s queue as the events it subscribed to fill it.
    pub(crate) fn events_of<'a>(&self, worker_id: u32, queue: &'a EventQueue) -> WorkerEvents<'a> {
        WorkerEvents {
            kinds: self.state().events,
            worker_id,
            queue,
        }
    }

    /// Calls the guest's event hook.
    pub(crate) async fn on_events(&mut self, events: &[Event]) -> Result<(), GuestError> {
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
}
