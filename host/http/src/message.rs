//! The client's requests and responses, the options a session takes, and
//! the observer that sees each hop on the wire.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use url::Url;

use crate::error::Error;
use crate::headers::ResponseHeaders;

/// A request as a scenario gives it; borrowed, since the caller keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, … (case-sensitive, as in HTTP).
    pub method: &'a str,
    /// Absolute, or relative to the client's target.
    pub url: &'a str,
    /// Added to (and overriding) the session's default headers.
    pub headers: &'a [(String, String)],
    pub body: Option<&'a [u8]>,
    /// Overrides the session's timeout.
    pub timeout: Option<Duration>,
    /// The name it is reported under; by default `METHOD /path`.
    pub name: Option<&'a str>,
    /// Overrides the session's redirect limit.
    pub max_redirects: Option<u8>,
}

/// A complete response, after redirects.
pub struct Response {
    pub status: u16,
    pub headers: ResponseHeaders,
    pub body: Bytes,
    /// The final URL, after redirects.
    pub url: Arc<Url>,
    /// From the first byte sent to the last byte received, redirects included.
    pub elapsed: Duration,
    /// The last hop's phases, when the client times them
    /// ([`crate::HttpClient::with_phases`]).
    pub phases: Option<HopPhases>,
}

impl Response {
    /// Every header, names in lower case, in the order received.
    pub fn header_pairs(&self) -> Vec<(String, String)> {
        self.headers.pairs()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.first(name)
    }

    /// The memory it holds, about: its body and its headers.
    pub fn held_bytes(&self) -> usize {
        self.body.len() + self.headers.byte_len()
    }
}

/// What a session is set up with (a scenario's `setup` returns them).
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Sent with every request of the session.
    pub headers: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    /// How many redirects to follow (0 turns following off).
    pub max_redirects: Option<u8>,
}

/// What became of one hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopOutcome {
    Status(u16),
    /// An error, by its [`Error::kind`].
    Failed(&'static str),
}

impl HopOutcome {
    pub fn of_error(error: &Error) -> Self {
        Self::Failed(error.kind())
    }
}

/// Where an answered hop's time went, as k6 splits it (`http_req_*`): the
/// connection's opening when the hop opened one, then writing the request,
/// waiting for the response's head, and reading its body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HopPhases {
    pub connecting: Duration,
    pub tls_handshaking: Duration,
    pub sending: Duration,
    pub waiting: Duration,
    pub receiving: Duration,
}

/// Sees every hop of every request: a redirect is a hop of its own.
pub trait Observer {
    /// One hop under the request's `name`. `wire` is the method and URL it
    /// went to, `None` for a request refused before any hop (a bad URL or
    /// method).
    fn hop(
        &self,
        name: &str,
        wire: Option<(&Method, &Url)>,
        outcome: HopOutcome,
        elapsed: Duration,
    );

    /// The phases of a hop that got a response, after its [`Observer::hop`],
    /// when the client measures them ([`crate::HttpClient::with_phases`]).
    fn phases(&self, _name: &str, _phases: &HopPhases) {}
}
