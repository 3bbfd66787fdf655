//! One request on a worker's session, as the session import and the guest's
//! own `wasi:http` client both send it: through `molotov-http`, with every
//! hop recorded, events queued for the guest's hook, and `-vv` dumps; and
//! the WebSockets and streamed responses the worker opens on it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ::http::Method;
use molotov_http::{
    GrpcCall, GrpcReply, HopOutcome, HopPhases, Observer, Response, SharedSession, WsConnect,
    status_name,
};
use molotov_metrics::{Recorder, RequestOutcome};
use url::Url;

use crate::bindings::molotov::scenario::grpc::Call;
use crate::bindings::{
    Event, EventKinds, HttpError, Request, RequestEvent, ResponseEvent, ResponseInfo,
};
use crate::run::RunContext;
use crate::sockets::{GuestSocket, OpenCount, OpenSlot, OwnedConnect};
use crate::streams::GuestStream;

/// Events waiting for the guest's hook.
pub type EventQueue = Arc<Mutex<Vec<Event>>>;

/// What a request needs of its worker, shared by its requests: one count to
/// take per request rather than one per field.
pub struct WorkerLink {
    pub run: Arc<RunContext>,
    pub worker_id: u32,
    pub session: SharedSession,
    pub recorder: Recorder,
    pub queue: EventQueue,
    /// The sockets and streams the worker holds (`--max-open` bounds them).
    pub(crate) open: Arc<OpenCount>,
}

impl WorkerLink {
    /// Sends `req` on the worker's session, queueing the events of `events`'
    /// kinds for the guest's hook. What the session import and the guest's
    /// own `wasi:http` client both do.
    pub async fn send(
        self: Arc<Self>,
        req: Request,
        events: EventKinds,
    ) -> Result<Response, molotov_http::Error> {
        if events.contains(EventKinds::SENDING_REQUEST) {
            let event = RequestEvent {
                worker_id: self.worker_id,
                request: req.clone(),
            };
            self.queue(Event::SendingRequest(event));
        }
        let request = wire_request(&req);
        let outcome = {
            let hops = RecordHops(&self.recorder);
            // Boxed, the request's future (over a kilobyte) is not copied at
            // each move of this one.
            pin_in_box(|| self.run.client.send(&self.session, &request, &hops)).await
        };
        if self.run.dump_exchanges {
            self.run
                .output
                .exchange(self.worker_id, &request, outcome.as_ref());
        }
        if events.contains(EventKinds::RESPONSE_RECEIVED) {
            let event = ResponseEvent {
                worker_id: self.worker_id,
                outcome: outcome.as_ref().map(info).map_err(HttpError::from),
                request: req,
            };
            self.queue(Event::ResponseReceived(event));
        }
        outcome
    }

    /// Opens a WebSocket on the worker's session: the handshake is reported
    /// as a request under the socket's name.
    pub(crate) async fn websocket(
        self: Arc<Self>,
        connect: OwnedConnect,
    ) -> Result<GuestSocket, molotov_http::Error> {
        let name = (connect.name.clone())
            .unwrap_or_else(|| self.run.client.default_name("WS", &connect.url));
        let slot = OpenSlot::take(&self.open, &self.recorder, &name)?;
        let borrowed = WsConnect {
            url: &connect.url,
            headers: &connect.headers,
            protocols: &connect.protocols,
            timeout: connect.timeout,
            name: connect.name.as_deref(),
        };
        let mut session = self.session.lock().await;
        let hops = RecordHops(&self.recorder);
        let ws = (self.run.client.websocket(&mut session, &borrowed, &hops)).await?;
        Ok(GuestSocket::new(ws, self.recorder.clone(), slot))
    }

    /// Sends `req` on the worker's session and returns once its response's
    /// head arrived: the request is reported then.
    pub(crate) async fn open_stream(
        self: Arc<Self>,
        req: Request,
    ) -> Result<GuestStream, molotov_http::Error> {
        let request = wire_request(&req);
        let name = (request.name.map(str::to_string))
            .unwrap_or_else(|| self.run.client.default_name(request.method, request.url));
        let slot = OpenSlot::take(&self.open, &self.recorder, &name)?;
        let sent = Instant::now();
        let mut session = self.session.lock().await;
        let hops = RecordHops(&self.recorder);
        let response = (self.run.client.open_stream(&mut session, &request, &hops)).await?;
        Ok(GuestStream::new(
            response,
            sent,
            self.recorder.clone(),
            slot,
        ))
    }

    /// Calls a gRPC method on the worker's session, holding one of its
    /// `--max-open` slots meanwhile: the call is reported as a request, its
    /// status and messages as counters under its name.
    pub(crate) async fn grpc(
        self: Arc<Self>,
        call: Call,
        requests: Vec<Vec<u8>>,
    ) -> Result<GrpcReply, molotov_http::Error> {
        let borrowed = GrpcCall {
            target: &call.target,
            method: &call.method,
            metadata: &call.metadata,
            timeout: call.timeout_ms.map(|ms| Duration::from_millis(ms.into())),
            name: call.name.as_deref(),
        };
        let _slot = OpenSlot::take(&self.open, &self.recorder, &borrowed.name())?;
        let replied = {
            let mut session = self.session.lock().await;
            let hops = RecordHops(&self.recorder);
            pin_in_box(|| {
                self.run
                    .client
                    .grpc(&mut session, &borrowed, &requests, &hops)
            })
            .await
        };
        if let Ok(reply) = &replied {
            let (name, recorder) = (&reply.name, &self.recorder);
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            recorder.custom_counter(&format!("{name} status {}", status_name(reply.status)), 1);
            recorder.custom_counter(&format!("{name} sent"), count(requests.len()));
            recorder.custom_counter(&format!("{name} received"), count(reply.messages.len()));
        }
        replied
    }

    fn queue(&self, event: Event) {
        self.queue.lock().expect("event queue").push(event);
    }
}

/// A guest's request as the client takes it.
pub(crate) fn wire_request(req: &Request) -> molotov_http::Request<'_> {
    molotov_http::Request {
        method: &req.method,
        url: &req.url,
        headers: &req.headers,
        body: req.body.as_deref(),
        timeout: req.timeout_ms.map(|ms| Duration::from_millis(ms.into())),
        name: req.name.as_deref(),
        max_redirects: req.max_redirects,
    }
}

/// Each hop of a request, into the worker's metrics.
struct RecordHops<'a>(&'a Recorder);

impl Observer for RecordHops<'_> {
    fn hop(
        &self,
        name: &str,
        wire: Option<(&Method, &Url)>,
        outcome: HopOutcome,
        elapsed: Duration,
    ) {
        let outcome = match outcome {
            HopOutcome::Status(status) => RequestOutcome::Status(status),
            HopOutcome::Failed(kind) => RequestOutcome::Error(kind),
        };
        self.0.request(name, outcome, elapsed);
        if let Some((method, url)) = wire {
            self.0.wire(method.as_str(), url, outcome, elapsed);
        }
    }

    /// As k6 names them, among the run's custom timings.
    fn phases(&self, _name: &str, phases: &HopPhases) {
        for (metric, took) in [
            ("http_req_connecting", phases.connecting),
            ("http_req_tls_handshaking", phases.tls_handshaking),
            ("http_req_sending", phases.sending),
            ("http_req_waiting", phases.waiting),
            ("http_req_receiving", phases.receiving),
        ] {
            self.0.custom_timing(metric, took.as_micros() as u64);
        }
    }
}

/// What events report of a response.
fn info(response: &Response) -> ResponseInfo {
    ResponseInfo {
        status: response.status,
        url: response.url.to_string(),
        elapsed_us: response.elapsed.as_micros() as u64,
    }
}

impl From<&molotov_http::Error> for HttpError {
    fn from(error: &molotov_http::Error) -> Self {
        use molotov_http::Error as E;
        match error.clone() {
            E::InvalidUrl(message) => Self::InvalidUrl(message),
            E::HostNotAllowed(host) => Self::HostNotAllowed(host),
            // The contract's closest kind: the operator's rules refused the
            // destination; the message says which rule and which address.
            E::EgressDenied(message) => Self::HostNotAllowed(format!("egress denied: {message}")),
            E::InvalidRequest(message) => Self::InvalidRequest(message),
            E::Connect(message) => Self::Connect(message),
            E::Timeout => Self::Timeout,
            E::TooManyRedirects => Self::TooManyRedirects,
            E::Protocol(message) => Self::Protocol(message),
            E::BodyTooLarge { limit } => Self::BodyTooLarge(limit as u64),
            // A socket's, stream's or gRPC call's kinds: a request never fails so.
            error @ (E::WebSocket(_)
            | E::MessageTooLarge { .. }
            | E::FrameRate { .. }
            | E::TooManyOpen { .. }
            | E::TooManyMessages { .. }) => Self::InvalidRequest(error.to_string()),
        }
    }
}

/// `Box::pin(make())`, with the box allocated first and the future built in
/// it. `Box::pin` builds the future on the stack and copies it in whole,
/// room for its later states included: over a kilobyte per request for an
/// exchange, and a copy whose reads right after it stall (1.025 times the
/// requests per client CPU-second without it, with the HTTP/2 exchange boxed).
#[inline(always)]
pub fn pin_in_box<F: Future>(make: impl FnOnce() -> F) -> Pin<Box<F>> {
    Box::into_pin(Box::write(Box::new_uninit(), make()))
}
