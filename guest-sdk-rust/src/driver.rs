//! Many workers in one instance: `async fn` scenarios run as tasks on a small
//! executor, between the host's turns (`multiplex.next`).
//!
//! Each run order becomes a task. A request started by an [`AsyncSession`]
//! returns its ticket at once and parks the task until `next` brings the
//! reply; meanwhile the other workers' tasks run. Everything is on the
//! instance's one thread, so the state lives in a thread-local.
//!
//! [`AsyncSession`]: crate::AsyncSession

use std::cell::{Cell, RefCell};
use std::collections::hash_map::Entry;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::LocalKey;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::bindings::molotov::scenario::grpc::Reply as GrpcReply;
use crate::bindings::molotov::scenario::http::{HttpError, Reply, Session as HostSession};
use crate::bindings::molotov::scenario::multiplex::{self, RunOrder, Turn, Wakeup};
use crate::bindings::molotov::scenario::multiplex_grpc;
use crate::bindings::molotov::scenario::multiplex_io::{self, Outcome as IoOutcome};
use crate::error::{Error, Result};

/// Workers per instance when every scenario is an `async fn`: the host's
/// own ceiling (a task costs a few hundred bytes).
const SHARED_CAPACITY: u32 = 128;

/// A scenario's run, as the executor holds it.
pub type Task = Pin<Box<dyn Future<Output = Result>>>;

/// The worker and step of the run being polled: what `worker_id()` and
/// `step()` answer inside an async run.
#[derive(Clone, Copy)]
pub(crate) struct Running {
    pub worker_id: u32,
    pub step: u64,
}

struct Job {
    task: Task,
    running: Running,
    waker: Waker,
}

/// What a ticket came to: a request's reply, a socket's or stream's
/// outcome, or a gRPC call's reply.
pub(crate) enum Answer {
    Reply(Outcome),
    Io(IoOutcome),
    Grpc(GrpcOutcome),
}

/// A ticket's answer: awaited, or arrived before the task looked.
enum Slot {
    Waiting(Waker),
    Arrived(Answer),
}

/// Maps keyed by the host's numbers (jobs, workers, tickets): several
/// lookups per request, so hashed with Fx rather than SipHash, which
/// guards against keys an attacker picks and costs more.
#[derive(Default)]
struct Executor {
    jobs: FxHashMap<u32, Job>,
    sessions: FxHashMap<u32, Rc<HostSession>>,
    tickets: FxHashMap<u32, Slot>,
    timers: Vec<(Instant, Waker)>,
}

thread_local! {
    static EXECUTOR: RefCell<Executor> = RefCell::default();
    /// Jobs whose wakers fired since they were last polled.
    static READY: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    static RUNNING: Cell<Option<Running>> = const { Cell::new(None) };
    static DRIVING: Cell<bool> = const { Cell::new(false) };
    /// Socket and stream tickets not yet answered: while there are any, each
    /// turn asks the host for what completed.
    static IO_IN_FLIGHT: Cell<u32> = const { Cell::new(0) };
    /// The same for gRPC calls.
    static GRPC_IN_FLIGHT: Cell<u32> = const { Cell::new(0) };
}

struct JobWaker(u32);

impl Wake for JobWaker {
    fn wake(self: Arc<Self>) {
        READY.with_borrow_mut(|ready| ready.push(self.0));
    }
}

/// Whether the caller runs on the executor (so requests can be started
/// without waiting), rather than in a plain call of its own instance.
pub(crate) fn driving() -> bool {
    DRIVING.get()
}

/// The async run being polled now, if any.
pub(crate) fn running() -> Option<Running> {
    RUNNING.get()
}

/// The component's `capacity`: sharing pays only when no scenario waits in place.
pub fn capacity(every_scenario_is_async: bool) -> u32 {
    if every_scenario_is_async {
        SHARED_CAPACITY
    } else {
        1
    }
}

/// Boxes a scenario's run for the executor.
pub fn task(run: impl Future<Output = Result> + 'static) -> Task {
    Box::pin(run)
}

/// The component's `drive`: starts runs as `start(index, session)` makes
/// them (`None`: no such scenario), polls what is ready, and returns when
/// the host asks for the instance back. Unfinished runs wait for the next call.
pub fn drive(
    start: impl Fn(u32, Rc<HostSession>) -> Option<Task>,
) -> std::result::Result<(), String> {
    DRIVING.set(true);
    loop {
        poll_ready();
        let Turn::Wakeups(wakeups) = multiplex::next(next_timer()) else {
            break;
        };
        for wakeup in wakeups {
            match wakeup {
                Wakeup::Run(order) => start_run(order, &start),
                Wakeup::Replied(replied) => arrived(replied.ticket, Answer::Reply(replied.outcome)),
            }
        }
        if IO_IN_FLIGHT.get() > 0 {
            for completion in multiplex_io::completed() {
                IO_IN_FLIGHT.set(IO_IN_FLIGHT.get() - 1);
                arrived(completion.ticket, Answer::Io(completion.outcome));
            }
        }
        if GRPC_IN_FLIGHT.get() > 0 {
            for completion in multiplex_grpc::completed() {
                GRPC_IN_FLIGHT.set(GRPC_IN_FLIGHT.get() - 1);
                arrived(completion.ticket, Answer::Grpc(completion.outcome));
            }
        }
        fire_due_timers();
    }
    DRIVING.set(false);
    Ok(())
}

fn start_run(order: RunOrder, start: &impl Fn(u32, Rc<HostSession>) -> Option<Task>) {
    let running = Running {
        worker_id: order.worker_id,
        step: order.step,
    };
    match start(order.index, session_of(order.worker_id)) {
        Some(task) => spawn(order.job, task, running),
        None => finish(order.job, crate::__rt::unknown_scenario(order.index)),
    }
}

/// Runs a scenario's future in a plain call (an instance of its own): its
/// requests and sleeps complete in place, so one poll ends it.
pub fn block_on(run: impl Future<Output = Result>) -> Result {
    let mut run = std::pin::pin!(run);
    match run.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(Error::msg(
            "the scenario awaited something other than molotov's requests and sleep_async, which nothing would wake",
        )),
    }
}

/// Tells the host that `job` ended.
fn finish(job: u32, outcome: std::result::Result<(), String>) {
    multiplex::finished(job, outcome.as_ref().map(|_| ()).map_err(String::as_str));
}

fn session_of(worker_id: u32) -> Rc<HostSession> {
    let known = EXECUTOR.with_borrow(|e| e.sessions.get(&worker_id).cloned());
    known.unwrap_or_else(|| {
        let session = Rc::new(multiplex::session_of(worker_id));
        EXECUTOR.with_borrow_mut(|e| e.sessions.insert(worker_id, session.clone()));
        session
    })
}

fn spawn(job: u32, task: Task, running: Running) {
    let waker = Waker::from(Arc::new(JobWaker(job)));
    EXECUTOR.with_borrow_mut(|e| {
        e.jobs.insert(
            job,
            Job {
                task,
                running,
                waker,
            },
        )
    });
    READY.with_borrow_mut(|ready| ready.push(job));
}

/// Polls every woken job until none is left; a finished one is reported.
fn poll_ready() {
    while let Some(job) = READY.with_borrow_mut(Vec::pop) {
        // Taken out while it runs: it may start requests, which borrow the executor.
        let Some(mut entry) = EXECUTOR.with_borrow_mut(|e| e.jobs.remove(&job)) else {
            continue;
        };
        RUNNING.set(Some(entry.running));
        let polled = entry
            .task
            .as_mut()
            .poll(&mut Context::from_waker(&entry.waker));
        RUNNING.set(None);
        match polled {
            Poll::Ready(result) => finish(job, crate::__rt::outcome(result)),
            Poll::Pending => {
                EXECUTOR.with_borrow_mut(|e| e.jobs.insert(job, entry));
            }
        }
    }
}

type Outcome = std::result::Result<Reply, HttpError>;
type GrpcOutcome = std::result::Result<GrpcReply, HttpError>;

/// What a ticket's answer is to the future that awaits it.
pub(crate) trait FromAnswer: Sized {
    /// The count of this kind's tickets in flight, when the host must be
    /// asked for them at each turn.
    const IN_FLIGHT: Option<&'static LocalKey<Cell<u32>>>;
    /// This kind's value of `answer`: a ticket is answered in its own kind.
    fn from_answer(answer: Answer) -> Self;
}

impl FromAnswer for Outcome {
    const IN_FLIGHT: Option<&'static LocalKey<Cell<u32>>> = None;
    fn from_answer(answer: Answer) -> Self {
        match answer {
            Answer::Reply(outcome) => outcome,
            _ => unreachable!("a request's ticket is answered with a reply"),
        }
    }
}

impl FromAnswer for IoOutcome {
    const IN_FLIGHT: Option<&'static LocalKey<Cell<u32>>> = Some(&IO_IN_FLIGHT);
    fn from_answer(answer: Answer) -> Self {
        match answer {
            Answer::Io(outcome) => outcome,
            _ => unreachable!("a socket's or stream's ticket is answered with its outcome"),
        }
    }
}

impl FromAnswer for GrpcOutcome {
    const IN_FLIGHT: Option<&'static LocalKey<Cell<u32>>> = Some(&GRPC_IN_FLIGHT);
    fn from_answer(answer: Answer) -> Self {
        match answer {
            Answer::Grpc(outcome) => outcome,
            _ => unreachable!("a gRPC call's ticket is answered with its reply"),
        }
    }
}

/// A call's outcome: done in place, or the ticket of one that a later turn
/// answers.
pub(crate) enum Ticketed<T> {
    Done(Option<T>),
    Ticket(u32),
}

/// A request's reply.
pub(crate) type Pending = Ticketed<Outcome>;
/// A socket's or stream's call.
pub(crate) type IoPending = Ticketed<IoOutcome>;
/// A gRPC call.
pub(crate) type GrpcPending = Ticketed<GrpcOutcome>;

impl<T: FromAnswer> Ticketed<T> {
    /// The ticket `start` returns, counted until it is answered.
    pub(crate) fn started(ticket: u32) -> Self {
        if let Some(in_flight) = T::IN_FLIGHT {
            in_flight.set(in_flight.get() + 1);
        }
        Self::Ticket(ticket)
    }
}

impl<T: FromAnswer + Unpin> Future for Ticketed<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let ticket = match &mut *self {
            Self::Done(outcome) => return Poll::Ready(outcome.take().expect("polled once done")),
            Self::Ticket(ticket) => *ticket,
        };
        let answered = answer(ticket, cx).map(T::from_answer);
        if answered.is_ready() {
            // Its slot is gone: nothing for `drop` to remove.
            *self = Self::Done(None);
        }
        answered
    }
}

impl<T> Drop for Ticketed<T> {
    fn drop(&mut self) {
        if let Self::Ticket(ticket) = self {
            EXECUTOR.with_borrow_mut(|e| e.tickets.remove(ticket));
        }
    }
}

/// The answer to `ticket`, or the task's waker left for it.
fn answer(ticket: u32, cx: &Context<'_>) -> Poll<Answer> {
    EXECUTOR.with_borrow_mut(|e| match e.tickets.entry(ticket) {
        Entry::Occupied(slot) if matches!(slot.get(), Slot::Arrived(_)) => {
            let Slot::Arrived(answer) = slot.remove() else {
                unreachable!("matched as arrived")
            };
            Poll::Ready(answer)
        }
        // First poll, or woken before its answer: (re)leave the waker.
        slot => {
            slot.insert_entry(Slot::Waiting(cx.waker().clone()));
            Poll::Pending
        }
    })
}

fn arrived(ticket: u32, answer: Answer) {
    // A ticket with no slot: its future was dropped, nobody wants the reply.
    let waiting = EXECUTOR.with_borrow_mut(|e| {
        let slot = e.tickets.get_mut(&ticket)?;
        match std::mem::replace(slot, Slot::Arrived(answer)) {
            Slot::Waiting(waker) => Some(waker),
            Slot::Arrived(_) => None, // answered twice: the later answer stands
        }
    });
    if let Some(waker) = waiting {
        waker.wake();
    }
}

/// Completes `ms` milliseconds after its first poll, without holding up
/// the instance's other workers.
pub(crate) struct Sleep {
    duration: Duration,
    until: Option<Instant>,
}

impl Sleep {
    pub(crate) fn new(duration: Duration) -> Self {
        Self {
            duration,
            until: None,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let duration = self.duration;
        let until = *self.until.get_or_insert_with(|| Instant::now() + duration);
        if Instant::now() >= until {
            return Poll::Ready(());
        }
        EXECUTOR.with_borrow_mut(|e| e.timers.push((until, cx.waker().clone())));
        Poll::Pending
    }
}

/// Milliseconds until the earliest timer, for `next`'s timeout.
fn next_timer() -> Option<u32> {
    let now = Instant::now();
    EXECUTOR
        .with_borrow(|e| e.timers.iter().map(|(at, _)| *at).min())
        .map(|at| {
            // Rounded up: a timer not yet due would otherwise spin the turn.
            let ms = at.saturating_duration_since(now).as_micros().div_ceil(1000);
            u32::try_from(ms).unwrap_or(u32::MAX)
        })
}

fn fire_due_timers() {
    let now = Instant::now();
    let due: Vec<Waker> = EXECUTOR.with_borrow_mut(|e| {
        let (due, later) = e.timers.drain(..).partition(|(at, _)| *at <= now);
        e.timers = later;
        due.into_iter().map(|(_, waker)| waker).collect()
    });
    due.into_iter().for_each(Waker::wake);
}
