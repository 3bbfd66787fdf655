//! molotov's HTTP client: per-worker sessions with keep-alive connections,
//! our own HTTP/1.1, hyper's HTTP/2, rustls, cookies, redirects, timeouts,
//! the `--allow-host` list and the egress policy (which addresses a
//! connection may go to) with its manifest (what the run touched).
//!
//! It knows nothing of WebAssembly: requests, responses and errors are this
//! crate's own types, and what each hop on the wire did is told to an
//! [`Observer`], so metrics, events and dumps plug in from outside.
//!
//! A request flows [`HttpClient::send`] (resolve, redirects, timeout, one
//! [`Observer::hop`] per hop) → a [`Session`]'s connection to the origin,
//! reused or opened (`dial`: `--connect-to`, resolution, the egress policy on
//! each address) → one round trip on it (`connection`, `http1`).
//!
//! A WebSocket ([`HttpClient::websocket`], `websocket`) and a streamed
//! response ([`HttpClient::open_stream`], `stream`, its server-sent events
//! parsed by `sse`) go through the same resolution, allow-list, session
//! headers and cookies, dial and TLS, each on a connection of its own. A
//! gRPC call ([`HttpClient::grpc`], `grpc`) goes through them too, on an
//! HTTP/2 channel per origin that the session keeps.

mod client;
mod connection;
mod dial;
mod egress;
mod error;
mod frame_meter;
#[doc(hidden)]
pub mod fuzzing;
mod grpc;
mod headers;
mod http1;
mod manifest;
mod message;
mod metered;
mod origin;
mod policy;
mod round_trip;
mod session;
mod sse;
mod stream;
mod tls;
mod websocket;
mod ws_limits;

pub use client::HttpClient;
pub use dial::ConnectTo;
pub use egress::{Cidr, EgressPolicy, Refusal, Rule};
pub use error::{Error, one_line};
pub use grpc::{DEADLINE_EXCEEDED, GrpcCall, GrpcReply, status_name};
pub use headers::ResponseHeaders;
pub use manifest::{ContactedEntry, Destination, EgressLog, OTHER_DESTINATIONS, RefusedEntry};
pub use message::{HopOutcome, HopPhases, Observer, Request, Response, SessionOptions};
pub use policy::client_owned;
pub use session::{Session, SharedSession};
pub use sse::SseEvent;
pub use stream::StreamingResponse;
pub use tls::{TlsError, tls_config, without_verification};
pub use websocket::{WebSocket, WsClose, WsConnect, WsMessage};
pub use ws_limits::WsLimits;
