//! What each worker's store holds: its session, clocks, limits, event queue
//! and WASI context.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use molotov_http::SharedSession;
use molotov_metrics::Recorder;

use crate::bindings::EventKinds;
use crate::budget::{Limiter, MemoryBudget};
use crate::guest_http::GuestHttp;
use crate::link::{EventQueue, WorkerLink};
use crate::router::Router;
use crate::run::RunContext;
use crate::sockets::OpenCount;
use crate::stderr::StderrTail;

/// The guest's own running time in the current call: wall time minus the
/// time the worker spent waiting on the host (HTTP, sleep).
#[derive(Debug, Clone, Copy)]
pub struct GuestClock {
    call_started: Instant,
    host_wait: Duration,
}

impl GuestClock {
    fn new() -> Self {
        Self {
            call_started: Instant::now(),
            host_wait: Duration::ZERO,
        }
    }

    pub fn start_call(&mut self) {
        *self = Self::new();
    }

    /// Counts `waited` as time spent on the host, not in the guest.
    pub fn add_host_wait(&mut self, waited: Duration) {
        self.host_wait += waited;
    }

    pub fn guest_time(&self) -> Duration {
        self.call_started.elapsed().saturating_sub(self.host_wait)
    }
}

/// The data of one worker's store.
///
/// In declared order (`repr(C)`), what every request uses first: with many
/// workers this memory is cold at each request, and packed together it is
/// two cache lines to fetch rather than one per field.
#[repr(C)]
pub struct WorkerState {
    pub(crate) table: ResourceTable,
    pub clock: GuestClock,
    pub(crate) http: GuestHttp,
    pub run: Arc<RunContext>,
    pub step: u64,
    /// The event kinds the component subscribed to (none until described).
    pub events: EventKinds,
    pub worker_id: u32,
    pub session: SharedSession,
    /// Events for the guest's hook, delivered after the current call returns
    /// (a guest cannot be re-entered while it waits on a host call). Shared
    /// with the guest's `wasi:http` client, whose requests finish in tasks.
    pub pending_events: EventQueue,
    pub(crate) recorder: Recorder,
    pub(crate) limiter: Limiter,
    /// In an instance that runs many workers: their sessions, runs and requests.
    pub(crate) router: Option<Box<Router>>,
    /// The protobuf schemas the guest holds (at most `imports::protobuf::MAX_SCHEMAS`).
    pub(crate) schemas_held: u32,
    stderr: StderrTail,
    wasi: WasiCtx,
    http_ctx: wasmtime_wasi_http::WasiHttpCtx,
}

impl WorkerState {
    pub fn new(run: Arc<RunContext>, worker_id: u32, session: SharedSession) -> Self {
        let stderr = StderrTail::default();
        // No preopened directories, no environment, no sockets, no arguments:
        // WASI here is only clocks, random numbers and a captured stderr.
        let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
        let recorder = run.metrics.recorder(worker_id);
        let budget = MemoryBudget::new(run.max_memory_bytes);
        let limiter = Limiter(Arc::clone(&budget));
        let pending_events = EventQueue::default();
        let http = GuestHttp::new(
            Arc::new(WorkerLink {
                run: Arc::clone(&run),
                worker_id,
                session: Arc::clone(&session),
                recorder: recorder.clone(),
                queue: Arc::clone(&pending_events),
                open: OpenCount::new(run.max_open),
            }),
            budget,
        );
        Self {
            run,
            worker_id,
            step: 0,
            session,
            clock: GuestClock::new(),
            events: EventKinds::empty(),
            pending_events,
            recorder,
            stderr,
            wasi,
            table: ResourceTable::new(),
            limiter,
            router: None,
            schemas_held: 0,
            http,
            http_ctx: wasmtime_wasi_http::WasiHttpCtx::new(),
        }
    }

    pub fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.limiter
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The last lines the guest wrote to stderr (where a Rust panic lands).
    pub fn stderr_tail(&self) -> String {
        self.stderr.last_lines(3)
    }

    /// Time spent waiting on the guest's own HTTP requests since the last
    /// look: host time, not guest time.
    pub fn take_http_wait(&self) -> Duration {
        self.http.take_wait()
    }
}

impl wasmtime_wasi_http::WasiHttpView for WorkerState {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        self.http.events = self.events;
        wasmtime_wasi_http::WasiHttpCtxView {
            ctx: &mut self.http_ctx,
            table: &mut self.table,
            hooks: &mut self.http,
        }
    }
}

impl WasiView for WorkerState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
