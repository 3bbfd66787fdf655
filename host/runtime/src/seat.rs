//! Workers sharing one instance: the task that owns it (running the
//! component's scheduler, and between its turns the calls that need the
//! instance to themselves; replacing the instance when it breaks), and each
//! worker's seat on it.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use molotov_http::SharedSession;
use molotov_metrics::Recorder;

use crate::bindings::EventKinds;
use crate::contract::Description;
use crate::engine::Loaded;
use crate::instance::Instance;
use crate::link::EventQueue;
use crate::outcome::{CallOutcome, GuestError, InstantiateError};
use crate::router::{CallsWaiting, Command, Router};
use crate::run::RunContext;
use crate::worker_events::WorkerEvents;

/// What a call on the instance returns, borrowing the instance while it runs.
pub(crate) type CallFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, GuestError>> + Send + 'a>>;

/// A call that needs the instance to itself, outside `drive` (a fixture,
/// the picker, the event hook).
type Call = Box<
    dyn for<'a> FnOnce(&'a mut Instance) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> + Send,
>;

/// The ways to an instance's serving task: commands for its router, and
/// calls that wait for the instance to be handed back.
#[derive(Clone)]
struct Channels {
    commands: mpsc::UnboundedSender<Command>,
    calls: mpsc::UnboundedSender<Call>,
    waiting: Arc<CallsWaiting>,
}

/// One instance running many workers, served by a task of its own.
pub(crate) struct SharedInstance {
    channels: Channels,
    run: Arc<RunContext>,
    events: EventKinds,
}

impl SharedInstance {
    /// Instantiates the component and starts serving seats on it, on the
    /// runtime `on` (its workers' thread), for up to `seats` workers.
    /// `first_worker` names the
    /// instance's own session and console lines.
    pub(crate) async fn start(
        loaded: &Loaded,
        run: Arc<RunContext>,
        description: &Description,
        first_worker: u32,
        seats: u32,
        on: &tokio::runtime::Handle,
    ) -> Result<Self, InstantiateError> {
        let (commands, received) = mpsc::unbounded_channel();
        let (calls, queued) = mpsc::unbounded_channel();
        let waiting = Arc::new(CallsWaiting::default());
        let router = Box::new(Router::new(
            Arc::clone(&run),
            received,
            Arc::clone(&waiting),
        ));
        let mut instance =
            Instance::shared(loaded, Arc::clone(&run), first_worker, seats, router).await?;
        instance.subscribe(description);
        let host = Host {
            loaded: loaded.clone(),
            run: Arc::clone(&run),
            description: description.clone(),
            first_worker,
            seats,
            calls: queued,
            waiting: Arc::clone(&waiting),
        };
        on.spawn(host.serve(instance));
        Ok(Self {
            channels: Channels {
                commands,
                calls,
                waiting,
            },
            run,
            events: description.events,
        })
    }

    /// Seats `worker_id`, with its session, on this instance, once the
    /// instance knows it: its calls travel apart from commands, and none may
    /// run (and use the worker's session) before its `Attach` was taken in.
    /// `None` when the instance is gone.
    pub(crate) async fn seat(&self, worker_id: u32, session: SharedSession) -> Option<Seat> {
        let queue = EventQueue::default();
        let (attached, known) = oneshot::channel();
        let attach = Command::Attach {
            worker_id,
            session: Arc::clone(&session),
            queue: Arc::clone(&queue),
            attached,
        };
        self.channels.commands.send(attach).ok()?;
        known.await.ok()?;
        Some(Seat {
            worker_id,
            step: 0,
            channels: self.channels.clone(),
            session,
            queue,
            events: self.events,
            recorder: self.run.metrics.recorder(worker_id),
        })
    }
}

/// What the serving task needs to replace a broken instance.
struct Host {
    loaded: Loaded,
    run: Arc<RunContext>,
    description: Description,
    first_worker: u32,
    seats: u32,
    calls: mpsc::UnboundedReceiver<Call>,
    waiting: Arc<CallsWaiting>,
}

impl Host {
    /// Runs the component's scheduler, and between its turns the calls that
    /// need the instance to themselves, until every worker has left.
    async fn serve(mut self, mut instance: Instance) {
        loop {
            while let Ok(call) = self.calls.try_recv() {
                self.waiting.taken();
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
        match Instance::shared(&self.loaded, run, self.first_worker, self.seats, router).await {
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
pub(crate) struct Seat {
    worker_id: u32,
    step: u64,
    channels: Channels,
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
    pub(crate) fn is_gone(&self) -> bool {
        self.channels.commands.is_closed()
    }

    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    pub(crate) fn set_step(&mut self, step: u64) {
        self.step = step;
    }

    pub(crate) fn session(&self) -> SharedSession {
        Arc::clone(&self.session)
    }

    pub(crate) fn events(&self) -> WorkerEvents<'_> {
        WorkerEvents {
            kinds: self.events,
            worker_id: self.worker_id,
            queue: &self.queue,
        }
    }

    /// Runs the scenario at `index` among the instance's other runs.
    pub(crate) async fn run(&mut self, index: u32) -> CallOutcome {
        let (reply, outcome) = oneshot::channel();
        let command = Command::Run {
            worker_id: self.worker_id,
            step: self.step,
            index,
            reply,
        };
        self.channels.commands.send(command).map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }

    /// Runs `call` on the instance when its scheduler hands it back, as
    /// this worker (its id and step).
    pub(crate) async fn call<T: Send + 'static>(
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
        // Counted first: the router hands the instance back once it sees it.
        self.channels.waiting.queued();
        if self.channels.calls.send(call).is_err() {
            self.channels.waiting.taken();
            return Err(gone());
        }
        outcome.await.map_err(|_| gone())?
    }

    /// Delivers this worker's queued events to the hook.
    pub(crate) async fn deliver_events(&mut self) -> Result<(), GuestError> {
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
