//! The WebSockets a guest holds (opened by its worker's link), counted
//! against the worker's `--max-open`, measured under their names (messages
//! and their bytes sent and received, close codes, errors, each socket's
//! life), and shared
//! with the tasks of a shared instance's tickets: a send goes out while a
//! receive waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use molotov_http::{Error, WebSocket, WsClose, WsMessage};
use molotov_metrics::{Recorder, RequestOutcome};

/// What the guest's handle holds: the socket, and what it may read of it
/// while an operation of a shared instance holds the lock.
pub struct GuestSocket {
    pub(crate) protocol: Option<String>,
    pub(crate) socket: Arc<Socket>,
}

/// What a send puts on the wire.
pub(crate) enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
}

/// An open socket and its measures.
pub struct Socket {
    ws: WebSocket,
    recorder: Recorder,
    opened: Instant,
    sent: String,
    received: String,
    sent_bytes: String,
    received_bytes: String,
    close_counted: AtomicBool,
    _slot: OpenSlot,
}

/// The sockets and streams one worker holds, and how many it may.
pub(crate) struct OpenCount {
    held: AtomicU32,
    limit: u32,
}

impl OpenCount {
    pub(crate) fn new(limit: u32) -> Arc<Self> {
        Arc::new(Self {
            held: AtomicU32::new(0),
            limit,
        })
    }
}

/// One of the sockets and streams a worker may hold (`--max-open`), given
/// back when the socket or stream is dropped.
pub(crate) struct OpenSlot(Arc<OpenCount>);

impl OpenSlot {
    /// A slot of `count`, or `TooManyOpen` (counted under `name`) when its
    /// worker holds all it may.
    pub(crate) fn take(
        count: &Arc<OpenCount>,
        recorder: &Recorder,
        name: &str,
    ) -> Result<Self, Error> {
        if count.held.fetch_add(1, Ordering::Relaxed) >= count.limit {
            count.held.fetch_sub(1, Ordering::Relaxed);
            let error = Error::TooManyOpen { limit: count.limit };
            recorder.request(name, RequestOutcome::Error(error.kind()), Duration::ZERO);
            return Err(error);
        }
        Ok(Self(Arc::clone(count)))
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.held.fetch_sub(1, Ordering::Relaxed);
    }
}

impl GuestSocket {
    /// A socket just opened, measured with `recorder`, holding `slot`.
    pub(crate) fn new(ws: WebSocket, recorder: Recorder, slot: OpenSlot) -> Self {
        let name = ws.name();
        let socket = Socket {
            sent: format!("{name} sent"),
            received: format!("{name} received"),
            sent_bytes: format!("{name} sent bytes"),
            received_bytes: format!("{name} received bytes"),
            close_counted: AtomicBool::new(false),
            recorder,
            opened: Instant::now(),
            _slot: slot,
            ws,
        };
        Self {
            protocol: socket.ws.protocol().map(str::to_string),
            socket: Arc::new(socket),
        }
    }
}

/// A `connect-request`, owned: it travels into a task.
pub(crate) struct OwnedConnect {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub protocols: Vec<String>,
    pub timeout: Option<Duration>,
    pub name: Option<String>,
}

impl Socket {
    pub(crate) async fn send(&self, outgoing: Outgoing) -> Result<(), Error> {
        // The bytes of a message sent, or None for a ping.
        let sent = match outgoing {
            Outgoing::Text(text) => self.ws.send_text(&text).await.map(|()| Some(text.len())),
            Outgoing::Binary(data) => self.ws.send_binary(&data).await.map(|()| Some(data.len())),
            Outgoing::Ping(payload) => self.ws.ping(&payload).await.map(|()| None),
        };
        if let Ok(Some(bytes)) = sent {
            self.count_message(&self.sent, &self.sent_bytes, bytes);
        }
        self.count_error(sent.map(drop))
    }

    /// The next message, within `timeout` or the socket's own.
    pub(crate) async fn receive(&self, timeout: Option<Duration>) -> Result<WsMessage, Error> {
        let timeout = timeout.unwrap_or(self.ws.timeout());
        let message = self.ws.receive(timeout).await;
        match &message {
            Ok(WsMessage::Text(text)) => {
                self.count_message(&self.received, &self.received_bytes, text.len());
            }
            Ok(WsMessage::Binary(data)) => {
                self.count_message(&self.received, &self.received_bytes, data.len());
            }
            Ok(WsMessage::Close(close)) => self.count_close(close.as_ref()),
            // Waiting in vain leaves the socket usable: not its error.
            Err(Error::Timeout) => return message,
            Ok(WsMessage::Pong(_)) | Err(_) => {}
        }
        self.count_error(message)
    }

    pub(crate) async fn close(&self, code: u16, reason: &str) -> Result<Option<WsClose>, Error> {
        let timeout = self.ws.timeout();
        let closed = self.ws.close(code, reason, timeout).await;
        if let Ok(close) = &closed {
            self.count_close(close.as_ref());
        }
        self.count_error(closed)
    }

    /// A message of `bytes`, under the counters `messages` and `bytes_name`.
    fn count_message(&self, messages: &str, bytes_name: &str, bytes: usize) {
        self.recorder.custom_counter(messages, 1);
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.recorder.custom_counter(bytes_name, bytes);
    }

    /// `result`, its error counted as the socket's, by kind.
    fn count_error<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(error) = &result {
            let name = format!("{} error {}", self.ws.name(), error.kind());
            self.recorder.custom_counter(&name, 1);
        }
        result
    }

    /// The server's close code (1005 when its frame had none), once: a
    /// receive waiting meanwhile gets the close that `close` returns too.
    fn count_close(&self, close: Option<&WsClose>) {
        if self.close_counted.swap(true, Ordering::Relaxed) {
            return;
        }
        let code = close.map_or(WsClose::NO_STATUS, |close| close.code);
        let name = format!("{} close {code}", self.ws.name());
        self.recorder.custom_counter(&name, 1);
    }
}

impl Drop for Socket {
    /// The socket's life, from its handshake to its end, in microseconds.
    fn drop(&mut self) {
        let name = format!("{} session", self.ws.name());
        let lived = self.opened.elapsed().as_micros() as u64;
        self.recorder.custom_timing(&name, lived);
    }
}
