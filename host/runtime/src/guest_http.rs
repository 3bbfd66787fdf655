//! `wasi:http/outgoing-handler` for guests' own HTTP clients (JavaScript
//! `fetch`, Rust or Go wasi-http clients): every request goes through the
//! worker's session, so it is allowed, measured and reported like a
//! scenario's session request; one that accepts server-sent events is
//! opened as a stream, its body handed over as it comes.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream;
use http_body::Frame;
use http_body_util::{BodyExt, Limited, StreamBody};
use tokio::sync::Notify;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use molotov_http::Response;

use crate::budget::{HeldBody, MemoryBudget};

use crate::bindings::{EventKinds, Request};
use crate::link::WorkerLink;
use crate::streams::GuestStream;

type Sent = Box<dyn Future<Output = Result<(), Error>> + Send>;
type Exchange = Box<dyn Future<Output = Result<(http::Response<WasiBody>, Sent), Error>> + Send>;

/// What a worker's `wasi:http` client needs of the worker.
pub struct GuestHttp {
    link: Arc<WorkerLink>,
    /// The event kinds the guest subscribed to, refreshed at each use.
    pub events: EventKinds,
    /// Made at the guest's first request: most guests never make one, and
    /// the lock would otherwise be taken, in cold memory, at every call.
    waiting: Option<Arc<Mutex<Waiting>>>,
    /// The instance's memory budget: the bodies this client sends and the
    /// responses it keeps count against it.
    budget: Arc<MemoryBudget>,
    /// Told when a response, or a chunk of a streamed body, arrives: a
    /// shared instance's scheduler, waiting on the host for its workers,
    /// then gets a turn to read it.
    arrived: Arc<Notify>,
    /// Streamed bodies not yet ended or dropped: more of them may come.
    open_streams: Arc<AtomicU32>,
}

/// The time the worker had a request of its guest's client in flight: the
/// guest, blocked in `wasi:io/poll` meanwhile, was waiting on the host.
#[derive(Default)]
struct Waiting {
    in_flight: u32,
    since: Option<Instant>,
    total: Duration,
}

/// Counts a request in flight until it is dropped (finished or abandoned).
struct InFlight(Arc<Mutex<Waiting>>);

impl InFlight {
    fn start(waiting: &Arc<Mutex<Waiting>>) -> Self {
        let mut state = waiting.lock().expect("waiting");
        if state.in_flight == 0 {
            state.since = Some(Instant::now());
        }
        state.in_flight += 1;
        Self(Arc::clone(waiting))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.lock().expect("waiting");
        state.in_flight -= 1;
        if state.in_flight == 0
            && let Some(since) = state.since.take()
        {
            state.total += since.elapsed();
        }
    }
}

impl GuestHttp {
    pub fn new(link: Arc<WorkerLink>, budget: Arc<MemoryBudget>) -> Self {
        Self {
            link,
            events: EventKinds::empty(),
            waiting: None,
            budget,
            arrived: Arc::default(),
            open_streams: Arc::default(),
        }
    }

    /// What is told when a response or a streamed body's chunk of this
    /// client arrives.
    pub(crate) fn arrived(&self) -> Arc<Notify> {
        Arc::clone(&self.arrived)
    }

    /// What one request needs of the worker.
    pub fn link(&self) -> Arc<WorkerLink> {
        Arc::clone(&self.link)
    }

    /// Whether a request, or a streamed body, is still to come.
    pub(crate) fn busy(&self) -> bool {
        self.open_streams.load(Ordering::Relaxed) > 0
            || self
                .waiting
                .as_ref()
                .is_some_and(|waiting| waiting.lock().expect("waiting").in_flight > 0)
    }

    /// The time spent with a request in flight since the last call.
    pub fn take_wait(&self) -> Duration {
        let Some(waiting) = &self.waiting else {
            return Duration::ZERO;
        };
        let mut state = waiting.lock().expect("waiting");
        let mut waited = std::mem::take(&mut state.total);
        if let Some(since) = state.since.as_mut() {
            waited += since.elapsed();
            *since = Instant::now();
        }
        waited
    }
}

impl WasiHttpHooks for GuestHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Sent,
    ) -> Exchange {
        let link = self.link();
        let events = self.events;
        let in_flight = InFlight::start(self.waiting.get_or_insert_default());
        let budget = Arc::clone(&self.budget);
        let arrived = self.arrived();
        let open_streams = Arc::clone(&self.open_streams);
        Box::new(async move {
            let _in_flight = in_flight;
            let exchange = async {
                let req = into_request(request, options, budget.limit_bytes()).await?;
                if accepts_event_stream(&req) {
                    let stream = link.open_stream(req).await.map_err(wasi_error)?;
                    let open = StreamOpen::new(open_streams);
                    return streamed_response(stream, Arc::clone(&arrived), open);
                }
                let response = link.send(req, events).await.map_err(wasi_error)?;
                into_response(response, &budget)
            };
            let response = exchange.await;
            arrived.notify_one();
            Ok((response?, Box::new(async { Ok(()) }) as Sent))
        })
    }
}

/// The guest's request, body read in full (at most `max_body` bytes), as a
/// session request.
async fn into_request(
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    max_body: usize,
) -> Result<Request, Error> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, max_body)
        .collect()
        .await
        .map_err(|error| match error.downcast::<Error>() {
            Ok(error) => *error,
            Err(_) => Error::HttpRequestBodySize(Some(max_body as u64)),
        })?
        .to_bytes();
    let headers = parts
        .headers
        .iter()
        // The session writes Host for the URL it really connects to, and the
        // framing of the body it sends: a guest's HTTP library sets its own.
        .filter(|(name, _)| *name != http::header::HOST && !molotov_http::client_owned(name))
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    let timeout_ms = options
        .and_then(|o| o.first_byte_timeout.or(o.connect_timeout))
        .map(|t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX));
    Ok(Request {
        method: parts.method.to_string(),
        url: parts.uri.to_string(),
        headers,
        body: (!body.is_empty()).then(|| body.to_vec()),
        timeout_ms,
        name: None,
        max_redirects: None,
    })
}

/// The session's response as `wasi:http` gives it, its bytes counted against
/// the instance's budget for as long as the guest keeps its body.
fn into_response(
    response: Response,
    budget: &Arc<MemoryBudget>,
) -> Result<http::Response<WasiBody>, Error> {
    let held = response.held_bytes();
    let mut builder = http::Response::builder().status(response.status);
    if let Some(headers) = builder.headers_mut() {
        *headers = response.headers.into_map();
    }
    let body = HeldBody::hold(response.body, held, budget)
        .map_err(|e| Error::InternalError(Some(e.to_string())))?
        .map_err(|never| match never {})
        .boxed_unsync();
    builder
        .body(body)
        .map_err(|e| Error::InternalError(Some(e.to_string())))
}

/// Whether the guest asks for server-sent events (`Accept:
/// text/event-stream`, as EventSource clients send it): a body that may
/// never end, read as it comes rather than whole.
fn accepts_event_stream(req: &Request) -> bool {
    req.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("accept") && value.contains("text/event-stream")
    })
}

/// Counts a streamed body as open until it ends or is dropped.
struct StreamOpen(Arc<AtomicU32>);

impl StreamOpen {
    fn new(open: Arc<AtomicU32>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        Self(open)
    }
}

impl Drop for StreamOpen {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A streamed response as `wasi:http` gives it: its body read chunk by
/// chunk, each within the request's timeout, `arrived` told of each.
fn streamed_response(
    stream: GuestStream,
    arrived: Arc<Notify>,
    open: StreamOpen,
) -> Result<http::Response<WasiBody>, Error> {
    let mut builder = http::Response::builder().status(stream.status);
    for (name, value) in &stream.headers {
        builder = builder.header(name, value);
    }
    let chunks = stream::unfold(Some((stream.body, open)), move |body| {
        let arrived = Arc::clone(&arrived);
        async move {
            let (body, open) = body?;
            let chunk = body.lock().await.chunk(None).await;
            arrived.notify_one();
            match chunk {
                Ok(Some(bytes)) => Some((Ok(Frame::data(bytes)), Some((body, open)))),
                Ok(None) => None,
                // The body ends with its error.
                Err(error) => Some((Err(wasi_error(error)), None)),
            }
        }
    });
    builder
        .body(StreamBody::new(chunks).boxed_unsync())
        .map_err(|e| Error::InternalError(Some(e.to_string())))
}

/// A session's error as `wasi:http` names it.
fn wasi_error(error: molotov_http::Error) -> Error {
    use molotov_http::Error as E;
    match error {
        E::InvalidUrl(_) => Error::HttpRequestUriInvalid,
        E::HostNotAllowed(_) | E::EgressDenied(_) => Error::HttpRequestDenied,
        E::InvalidRequest(message) => Error::InternalError(Some(message)),
        E::Connect(_) => Error::ConnectionRefused,
        E::Timeout => Error::HttpResponseTimeout,
        E::TooManyRedirects => Error::LoopDetected,
        E::Protocol(_) => Error::HttpProtocolError,
        E::BodyTooLarge { limit } => Error::HttpResponseBodySize(Some(limit as u64)),
        // A WebSocket's errors: a request never fails so.
        E::WebSocket(_)
        | E::MessageTooLarge { .. }
        | E::FrameRate { .. }
        | E::TooManyOpen { .. }
        | E::TooManyMessages { .. } => Error::HttpProtocolError,
    }
}
