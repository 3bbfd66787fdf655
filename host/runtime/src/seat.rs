//! Workers sharing one instance: the task that owns it (running the
//! component's scheduler, replacing the instance when it breaks), and each
//! worker's seat on it, with the calls a worker's own instance offers.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use molotov_http::{SessionOptions, SharedSession};
use molotov_metrics::Recorder;

use crate::bindings::EventKinds;
use crate::contract::Description;
use crate::engine::Loaded;
use crate::instance::{GuestError, Instance, SessionFixture};
use crate::link::EventQueue;
use crate::multiplex::{Call, Command, Router};
use crate::run::RunContext;
use crate::worker_events::WorkerEvents;

/// What a seat's call returns, borrowing the instance while it runs.
type CallFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GuestError>> + Send + 'a>>;

/// One instance running many workers, served by a task of its own.
pub struct SharedInstance {
    commands: mpsc::UnboundedSender<Command>,
    run: Arc<RunContext>,
    events: EventKinds,
}

impl SharedInstance {
    /// Instantiates the component and starts serving seats on it, on the
    /// runtime `on` (its workers' thread). `first_worker` names the
    /// instance's own session and console lines.
    pub async fn start(
        loaded: &Loaded,
        run: Arc<RunContext>,
        description: &Description,
        first_worker: u32,
        on: &tokio::runtime::Handle,
    ) -> anyhow::Result<Self> {
        let (commands, received) = mpsc::unbounded_channel();
        let router = Box::new(Router::new(Arc::clone(&run), received));
        let mut instance = Instance::shared(loaded, Arc::clone(&run), first_worker, router).await?;
        instance.subscribe(description);
        let host = Host {
            loaded: loaded.clone(),
            run: Arc::clone(&run),
            description: description.clone(),
            first_worker,
        };
        on.spawn(host.serve(instance));
        Ok(Self {
            commands,
            run,
            events: description.events,
        })
    }

    /// Seats `worker_id`, with its session, on this instance.
    pub fn seat(&self, worker_id: u32, session: SharedSession) -> Seat {
        let queue = EventQueue::default();
        let _ = self.commands.send(Command::Attach {
            worker_id,
            session: Arc::clone(&session),
            queue: Arc::clone(&queue),
        });
        Seat {
            worker_id,
            step: 0,
            commands: self.commands.clone(),
            session,
            queue,
            events: self.events,
            recorder: self.run.metrics.recorder(worker_id),
        }
    }
}

/// What the serving task needs to replace a broken instance.
struct Host {
    loaded: Loaded,
    run: Arc<RunContext>,
    description: Description,
    first_worker: u32,
}

impl Host {
    /// Runs the component's scheduler, and between its turns the calls that
    /// need the instance to themselves, until every worker has left.
    async fn serve(self, mut instance: Instance) {
        loop {
            while let Some(call) = instance.router().and_then(|r| r.calls.pop_front()) {
                call(&mut instance).await;
                if instance.is_broken() {
                    let error = GuestError::Trap {
                        message: "another worker's call broke the shared instance".into(),
                        backtrace: String::new(),
                    };
                    match self.replace(instance, &error).await {
                        Some(replacement) => instance = replacement,
                        None => return,
                    }
                }
            }
            if instance.router().is_none_or(|r| r.closed) {
                return;
            }
            if let Err(error) = instance.drive().await {
                match self.replace(instance, &error).await {
                    Some(replacement) => instance = replacement,
                    None => return,
                }
            }
        }
    }

    /// Fails the runs in flight on a broken instance with `error` and seats
    /// its workers on a new one; `None` when none can be made (its workers'
    /// calls then fail, and they stop).
    async fn replace(&self, mut broken: Instance, error: &GuestError) -> Option<Instance> {
        let mut router = broken.take_router()?;
        router.fail_in_flight(error);
        // Its pool slot is needed for the replacement.
        drop(broken);
        let run = Arc::clone(&self.run);
        match Instance::shared(&self.loaded, run, self.first_worker, router).await {
            Ok(mut instance) => {
                instance.subscribe(&self.description);
                Some(instance)
            }
            Err(error) => {
                let message = format!("cannot replace a broken shared instance: {error}");
                self.run.metrics.recorder(self.first_worker).warn(message);
                None
            }
        }
    }
}

/// A worker's place on a shared instance: what the worker asks of its
/// instance goes to the instance's task, and the answer comes back.
pub struct Seat {
    worker_id: u32,
    step: u64,
    commands: mpsc::UnboundedSender<Command>,
    session: SharedSession,
    queue: EventQueue,
    events: EventKinds,
    recorder: Recorder,
}

/// The instance's task ended: it could not be replaced.
fn gone() -> GuestError {
    GuestError::Trap {
        message: "the shared instance is gone: it broke and could not be replaced".into(),
        backtrace: String::new(),
    }
}

impl Seat {
    /// Whether the instance's task ended (it could not be replaced).
    pub fn is_gone(&self) -> bool {
        self.commands.is_closed()
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    pub fn set_step(&mut self, step: u64) {
        self.step = step;
    }

    pub fn session(&self) -> SharedSession {
        Arc::clone(&self.session)
    }

    fn events(&self) -> WorkerEvents<'_> {
        WorkerEvents {
            kinds: self.events,
            worker_id: self.worker_id,
            queue: &self.queue,
        }
    }

    pub fn scenario_started(&mut self, scenario: &str) {
        self.events().scenario_started(scenario);
    }

    pub fn scenario_ended(&mut self, scenario: &str, failure: Option<String>) {
        self.events().scenario_ended(scenario, failure);
    }

    /// Runs the scenario at `index` among the instance's other runs.
    pub async fn run(&mut self, index: u32) -> Result<Result<(), String>, GuestError> {
        let (reply, outcome) = oneshot::channel();
        let command = Command::Run {
            worker_id: self.worker_id,
            step: self.step,
            index,
            reply,
        };
        self.commands.send(command).map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }

    /// Runs `call` on the instance when its scheduler hands it back, as
    /// this worker (its id and step).
    async fn call<T: Send + 'static>(
        &self,
        call: impl for<'a> FnOnce(&'a mut Instance) -> CallFuture<'a, T> + Send + 'static,
    ) -> Result<T, GuestError> {
        let (reply, outcome) = oneshot::channel();
        let (worker_id, step) = (self.worker_id, self.step);
        let call: Call = Box::new(move |instance| {
            Box::pin(async move {
                instance.set_current_worker(worker_id, step);
                let _ = reply.send(call(instance).await);
            })
        });
        self.commands
            .send(Command::Call(call))
            .map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }

    pub async fn setup(
        &mut self,
        worker_id: u32,
    ) -> Result<Result<Option<SessionOptions>, String>, GuestError> {
        self.call(move |instance| Box::pin(instance.setup(worker_id)))
            .await
    }

    pub async fn session_fixture(
        &mut self,
        fixture: SessionFixture,
        worker_id: u32,
    ) -> Result<Result<(), String>, GuestError> {
        self.call(move |instance| Box::pin(instance.session_fixture(fixture, worker_id)))
            .await
    }

    pub async fn teardown(&mut self, worker_id: u32) -> Result<Result<(), String>, GuestError> {
        self.call(move |instance| Box::pin(instance.teardown(worker_id)))
            .await
    }

    pub async fn pick(&mut self, worker_id: u32, step: u64) -> Result<String, GuestError> {
        self.call(move |instance| Box::pin(instance.pick(worker_id, step)))
            .await
    }

    /// Delivers this worker's queued events to the hook.
    pub async fn deliver_events(&mut self) -> Result<(), GuestError> {
        let batch = self.events().take();
        if batch.is_empty() {
            return Ok(());
        }
        let (batch, delivered) = self
            .call(move |instance| {
                Box::pin(async move {
                    let delivered = instance.on_events(&batch).await;
                    Ok((batch, delivered))
                })
            })
            .await?;
        self.events().recycle(batch);
        delivered
    }
}
