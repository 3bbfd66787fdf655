//! One round trip on a connection, whatever its protocol: the request as a
//! session built it, when its parts happened, and why the trip failed.

use std::io;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method};
use url::Url;

use crate::error::{Error, one_line};

/// A request as a session built it, for a connection to write.
pub struct Outgoing<'a> {
    pub method: &'a Method,
    pub url: &'a Url,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why one round trip on a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// A reused connection refused the request (the write failed) or ended
    /// without a byte of answer: the server had closed it before taking the
    /// request, so sending it again on a new connection is safe.
    #[error("the server closed the connection before the request was sent")]
    Stale,
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<io::Error> for AttemptError {
    fn from(error: io::Error) -> Self {
        Self::Failed(Error::Protocol(one_line(&error)))
    }
}

impl AttemptError {
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::Failed(Error::Protocol(message.into()))
    }
}

/// When a round trip's request was written and its response's head read,
/// noted by the protocol as it goes when phases are timed (else no clock
/// is read).
#[derive(Default)]
pub struct Marks {
    pub(crate) timed: bool,
    pub(crate) sent: Option<Instant>,
    pub(crate) head: Option<Instant>,
}

impl Marks {
    pub fn note_sent(&mut self) {
        self.sent = self.timed.then(Instant::now);
    }

    pub fn note_head(&mut self) {
        self.head = self.timed.then(Instant::now);
    }
}
