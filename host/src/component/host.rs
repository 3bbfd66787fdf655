//! The state each worker's store holds, and the imports the host gives a guest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::molotov::scenario::{context, http, log, metrics, vars};
use super::bindings::{Event, EventKinds, Level, Request};
use super::bindings::{HttpError, Reply, RunArgs};
use super::exchange::{SessionLink, pin_in_box};
use super::wasi_http::{EventQueue, GuestHttp};
use crate::console::Console;
use crate::metrics::{Metrics, Recorder};
use crate::session::{HttpClient, ResponseData, SharedSession};

/// The largest body `send` returns with the status (see `reply` in the
/// contract): a scenario mostly reads small bodies, and this saves it a call
/// per request; a larger one is copied only if the scenario asks for it.
const INLINE_BODY_MAX: usize = 64 * 1024;

/// The guest's handle to its worker's session. The host keeps one session per
/// worker in [`WorkerState`], so the handle carries no data.
pub struct SessionHandle;

/// What every instance of a run shares, set once before the workers start.
pub struct RunContext {
    pub args: RunArgs,
    pub env: HashMap<String, String>,
    pub vars: Mutex<HashMap<String, String>>,
    pub client: HttpClient,
    pub metrics: Arc<Metrics>,
    pub console: Console,
    /// The guest CPU time one call may take.
    pub guest_deadline: Duration,
    pub max_memory_bytes: usize,
}

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

/// The guest asked for more memory than `--max-memory` allows.
#[derive(Debug, thiserror::Error)]
#[error("guest exceeded its memory limit of {limit_mib} MiB")]
pub struct MemoryLimitExceeded {
    pub limit_mib: usize,
}

/// Caps each instance's linear memory, as a typed error rather than a failed grow.
struct MemoryBudget {
    limit_bytes: usize,
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        if desired > self.limit_bytes {
            return Err(MemoryLimitExceeded {
                limit_mib: self.limit_bytes >> 20,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The data of one worker's store.
///
/// In declared order (`repr(C)`), what every request uses first: with many
/// workers this memory is cold at each request, and packed together it is
/// two cache lines to fetch rather than one per field.
#[repr(C)]
pub struct WorkerState {
    table: ResourceTable,
    pub clock: GuestClock,
    http: GuestHttp,
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
    recorder: Recorder,
    limiter: MemoryBudget,
    stderr: MemoryOutputPipe,
    wasi: WasiCtx,
    http_ctx: wasmtime_wasi_http::WasiHttpCtx,
}

/// How much of a guest's stderr is kept to explain a trap (a panic message).
const STDERR_CAPACITY: usize = 64 * 1024;

impl WorkerState {
    pub fn new(run: Arc<RunContext>, worker_id: u32, session: SharedSession) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        // No preopened directories, no environment, no sockets, no arguments:
        // WASI here is only clocks, random numbers and a captured stderr.
        let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
        let recorder = run.metrics.recorder(worker_id);
        let limiter = MemoryBudget {
            limit_bytes: run.max_memory_bytes,
        };
        let pending_events = EventQueue::default();
        let http = GuestHttp::new(Arc::new(SessionLink {
            run: Arc::clone(&run),
            worker_id,
            session: Arc::clone(&session),
            recorder: recorder.clone(),
            queue: Arc::clone(&pending_events),
        }));
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
        let text = String::from_utf8_lossy(&self.stderr.contents()).into_owned();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
            .collect();
        lines[lines.len().saturating_sub(3)..].join(" ")
    }

    /// Time spent waiting on the guest's own HTTP requests since the last
    /// look: host time, not guest time.
    pub fn take_http_wait(&self) -> Duration {
        self.http.take_wait()
    }

    /// Queues an event for the guest's hook.
    pub fn queue(&self, event: Event) {
        self.pending_events.lock().expect("event queue").push(event);
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

impl http::Host for WorkerState {}

impl http::HostSession for WorkerState {
    async fn send(
        &mut self,
        _session: Resource<SessionHandle>,
        req: Request,
    ) -> Result<std::result::Result<Reply, HttpError>> {
        let waited = Instant::now();
        // Whatever runs here runs on the worker's own fiber stack, memory that
        // is cold at every request when many workers take turns. So the
        // exchange runs as a task of its own, on the thread's (shared, warm)
        // stack, and is boxed at once rather than moved down tokio's spawn
        // path by value.
        let (link, events) = (self.http.link(), self.events);
        let exchange = pin_in_box(move || link.send(req, events));
        let outcome = tokio::spawn(exchange).await?;
        self.clock.host_wait += waited.elapsed();
        match outcome {
            Ok(response) => Ok(Ok(Reply {
                status: response.status,
                body: (response.body.len() <= INLINE_BODY_MAX).then(|| response.body.to_vec()),
                response: self.table.push(response)?,
            })),
            Err(error) => Ok(Err(error)),
        }
    }

    async fn set_header(
        &mut self,
        _session: Resource<SessionHandle>,
        name: String,
        value: String,
    ) -> Result<()> {
        // An invalid header is ignored here and reported when a request uses it.
        let _ = self.session.lock().await.set_header(&name, &value);
        Ok(())
    }

    async fn cookies(
        &mut self,
        _session: Resource<SessionHandle>,
        url: String,
    ) -> Result<Vec<(String, String)>> {
        Ok(self.run.client.cookies(&*self.session.lock().await, &url))
    }

    fn drop(&mut self, _session: Resource<SessionHandle>) -> Result<()> {
        Ok(())
    }
}

impl http::HostResponse for WorkerState {
    fn headers(&mut self, response: Resource<ResponseData>) -> Result<Vec<(String, String)>> {
        Ok(self.table.get(&response)?.header_pairs())
    }

    fn header(&mut self, response: Resource<ResponseData>, name: String) -> Result<Option<String>> {
        Ok(self.table.get(&response)?.header(&name))
    }

    fn body(&mut self, response: Resource<ResponseData>) -> Result<Vec<u8>> {
        Ok(self.table.get(&response)?.body.to_vec())
    }

    fn url(&mut self, response: Resource<ResponseData>) -> Result<String> {
        Ok(self.table.get(&response)?.url.to_string())
    }

    fn elapsed_us(&mut self, response: Resource<ResponseData>) -> Result<u64> {
        Ok(self.table.get(&response)?.elapsed_us)
    }

    fn drop(&mut self, response: Resource<ResponseData>) -> Result<()> {
        self.table.delete(response)?;
        Ok(())
    }
}

impl vars::Host for WorkerState {
    fn get(&mut self, key: String) -> Result<Option<String>> {
        Ok(self.run.vars.lock().expect("vars lock").get(&key).cloned())
    }

    fn set(&mut self, key: String, value: String) -> Result<()> {
        self.run.vars.lock().expect("vars lock").insert(key, value);
        Ok(())
    }
}

impl context::Host for WorkerState {
    fn worker_id(&mut self) -> Result<u32> {
        Ok(self.worker_id)
    }

    fn step(&mut self) -> Result<u64> {
        Ok(self.step)
    }

    fn args(&mut self) -> Result<RunArgs> {
        Ok(self.run.args.clone())
    }

    fn env(&mut self, key: String) -> Result<Option<String>> {
        Ok(self.run.env.get(&key).cloned())
    }

    async fn sleep(&mut self, ms: u32) -> Result<()> {
        let waited = Instant::now();
        tokio::time::sleep(Duration::from_millis(ms.into())).await;
        self.clock.host_wait += waited.elapsed();
        Ok(())
    }
}

impl log::Host for WorkerState {
    fn log(&mut self, level: Level, message: String) -> Result<()> {
        self.run.console.guest_log(self.worker_id, level, &message);
        Ok(())
    }

    fn print(&mut self, message: String) -> Result<()> {
        self.run.console.guest_print(self.worker_id, &message);
        Ok(())
    }
}

impl metrics::Host for WorkerState {
    fn incr(&mut self, name: String, delta: i64) -> Result<()> {
        self.recorder.custom_counter(&name, delta);
        Ok(())
    }

    fn timing(&mut self, name: String, us: u64) -> Result<()> {
        self.recorder.custom_timing(&name, us);
        Ok(())
    }
}
