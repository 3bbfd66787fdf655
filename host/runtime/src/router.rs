//! The run orders, request tickets and replies of an instance that runs many
//! workers, kept in its store: what `molotov:scenario/multiplex` (in
//! `multiplex.rs`) answers the component's scheduler from.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc, oneshot};

use bytes::Bytes;
use molotov_http::{Error, GrpcReply, Response, SharedSession, SseEvent, WsClose, WsMessage};

use crate::bindings::molotov::scenario::multiplex::{RunOrder, Wakeup};
use crate::link::{EventQueue, WorkerLink, pin_in_box};
use crate::outcome::{CallOutcome, GuestError};
use crate::run::RunContext;
use crate::sockets::{GuestSocket, OpenCount};
use crate::streams::GuestStream;

/// The calls waiting for `drive` to hand the instance back (a fixture, the
/// picker, the event hook): counted by the seats that queue them, taken by
/// the task that serves the instance.
#[derive(Default)]
pub(crate) struct CallsWaiting {
    count: AtomicUsize,
    arrived: Notify,
}

impl CallsWaiting {
    /// A call was queued: `drive` hands the instance back soon.
    pub(crate) fn queued(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.arrived.notify_one();
    }

    /// A queued call was taken to run.
    pub(crate) fn taken(&self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }

    fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }
}

/// What a worker asks of its shared instance.
pub(crate) enum Command {
    /// The worker joins the instance with its session and event queue, for
    /// the rest of the run (a run of it may outlive the worker's wait for
    /// it, when cancelled, and still send requests).
    Attach {
        worker_id: u32,
        session: SharedSession,
        queue: EventQueue,
        /// Told once the worker is known, so that none of its calls (which
        /// travel apart) runs before.
        attached: oneshot::Sender<()>,
    },
    Run {
        worker_id: u32,
        step: u64,
        index: u32,
        reply: oneshot::Sender<CallOutcome>,
    },
}

/// What a ticket came to.
pub(crate) enum Finished {
    /// A request's, started by `start-send`.
    Reply(std::result::Result<Response, molotov_http::Error>),
    /// A socket's or stream's, started through `multiplex-io`.
    Io(IoDone),
    /// A gRPC call's, started through `multiplex-grpc`.
    Grpc(std::result::Result<GrpcReply, Error>),
}

/// What a socket's or stream's ticket came to, before it is the guest's.
pub(crate) enum IoDone {
    Connected(std::result::Result<GuestSocket, Error>),
    Sent(std::result::Result<(), Error>),
    Received(std::result::Result<WsMessage, Error>),
    Closed(std::result::Result<Option<WsClose>, Error>),
    Opened(std::result::Result<GuestStream, Error>),
    Chunk(std::result::Result<Option<Bytes>, Error>),
    Event(std::result::Result<Option<SseEvent>, Error>),
}

/// A ticket and what it came to.
pub(crate) type Completion = (u32, Finished);

/// A request's ticket and its reply.
pub(crate) type Replied = (u32, std::result::Result<Response, molotov_http::Error>);

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

impl Flights {
    /// The next ticket.
    fn ticket(&mut self) -> u32 {
        let ticket = self.next_ticket;
        self.next_ticket = self.next_ticket.wrapping_add(1);
        ticket
    }
}

impl Drop for Flights {
    fn drop(&mut self) {
        for abort in self.aborts.values() {
            abort.abort();
        }
    }
}

/// The workers of a shared instance and their runs and requests in flight.
pub(crate) struct Router {
    run: Arc<RunContext>,
    commands: mpsc::UnboundedReceiver<Command>,
    links: HashMap<u32, Arc<WorkerLink>>,
    runs: HashMap<u32, oneshot::Sender<CallOutcome>>,
    /// Runs failed as stalled whose tasks the guest still holds: one may
    /// yet finish (woken by another run), which is no longer news.
    stalled: HashSet<u32>,
    next_job: u32,
    /// Calls that wait for `drive` to hand the instance back.
    calls: Arc<CallsWaiting>,
    /// Every worker has left: the instance ends.
    pub(crate) closed: bool,
    flights: Flights,
    /// The sockets' and streams' tickets that completed, until the guest
    /// takes them (`multiplex-io.completed`).
    pub(crate) io_done: Vec<(u32, IoDone)>,
    /// The gRPC calls that completed, until the guest takes them
    /// (`multiplex-grpc.completed`).
    pub(crate) grpc_done: Vec<(u32, std::result::Result<GrpcReply, Error>)>,
    /// When `drive` should return even with nothing else to do: language
    /// runtimes collect their garbage, or finish their jobs, between calls.
    hand_back_at: Instant,
}

/// Why a run that nothing can wake failed.
const STALLED: &str = "the scenario awaited something that nothing would complete: no request, socket, stream, gRPC call or sleep of its instance was in flight";

/// How long one call of `drive` lasts at most.
const DRIVE_SLICE: Duration = Duration::from_millis(100);

impl Router {
    pub(crate) fn new(
        run: Arc<RunContext>,
        commands: mpsc::UnboundedReceiver<Command>,
        calls: Arc<CallsWaiting>,
    ) -> Self {
        Self {
            run,
            commands,
            links: HashMap::new(),
            runs: HashMap::new(),
            stalled: HashSet::new(),
            next_job: 0,
            calls,
            closed: false,
            flights: Flights::new(),
            io_done: Vec::new(),
            grpc_done: Vec::new(),
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
        self.stalled.clear();
        self.flights = Flights::new();
        self.io_done.clear();
        self.grpc_done.clear();
    }

    pub(crate) fn link(&self, worker_id: u32) -> Option<&Arc<WorkerLink>> {
        self.links.get(&worker_id)
    }

    /// Starts what `work` does (a request, a socket's or stream's call) in a
    /// task of its own: what it came to comes with the ticket returned,
    /// from [`Self::wait`].
    pub(crate) fn start<F>(&mut self, work: impl FnOnce() -> F + Send + 'static) -> u32
    where
        F: Future<Output = Finished> + Send,
    {
        let ticket = self.flights.ticket();
        let done = self.flights.done.clone();
        let task = tokio::spawn(pin_in_box(move || async move {
            let finished = work().await;
            let _ = done.send((ticket, finished));
        }));
        self.flights.aborts.insert(ticket, task.abort_handle());
        ticket
    }

    /// Starts a socket's or stream's call, polled once here first: one that
    /// completes at once (a send to a socket with room, a message already
    /// read) is filed for `completed` without a task of its own.
    pub(crate) fn start_io(&mut self, work: impl Future<Output = IoDone> + Send + 'static) -> u32 {
        let mut work = Box::pin(work);
        let ticket = self.flights.ticket();
        match work.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(done) => self.io_done.push((ticket, done)),
            Poll::Pending => {
                let done = self.flights.done.clone();
                let task = tokio::spawn(async move {
                    let finished = Finished::Io(work.await);
                    let _ = done.send((ticket, finished));
                });
                self.flights.aborts.insert(ticket, task.abort_handle());
            }
        }
        ticket
    }

    /// The run `job` finished with `outcome`; false when no such run is in flight.
    pub(crate) fn finish(&mut self, job: u32, outcome: std::result::Result<(), String>) -> bool {
        match self.runs.remove(&job) {
            // A worker that stopped waiting (a cancelled run) ignores it.
            Some(reply) => {
                let _ = reply.send(Ok(outcome));
                true
            }
            None => self.stalled.remove(&job),
        }
    }

    /// Fails the runs in flight when nothing can wake them: the guest waits
    /// with no timer of its own while the host has nothing in flight for it
    /// (no request, socket, stream or gRPC call, none of its own client's
    /// requests), so the awaited thing will never come. Without this, a run
    /// bounded only by `--max-runs` would never end.
    fn fail_stalled(&mut self) {
        for (job, reply) in self.runs.drain() {
            let _ = reply.send(Ok(Err(STALLED.into())));
            self.stalled.insert(job);
        }
    }

    /// Takes in a command; a run becomes a wakeup for the guest.
    fn accept(&mut self, command: Command, wakeups: &mut Vec<Wakeup>) {
        match command {
            Command::Attach {
                worker_id,
                session,
                queue,
                attached,
            } => {
                let link = WorkerLink {
                    run: Arc::clone(&self.run),
                    worker_id,
                    session,
                    recorder: self.run.metrics.recorder(worker_id),
                    queue,
                    open: OpenCount::new(self.run.max_open),
                };
                self.links.insert(worker_id, Arc::new(link));
                let _ = attached.send(());
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
        }
    }

    /// Files a completed ticket: a reply for `next`, a socket's or stream's
    /// for `completed`.
    fn file(&mut self, (ticket, finished): Completion, replies: &mut Vec<Replied>) {
        self.flights.aborts.remove(&ticket);
        match finished {
            Finished::Reply(outcome) => replies.push((ticket, outcome)),
            Finished::Io(done) => self.io_done.push((ticket, done)),
            Finished::Grpc(done) => self.grpc_done.push((ticket, done)),
        }
    }

    /// Takes what is ready without waiting: completions, then commands
    /// while no call waits (a call needs the instance back first).
    fn take_ready(&mut self, replies: &mut Vec<Replied>, wakeups: &mut Vec<Wakeup>) {
        while let Ok(completion) = self.flights.arrived.try_recv() {
            self.file(completion, replies);
        }
        while !self.calls.any() {
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

    /// Waits for what `next` returns: at least one reply, run order or
    /// socket's or stream's completion (left in `io_done`), a response or
    /// a streamed body's chunk for the guest's own HTTP client (`arrived`:
    /// it is the guest's to read), the end of `timeout`, or a reason to
    /// hand the instance back (`None`). `own_client_busy`: the guest's own
    /// HTTP client has a request in flight.
    pub(crate) async fn wait(
        &mut self,
        timeout: Option<Duration>,
        arrived: &Notify,
        own_client_busy: bool,
    ) -> Option<(Vec<Replied>, Vec<Wakeup>)> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let (mut replies, mut wakeups) = (Vec::new(), Vec::new());
        loop {
            self.take_ready(&mut replies, &mut wakeups);
            // The guest takes `io_done` and `grpc_done` whole at each turn it
            // has tickets out.
            let io = !self.io_done.is_empty() || !self.grpc_done.is_empty();
            if !replies.is_empty() || !wakeups.is_empty() || io {
                return Some((replies, wakeups));
            }
            if self.calls.any() || self.closed || Instant::now() >= self.hand_back_at {
                return None;
            }
            let idle = timeout.is_none() && !own_client_busy && self.flights.aborts.is_empty();
            if idle && !self.runs.is_empty() {
                self.fail_stalled();
                return Some((replies, wakeups));
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
                    self.file(completion, &mut replies);
                }
                command = self.commands.recv() => match command {
                    Some(command) => self.accept(command, &mut wakeups),
                    None => self.closed = true,
                },
                () = self.calls.arrived.notified() => return None,
                () = arrived.notified() => return Some((replies, wakeups)),
                () = timer => return Some((replies, wakeups)),
                () = tokio::time::sleep_until(self.hand_back_at.into()) => return None,
            }
        }
    }
}
