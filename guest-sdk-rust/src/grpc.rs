//! gRPC calls through the worker's session: the scenario encodes and decodes
//! its messages with its own protobuf library (prost's `encode_to_vec` and
//! `decode`, say); the host frames and sends them, applies the deadline,
//! reads the status and reports each call (`GRPC /package.Service/Method`).

use crate::async_session::AsyncSession;
use crate::bindings::molotov::scenario::grpc::{self as wit, Call};
use crate::bindings::molotov::scenario::multiplex_grpc;
use crate::driver::{self, GrpcPending};
use crate::error::{Error, Result};
use crate::session::{Session, what};

/// A gRPC call to make: `Grpc::new("/helloworld.Greeter/SayHello")`, to
/// `--target` unless [`Grpc::target`] names another server.
#[derive(Clone, Debug)]
pub struct Grpc {
    target: String,
    method: String,
    metadata: Vec<(String, String)>,
    timeout_ms: Option<u32>,
    name: Option<String>,
}

impl Grpc {
    /// A call of `method` (`/package.Service/Method`).
    pub fn new(method: &str) -> Self {
        Self {
            target: String::new(),
            method: method.to_string(),
            metadata: Vec::new(),
            timeout_ms: None,
            name: None,
        }
    }

    /// The server: `http://host:port` (HTTP/2 without TLS) or `https://…`.
    pub fn target(mut self, url: &str) -> Self {
        self.target = url.to_string();
        self
    }

    /// Adds request metadata.
    pub fn metadata(mut self, name: &str, value: &str) -> Self {
        self.metadata.push((name.to_string(), value.to_string()));
        self
    }

    /// The deadline; by default the session's timeout.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// The name the call is reported under.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Calls `invoke` with this call and `requests` as the contract takes
    /// them, borrowed.
    fn with_wit<T>(&self, requests: &[&[u8]], invoke: impl FnOnce(Call, &[&[u8]]) -> T) -> T {
        let metadata: Vec<(&str, &str)> = (self.metadata.iter())
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let call = Call {
            target: &self.target,
            method: &self.method,
            metadata: &metadata,
            timeout_ms: self.timeout_ms,
            name: self.name.as_deref(),
        };
        invoke(call, requests)
    }

    fn failure(&self, error: &wit::HttpError) -> Error {
        Error::msg(format!("{}: {}", self.method, what(error)))
    }
}

/// What a call came to, whatever its status.
#[derive(Clone, Debug)]
pub struct GrpcReply {
    /// The `grpc-status`: 0 is OK, 4 (DEADLINE_EXCEEDED) when the deadline
    /// passed first.
    pub status: u8,
    /// The `grpc-message`.
    pub message: String,
    pub headers: Vec<(String, String)>,
    pub trailers: Vec<(String, String)>,
    /// The answer's messages, encoded, in order: one for a unary call.
    pub messages: Vec<Vec<u8>>,
    method: String,
}

impl GrpcReply {
    fn new(reply: wit::Reply, call: &Grpc) -> Self {
        Self {
            status: reply.status,
            message: reply.message,
            headers: reply.headers,
            trailers: reply.trailers,
            messages: reply.messages,
            method: call.method.clone(),
        }
    }

    /// The reply, or an error naming its status when it is not OK.
    pub fn ok(self) -> Result<Self> {
        match self.status {
            0 => Ok(self),
            status => Err(Error::msg(format!(
                "{}: gRPC status {status} ({}): {}",
                self.method,
                status_name(status),
                self.message
            ))),
        }
    }

    /// The one message of an OK unary reply.
    pub fn into_message(self) -> Result<Vec<u8>> {
        let mut reply = self.ok()?;
        match reply.messages.len() {
            1 => Ok(reply.messages.remove(0)),
            n => Err(Error::msg(format!(
                "{}: {n} messages where a unary call answers one",
                reply.method
            ))),
        }
    }
}

/// The canonical name of gRPC status `code` (`UNAVAILABLE`).
pub fn status_name(code: u8) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.get(usize::from(code)).copied().unwrap_or("UNKNOWN")
}

impl Session<'_> {
    /// Calls as `call` says with `requests` (one for a unary or
    /// server-streaming call) and reads the answer to its end, whatever its
    /// status: [`GrpcReply::ok`] makes a non-OK one an error.
    pub fn grpc(&self, call: &Grpc, requests: &[&[u8]]) -> Result<GrpcReply> {
        let reply = call.with_wit(requests, |wit_call, requests| {
            wit::invoke(self.host(), wit_call, requests)
        });
        Ok(GrpcReply::new(reply.map_err(|e| call.failure(&e))?, call))
    }

    /// A unary call of `method` on `--target`: the answer's one message; a
    /// non-OK status is an error.
    pub fn unary(&self, method: &str, request: &[u8]) -> Result<Vec<u8>> {
        self.grpc(&Grpc::new(method), &[request])?.into_message()
    }
}

impl AsyncSession {
    /// [`Session::grpc`], awaited: on an instance shared by many workers,
    /// the others run meanwhile.
    pub async fn grpc(&self, call: &Grpc, requests: &[&[u8]]) -> Result<GrpcReply> {
        let pending = call.with_wit(requests, |wit_call, requests| {
            if driver::driving() {
                let ticket = multiplex_grpc::start_invoke(self.host(), wit_call, requests);
                GrpcPending::started(ticket)
            } else {
                GrpcPending::Done(Some(wit::invoke(self.host(), wit_call, requests)))
            }
        });
        Ok(GrpcReply::new(
            pending.await.map_err(|e| call.failure(&e))?,
            call,
        ))
    }

    /// [`Session::unary`], awaited.
    pub async fn unary(&self, method: &str, request: &[u8]) -> Result<Vec<u8>> {
        self.grpc(&Grpc::new(method), &[request])
            .await?
            .into_message()
    }
}
