//! `molotov:scenario/multiplex`: the run orders, request tickets and replies
//! of an instance that runs many workers, kept in its store.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use wasmtime::Result;
use wasmtime::component::Resource;

use molotov_http::{Response, SharedSession};

use crate::bindings::molotov::scenario::multiplex::{self, Replied, RunOrder, Turn, Wakeup};
use crate::bindings::{HttpError, Request, SessionHandle};
use crate::instance::{GLOBAL_WORKER, GuestError, Instance};
use crate::link::{EventQueue, WorkerLink, pin_in_box};
use crate::run::RunContext;
use crate::state::WorkerState;

/// A run's outcome as its worker waits for it.
pub(crate) type RunOutcome = Result<std::result::Result<(), String>, GuestError>;

/// A call that needs the instance to itself, outside `drive` (a fixture,
/// the picker, the event hook).
pub(crate) type Call = Box<
    dyn for<'a> FnOnce(&'a mut Instance) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> + Send,
>;

/// What a worker asks of its shared instance.
pub(crate) enum Command {
    /// The worker joins the instance with its session and event queue, for
    /// the rest of the run (a run of it may outlive the worker's wait for
    /// it, when cancelled, and still send requests).
    Attach {
        worker_id: u32,
        session: SharedSession,
        queue: EventQueue,
    },
    Run {
        worker_id: u32,
        step: u64,
        index: u32,
        reply: oneshot::Sender<RunOutcome>,
    },
    Call(Call),
}

/// A request started by `start-send`, and its reply once it came.
type Completion = (u32, std::result::Result<Response, molotov_http::Error>);

/// The requests in flight of one instance: replaced with it, so that the
/// replies of a broken instance never reach its successor.
struct Flights {
    done: mpsc::UnboundedSender<Completion>,
    arrived: mpsc::UnboundedReceiver<Completion>,
    next_ticket: u32,
    aborts: HashMap<u32, tokio::task::AbortHandle>,
}

impl Flights {
    fn new() -> Self {
        let (done, arrived) = mpsc::unbounded_channel();
        Self {
            done,
            arrived,
            next_ticket: 0,
            aborts: HashMap::new(),
        }
    }
}

impl Drop for Flights {
    fn drop(&mut self) {
        for abort in self.aborts.values() {
            abort.abort();
        }
    }
}

/// The workers of a shared instance, their runs in flight, and the calls
/// waiting for `drive` to hand the instance back.
pub(crate) struct Router {
    run: Arc<RunContext>,
    commands: mpsc::UnboundedReceiver<Command>,
    links: HashMap<u32, Arc<WorkerLink>>,
    runs: HashMap<u32, oneshot::Sender<RunOutcome>>,
    next_job: u32,
    pub(crate) calls: VecDeque<Call>,
    /// Every worker has left: the instance ends.
    pub(crate) closed: bool,
    flights: Flights,
    /// When `drive` should return even with nothing else to do: language
    /// runtimes collect their garbage, or finish their jobs, between calls.
    hand_back_at: Instant,
}

/// How long one call of `drive` lasts at most.
const DRIVE_SLICE: Duration = Duration::from_millis(100);

impl Router {
    pub(crate) fn new(run: Arc<RunContext>, commands: mpsc::UnboundedReceiver<Command>) -> Self {
        Self {
            run,
            commands,
            links: HashMap::new(),
            runs: HashMap::new(),
            next_job: 0,
            calls: VecDeque::new(),
            closed: false,
            flights: Flights::new(),
            hand_back_at: Instant::now(),
        }
    }

    /// Starts a call of `drive`.
    pub(crate) fn start_slice(&mut self) {
        self.hand_back_at = Instant::now() + DRIVE_SLICE;
    }

    /// After a trap: the runs in flight fail with `error`, their requests
    /// are aborted, and the workers stay for the next instance.
    pub(crate) fn fail_in_flight(&mut self, error: &GuestError) {
        for (_, reply) in self.runs.drain() {
            let _ = reply.send(Err(error.clone()));
        }
        self.flights = Flights::new();
    }

    pub(crate) fn link(&self, worker_id: u32) -> Option<&Arc<WorkerLink>> {
        self.links.get(&worker_id)
    }

    /// Takes in a command; a run becomes a wakeup for the guest.
    fn accept(&mut self, command: Command, wakeups: &mut Vec<Wakeup>) {
        match command {
            Command::Attach {
                worker_id,
                session,
                queue,
            } => {
                let link = WorkerLink {
                    run: Arc::clone(&self.run),
                    worker_id,
                    session,
                    recorder: self.run.metrics.recorder(worker_id),
                    queue,
                };
                self.links.insert(worker_id, Arc::new(link));
            }
            Command::Run {
                worker_id,
                step,
                index,
                reply,
            } => {
                let job = self.next_job;
                self.next_job = self.next_job.wrapping_add(1);
                self.runs.insert(job, reply);
                wakeups.push(Wakeup::Run(RunOrder {
                    job,
                    worker_id,
                    step,
                    index,
                }));
            }
            Command::Call(call) => self.calls.push_back(call),
        }
    }

    /// Takes what is ready without waiting: replies, then commands up to the
    /// first call (which needs the instance back).
    fn take_ready(&mut self, replies: &mut Vec<Completion>, wakeups: &mut Vec<Wakeup>) {
        while let Ok(completion) = self.flights.arrived.try_recv() {
            self.flights.aborts.remove(&completion.0);
            replies.push(completion);
        }
        while self.calls.is_empty() {
            match self.commands.try_recv() {
                Ok(command) => self.accept(command, wakeups),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    self.closed = true;
                    break;
                }
            }
        }
    }

    /// Waits for what `next` returns: at least one reply or run order, the
    /// end of `timeout`, or a reason to hand the instance back (`None`).
    async fn wait(&mut self, timeout: Option<Duration>) -> Option<(Vec<Completion>, Vec<Wakeup>)> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let (mut replies, mut wakeups) = (Vec::new(), Vec::new());
        loop {
            self.take_ready(&mut replies, &mut wakeups);
            if !replies.is_empty() || !wakeups.is_empty() {
                return Some((replies, wakeups));
            }
            if !self.calls.is_empty() || self.closed || Instant::now() >= self.hand_back_at {
                return None;
            }
            let timer = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                completion = self.flights.arrived.recv() => {
                    let completion = completion.expect("the router holds a sender");
                    self.flights.aborts.remove(&completion.0);
                    replies.push(completion);
                }
                command = self.commands.recv() => match command {
                    Some(command) => self.accept(command, &mut wakeups),
                    None => self.closed = true,
                },
                () = timer => return Some((replies, wakeups)),
                () = tokio::time::sleep_until(self.hand_back_at.into()) => return None,
            }
        }
    }
}

impl WorkerState {
    fn router(&mut self) -> Result<&mut Router> {
        self.router.as_deref_mut().ok_or_else(|| {
            wasmtime::format_err!("multiplex is only for an instance run with many workers")
        })
    }
}

impl multiplex::Host for WorkerState {
    async fn next(&mut self, timeout_ms: Option<u32>) -> Result<Turn> {
        let timeout = timeout_ms.map(|ms| Duration::from_millis(ms.into()));
        let waited = self.router()?.wait(timeout).await;
        let turn = match waited {
            None => Turn::HandBack,
            Some((replies, mut wakeups)) => {
                for (ticket, outcome) in replies {
                    let outcome = match outcome {
                        Ok(response) => Ok(self.reply(response)?),
                        Err(error) => Err(HttpError::from(&error)),
                    };
                    wakeups.push(Wakeup::Replied(Replied { ticket, outcome }));
                }
                Turn::Wakeups(wakeups)
            }
        };
        // The CPU deadline bounds each turn of the guest's scheduler.
        self.clock.start_call();
        self.take_http_wait();
        Ok(turn)
    }

    fn session_of(&mut self, worker_id: u32) -> Result<Resource<SessionHandle>> {
        match self.router()?.link(worker_id) {
            Some(_) => Ok(Resource::new_own(worker_id)),
            None => wasmtime::bail!("session-of({worker_id}): no such worker on this instance"),
        }
    }

    fn start_send(&mut self, session: Resource<SessionHandle>, req: Request) -> Result<u32> {
        let link = self.link_of(session.rep())?;
        let events = self.events;
        let flights = &mut self.router()?.flights;
        let ticket = flights.next_ticket;
        flights.next_ticket = flights.next_ticket.wrapping_add(1);
        let done = flights.done.clone();
        let exchange = tokio::spawn(pin_in_box(move || async move {
            let outcome = link.send(req, events).await;
            let _ = done.send((ticket, outcome));
        }));
        flights.aborts.insert(ticket, exchange.abort_handle());
        Ok(ticket)
    }

    fn finished(&mut self, job: u32, outcome: std::result::Result<(), String>) -> Result<()> {
        match self.router()?.runs.remove(&job) {
            // A worker that stopped waiting (a cancelled run) ignores it.
            Some(reply) => {
                let _ = reply.send(Ok(outcome));
                Ok(())
            }
            None => wasmtime::bail!("finished({job}): no such run in flight"),
        }
    }
}

impl WorkerState {
    /// The link of the session a handle names: in a shared instance the
    /// worker's it was made for, else (and for `instance-session`) the store's own.
    pub(crate) fn link_of(&self, rep: u32) -> Result<Arc<WorkerLink>> {
        match &self.router {
            Some(router) if rep != GLOBAL_WORKER => router
                .link(rep)
                .cloned()
                .ok_or_else(|| wasmtime::format_err!("no worker {rep} on this instance")),
            _ => Ok(self.http.link()),
        }
    }
}
