//! One round trip on a connection, whatever its protocol: the request as a
//! session built it, and why the trip failed.

use std::io;

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
