//! Responses read as they arrive (server-sent events, token streams): the
//! host opens, bounds and measures them; a scenario reads chunks or events.

use crate::AsyncSession;
use crate::bindings::molotov::scenario::http::HttpError;
use crate::bindings::molotov::scenario::multiplex_io::{self, Outcome};
use crate::bindings::molotov::scenario::streaming as wit;
use crate::driver::{self, IoPending};
use crate::error::{Error, Result};
use crate::session::{Request, Session, what};

pub use crate::bindings::molotov::scenario::streaming::SseEvent;

impl Session<'_> {
    /// Sends `request` and returns once the response's head has arrived,
    /// its body to read as it comes (no redirect is followed).
    pub fn stream(&self, request: Request) -> Result<Stream> {
        let url = request.url.clone();
        let opened = request.with_param(|param| wit::open(self.host(), param));
        Ok(Stream {
            stream: opened.map_err(|e| failure(&url, &e))?,
            url,
        })
    }
}

/// A response whose body is read as it arrives, in chunks or as
/// server-sent events (not both).
pub struct Stream {
    stream: wit::BodyStream,
    url: String,
}

impl Stream {
    pub fn status(&self) -> u16 {
        self.stream.status()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.stream.header(name)
    }

    pub fn headers(&self) -> Vec<(String, String)> {
        self.stream.headers()
    }

    /// From sending the request to its response's head, as the host measured it.
    pub fn time_to_first_byte_us(&self) -> u64 {
        self.stream.time_to_first_byte_us()
    }

    /// The body's next bytes as they came, `None` at its end.
    pub fn next_chunk(&self) -> Result<Option<Vec<u8>>> {
        self.stream.read_chunk(None).map_err(|e| self.failure(&e))
    }

    /// The next server-sent event, `None` at the body's end.
    pub fn next_event(&self) -> Result<Option<SseEvent>> {
        self.stream.read_event(None).map_err(|e| self.failure(&e))
    }

    /// The next event within `ms` milliseconds.
    pub fn next_event_within(&self, ms: u32) -> Result<Option<SseEvent>> {
        self.stream
            .read_event(Some(ms))
            .map_err(|e| self.failure(&e))
    }

    fn failure(&self, error: &HttpError) -> Error {
        failure(&self.url, error)
    }
}

fn failure(url: &str, error: &HttpError) -> Error {
    Error::msg(format!("{url}: {}", what(error)))
}

/// [`Stream`] for an `async fn` scenario: the same reads, awaited. On an
/// instance shared by many workers, the others run while one waits.
pub struct AsyncStream {
    stream: wit::BodyStream,
    url: String,
}

impl AsyncSession {
    /// Sends `request` and returns once the response's head has arrived.
    pub async fn stream(&self, request: Request) -> Result<AsyncStream> {
        let pending = request.with_param(|param| {
            if driver::driving() {
                IoPending::started(multiplex_io::start_open(self.host(), param))
            } else {
                IoPending::Done(Some(Outcome::Opened(wit::open(self.host(), param))))
            }
        });
        let Outcome::Opened(opened) = pending.await else {
            unreachable!("an open's ticket is answered by its stream")
        };
        Ok(AsyncStream {
            stream: opened.map_err(|e| failure(&request.url, &e))?,
            url: request.url,
        })
    }
}

impl AsyncStream {
    pub fn status(&self) -> u16 {
        self.stream.status()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.stream.header(name)
    }

    /// The body's next bytes as they came, `None` at its end.
    pub async fn next_chunk(&self) -> Result<Option<Vec<u8>>> {
        let pending = if driver::driving() {
            IoPending::started(multiplex_io::start_read_chunk(&self.stream, None))
        } else {
            IoPending::Done(Some(Outcome::Chunk(self.stream.read_chunk(None))))
        };
        let Outcome::Chunk(chunk) = pending.await else {
            unreachable!("a read's ticket is answered by a chunk")
        };
        chunk.map_err(|e| failure(&self.url, &e))
    }

    /// The next server-sent event, `None` at the body's end.
    pub async fn next_event(&self) -> Result<Option<SseEvent>> {
        let pending = if driver::driving() {
            IoPending::started(multiplex_io::start_read_event(&self.stream, None))
        } else {
            IoPending::Done(Some(Outcome::Event(self.stream.read_event(None))))
        };
        let Outcome::Event(event) = pending.await else {
            unreachable!("a read's ticket is answered by an event")
        };
        event.map_err(|e| failure(&self.url, &e))
    }
}
