//! WebSockets on the worker's session: the host opens, bounds and measures
//! them; a scenario sends and receives.

use crate::AsyncSession;
use crate::bindings::molotov::scenario::multiplex_io::{
    self, CloseFrameParam, Outcome, SocketDone, SocketOp,
};
use crate::bindings::molotov::scenario::websocket::{self as wit, WsError};
use crate::driver::{self, IoPending};
use crate::error::{Error, Result};
use crate::session::{Session, what};

pub use crate::bindings::molotov::scenario::websocket::{CloseFrameResult as CloseFrame, Message};

/// A WebSocket to open: its URL, and what the handshake carries.
pub struct Connect {
    url: String,
    headers: Vec<(String, String)>,
    protocols: Vec<String>,
    timeout_ms: Option<u32>,
    name: Option<String>,
}

impl Connect {
    /// `ws://`, `wss://`, or a URL relative to `--target`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            headers: Vec::new(),
            protocols: Vec::new(),
            timeout_ms: None,
            name: None,
        }
    }

    /// Adds a header to the handshake.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Offers a subprotocol (the first offered is preferred).
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.protocols.push(protocol.to_string());
        self
    }

    /// Bounds the handshake, each send and a receive by default.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// Reports the socket under `name` instead of `WS /path`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Calls `connect` with this request as the contract takes it, borrowed.
    pub(crate) fn with_wit<T>(&self, connect: impl FnOnce(wit::ConnectRequest) -> T) -> T {
        let headers: Vec<(&str, &str)> = (self.headers.iter())
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
        connect(wit::ConnectRequest {
            url: &self.url,
            headers: &headers,
            protocols: &protocols,
            timeout_ms: self.timeout_ms,
            name: self.name.as_deref(),
        })
    }
}

/// An open WebSocket. Dropped, its connection closes without a handshake;
/// [`WebSocket::close`] closes it properly.
pub struct WebSocket {
    socket: wit::Socket,
    url: String,
}

impl Session<'_> {
    /// Opens a WebSocket to `url` with the session's headers and cookies.
    pub fn websocket(&self, url: &str) -> Result<WebSocket> {
        self.connect(Connect::new(url))
    }

    /// Opens a WebSocket as `connect` says.
    pub fn connect(&self, connect: Connect) -> Result<WebSocket> {
        let socket = connect.with_wit(|request| wit::connect(self.host(), request));
        Ok(WebSocket {
            socket: socket.map_err(|e| ws_failure(&connect.url, &e))?,
            url: connect.url,
        })
    }
}

impl WebSocket {
    /// The subprotocol the server chose.
    pub fn protocol(&self) -> Option<String> {
        self.socket.protocol()
    }

    pub fn send_text(&self, text: &str) -> Result<()> {
        self.socket.send_text(text).map_err(|e| self.failure(&e))
    }

    pub fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.socket.send_binary(data).map_err(|e| self.failure(&e))
    }

    /// Sends a ping; its pong comes as a [`Message::Pong`].
    pub fn ping(&self, payload: &[u8]) -> Result<()> {
        self.socket.ping(payload).map_err(|e| self.failure(&e))
    }

    /// The next message, within the socket's timeout.
    pub fn receive(&self) -> Result<Message> {
        self.socket.receive(None).map_err(|e| self.failure(&e))
    }

    /// The next message within `ms` milliseconds; `None` if none came (the
    /// socket stays usable).
    pub fn receive_within(&self, ms: u32) -> Result<Option<Message>> {
        match self.socket.receive(Some(ms)) {
            Ok(message) => Ok(Some(message)),
            Err(WsError::Timeout) => Ok(None),
            Err(error) => Err(self.failure(&error)),
        }
    }

    /// The next message, which must be text.
    pub fn receive_text(&self) -> Result<String> {
        match self.receive()? {
            Message::Text(text) => Ok(text),
            other => Err(expected_text(&self.url, &other)),
        }
    }

    /// Closes normally (1000) and returns the server's close.
    pub fn close(self) -> Result<Option<CloseFrame>> {
        self.close_with(1000, "")
    }

    /// Closes with `code` and `reason` and returns the server's close.
    pub fn close_with(self, code: u16, reason: &str) -> Result<Option<CloseFrame>> {
        self.socket
            .close(code, reason)
            .map_err(|e| self.failure(&e))
    }

    fn failure(&self, error: &WsError) -> Error {
        ws_failure(&self.url, error)
    }
}

pub(crate) fn ws_failure(url: &str, error: &WsError) -> Error {
    let what = match error {
        WsError::Http(error) => what(error),
        WsError::Timeout => "timed out".to_string(),
        WsError::TooManyOpen(limit) => {
            format!("the worker already holds {limit} open sockets and streams (--max-open)")
        }
        WsError::MessageTooLarge(limit) => format!("message over the limit of {limit} bytes"),
        WsError::FrameRate(limit) => format!("the server sent over {limit} frames in a second"),
        WsError::InvalidRequest(message) => format!("invalid request: {message}"),
        WsError::Protocol(message) => format!("websocket: {message}"),
    };
    Error::msg(format!("{url}: {what}"))
}

pub(crate) fn kind(message: &Message) -> &'static str {
    match message {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
        Message::Pong(_) => "pong",
        Message::Close(_) => "close",
    }
}

/// [`WebSocket`] for an `async fn` scenario: the same calls, awaited. On an
/// instance shared by many workers, the others run while one waits.
pub struct AsyncWebSocket {
    socket: wit::Socket,
    url: String,
}

impl AsyncSession {
    /// Opens a WebSocket to `url` with the session's headers and cookies.
    pub async fn websocket(&self, url: &str) -> Result<AsyncWebSocket> {
        self.connect(Connect::new(url)).await
    }

    /// Opens a WebSocket as `connect` says.
    pub async fn connect(&self, connect: Connect) -> Result<AsyncWebSocket> {
        let pending = connect.with_wit(|request| {
            if driver::driving() {
                IoPending::started(multiplex_io::start_connect(self.host(), request))
            } else {
                IoPending::Done(Some(Outcome::Connected(wit::connect(self.host(), request))))
            }
        });
        let Outcome::Connected(opened) = pending.await else {
            unreachable!("a connect's ticket is answered by its socket")
        };
        Ok(AsyncWebSocket {
            socket: opened.map_err(|e| ws_failure(&connect.url, &e))?,
            url: connect.url,
        })
    }
}

impl AsyncWebSocket {
    /// The subprotocol the server chose.
    pub fn protocol(&self) -> Option<String> {
        self.socket.protocol()
    }

    pub async fn send_text(&self, text: &str) -> Result<()> {
        self.call(SocketOp::SendText(text)).await.map(drop)
    }

    pub async fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.call(SocketOp::SendBinary(data)).await.map(drop)
    }

    /// Sends a ping; its pong comes as a [`Message::Pong`].
    pub async fn ping(&self, payload: &[u8]) -> Result<()> {
        self.call(SocketOp::Ping(payload)).await.map(drop)
    }

    /// The next message, within the socket's timeout.
    pub async fn receive(&self) -> Result<Message> {
        match self.call(SocketOp::Receive(None)).await? {
            SocketDone::Received(message) => Ok(message),
            _ => unreachable!("a receive's ticket is answered by a message"),
        }
    }

    /// The next message, which must be text.
    pub async fn receive_text(&self) -> Result<String> {
        match self.receive().await? {
            Message::Text(text) => Ok(text),
            other => Err(expected_text(&self.url, &other)),
        }
    }

    /// Closes normally (1000) and returns the server's close.
    pub async fn close(self) -> Result<Option<CloseFrame>> {
        let frame = CloseFrameParam {
            code: 1000,
            reason: "",
        };
        match self.call(SocketOp::Close(frame)).await? {
            SocketDone::Closed(close) => Ok(close),
            _ => unreachable!("a close's ticket is answered by the server's close"),
        }
    }

    /// Runs `op` on the executor, or in place when the scenario runs in a
    /// plain call.
    async fn call(&self, op: SocketOp<'_>) -> Result<SocketDone> {
        let pending = if driver::driving() {
            IoPending::started(multiplex_io::start_socket(&self.socket, op))
        } else {
            IoPending::Done(Some(Outcome::Socket(in_place(&self.socket, op))))
        };
        let Outcome::Socket(done) = pending.await else {
            unreachable!("a socket's ticket is answered by the socket")
        };
        done.map_err(|e| ws_failure(&self.url, &e))
    }
}

/// What `op` does, done by the socket's own (waiting) calls.
fn in_place(socket: &wit::Socket, op: SocketOp) -> std::result::Result<SocketDone, WsError> {
    Ok(match op {
        SocketOp::SendText(text) => socket.send_text(text).map(|()| SocketDone::Sent)?,
        SocketOp::SendBinary(data) => socket.send_binary(data).map(|()| SocketDone::Sent)?,
        SocketOp::Ping(payload) => socket.ping(payload).map(|()| SocketDone::Sent)?,
        SocketOp::Receive(timeout) => SocketDone::Received(socket.receive(timeout)?),
        SocketOp::Close(frame) => SocketDone::Closed(socket.close(frame.code, frame.reason)?),
    })
}

fn expected_text(url: &str, message: &Message) -> Error {
    Error::msg(format!(
        "{url}: expected a text message, got {}",
        kind(message)
    ))
}
