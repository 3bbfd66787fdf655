//! WebSockets through the same client as requests: the URL resolved against
//! `--target`, the allow-list, the session's headers and cookies, `--connect-to`
//! and the egress policy (`dial`), TLS with the run's roots, and the handshake
//! observed as a hop (`WS /path`, its 101 or its error).
//!
//! The protocol is `tokio-tungstenite`'s (with its `handshake` feature only:
//! the TLS is ours, as for requests). It was chosen over `fastwebsockets` for
//! its handshake on any stream (fastwebsockets upgrades through hyper's
//! client, a second HTTP/1.1 beside ours), its message limits checked on each
//! frame's header before a byte of payload is held, its UTF-8 and close-code
//! checks, and its far wider use and upkeep. fastwebsockets is faster per
//! frame (it skips a copy); for a load generator whose sockets wait on
//! servers that matters less than limits that hold against a hostile server.
//! What tungstenite does not bound, the frames a server pushes per second, is
//! counted on the wire, from each frame's header (`frame_meter`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use http::header::{HOST, SEC_WEBSOCKET_PROTOCOL};
use http::{HeaderValue, Method};
use tokio::sync::Mutex;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Message, WebSocketConfig};
use url::Url;

use crate::client::{HttpClient, refused};
use crate::connection::{Io, open_http1};
use crate::error::{Error, one_line};
use crate::frame_meter::{FrameMeter, TooManyFrames};
use crate::headers::ResponseHeaders;
use crate::message::{HopOutcome, Observer, Request};
use crate::origin::Origin;
use crate::session::Session;

/// Bytes read from a socket at once; tungstenite allocates them up front,
/// for each socket (its default, 128 KiB, is a lot for thousands of sockets).
const READ_BUFFER: usize = 16 * 1024;
/// The longest close reason: a control frame's payload is at most 125 bytes,
/// two of them the code.
const MAX_CLOSE_REASON: usize = 123;

/// A WebSocket to open, as a scenario gives it.
#[derive(Debug, Clone, Copy)]
pub struct WsConnect<'a> {
    /// `ws://` or `wss://`, or relative to the target (`http` made `ws`).
    pub url: &'a str,
    /// Added to (and overriding) the session's default headers.
    pub headers: &'a [(String, String)],
    /// Subprotocols offered, in order of preference.
    pub protocols: &'a [String],
    /// Bounds the connection and the handshake, and then each send; by
    /// default the session's timeout.
    pub timeout: Option<Duration>,
    /// The name the handshake is reported under; by default `WS /path`.
    pub name: Option<&'a str>,
}

/// A close frame's code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsClose {
    pub code: u16,
    pub reason: String,
}

impl WsClose {
    /// RFC 6455 7.1.5: a close frame without a code reports 1005.
    pub const NO_STATUS: u16 = 1005;

    fn of(frame: CloseFrame) -> Self {
        Self {
            code: frame.code.into(),
            reason: frame.reason.as_str().to_owned(),
        }
    }
}

/// A message from the server. Pings are answered by the client and not
/// returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsMessage {
    Text(String),
    Binary(Bytes),
    Pong(Bytes),
    /// The server closed; `None` when its close frame had no code, which
    /// RFC 6455 allows. The client has answered it.
    Close(Option<WsClose>),
}

/// An open WebSocket. Once it fails (a breach of the limits, a protocol
/// error, a send that timed out) or is closed, every call returns that error.
///
/// Its halves are locked apart: a send goes out while a receive waits (as a
/// browser's `WebSocket` does), and calls on one half run one at a time.
pub struct WebSocket {
    sink: Mutex<SplitSink<Stream, Message>>,
    source: Mutex<SplitStream<Stream>>,
    name: String,
    protocol: Option<String>,
    /// Bounds each send: a server that stops reading cannot block one for ever.
    timeout: Duration,
    state: std::sync::Mutex<State>,
}

type Stream = WebSocketStream<FrameMeter<Io>>;

/// What either half learns: the server's close, or why the socket ended.
#[derive(Default)]
struct State {
    server_close: Option<WsClose>,
    ended: Option<Error>,
    sent: u64,
    received: u64,
}

impl HttpClient {
    /// Opens a WebSocket on a connection of its own, as `session` sends
    /// requests: its headers and cookies go in the handshake, and cookies
    /// the handshake's response sets are kept. `observer` sees the handshake.
    pub async fn websocket(
        &self,
        session: &mut Session,
        connect: &WsConnect<'_>,
        observer: &impl Observer,
    ) -> Result<WebSocket, Error> {
        let timeout = connect.timeout.or(session.timeout).unwrap_or(self.timeout);
        let url = self
            .resolve_websocket(connect.url)
            .map_err(|error| refused(observer, connect.name.unwrap_or(connect.url), error))?;
        let name = match connect.name {
            Some(name) => name.to_string(),
            None => format!("WS {}", url.path()),
        };
        let started = Instant::now();
        let handshake = self.handshake(session, &url, connect);
        let result = tokio::time::timeout(timeout, handshake)
            .await
            .unwrap_or(Err(Error::Timeout));
        let wire = Some((&Method::GET, &url));
        let (stream, protocol) = match result {
            Ok(opened) => opened,
            Err(error) => {
                observer.hop(&name, wire, HopOutcome::of_error(&error), started.elapsed());
                return Err(error);
            }
        };
        observer.hop(&name, wire, HopOutcome::Status(101), started.elapsed());
        let (sink, source) = stream.split();
        Ok(WebSocket {
            sink: Mutex::new(sink),
            source: Mutex::new(source),
            name,
            protocol,
            timeout,
            state: std::sync::Mutex::default(),
        })
    }

    /// Connects to `url` and makes the handshake: the socket, and the
    /// subprotocol the server chose.
    async fn handshake(
        &self,
        session: &mut Session,
        url: &Url,
        connect: &WsConnect<'_>,
    ) -> Result<(WebSocketStream<FrameMeter<Io>>, Option<String>), Error> {
        let request = Request {
            method: "GET",
            url: connect.url,
            headers: connect.headers,
            body: None,
            timeout: None,
            name: None,
            max_redirects: None,
        };
        let outgoing = self.build(session, &request, &Method::GET, url, None, true)?;
        let mut without_fragment = url.clone();
        without_fragment.set_fragment(None);
        let mut handshake = without_fragment
            .as_str()
            .into_client_request()
            .map_err(|e| Error::InvalidUrl(format!("{url}: {e}")))?;
        let headers = handshake.headers_mut();
        for (name, value) in &outgoing.headers {
            if name.as_str().starts_with("sec-websocket-") {
                return Err(Error::InvalidRequest(format!(
                    "header {name} is the client's to write (subprotocols are given apart)"
                )));
            }
            if *name == HOST {
                headers.insert(name, value.clone());
            } else {
                headers.append(name, value.clone());
            }
        }
        if !connect.protocols.is_empty() {
            let offered = HeaderValue::try_from(connect.protocols.join(", "))
                .map_err(|e| Error::InvalidRequest(format!("subprotocols: {e}")))?;
            headers.insert(SEC_WEBSOCKET_PROTOCOL, offered);
        }
        let io = open_http1(&Origin::of(url), &self.dial).await?;
        let limits = self.websocket_limits;
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(0)
            .max_message_size(Some(limits.max_message))
            .max_frame_size(Some(limits.max_frame));
        let meter = FrameMeter::new(io, limits.max_frames_per_second);
        let outcome =
            tokio_tungstenite::client_async_with_config(handshake, meter, Some(config)).await;
        let (stream, response) = match outcome {
            Ok(opened) => opened,
            Err(WsError::Http(response)) => {
                let headers = ResponseHeaders::Map(response.headers().clone());
                session.store_cookies(&headers, url);
                return Err(Error::WebSocket(format!(
                    "handshake refused: {}",
                    response.status()
                )));
            }
            Err(error) => return Err(websocket_error(error)),
        };
        let protocol = (response.headers().get(SEC_WEBSOCKET_PROTOCOL))
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        session.store_cookies(&ResponseHeaders::Map(response.into_parts().0.headers), url);
        Ok((stream, protocol))
    }
}

impl WebSocket {
    /// The name its handshake was reported under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bounds each send and the close handshake; a receive's default.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The subprotocol the server chose, if it chose one.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The close the server started, if it did; a close frame without a
    /// code reports 1005 (RFC 6455 7.1.5).
    pub fn server_close(&self) -> Option<WsClose> {
        self.state().server_close.clone()
    }

    /// Text and binary messages sent.
    pub fn messages_sent(&self) -> u64 {
        self.state().sent
    }

    /// Text and binary messages received.
    pub fn messages_received(&self) -> u64 {
        self.state().received
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub async fn send_text(&self, text: &str) -> Result<(), Error> {
        self.send(Message::text(text)).await?;
        self.state().sent += 1;
        Ok(())
    }

    pub async fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.send(Message::binary(Bytes::copy_from_slice(data)))
            .await?;
        self.state().sent += 1;
        Ok(())
    }

    /// Sends a ping; its pong comes back through [`WebSocket::receive`].
    pub async fn ping(&self, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > 125 {
            return Err(Error::InvalidRequest(
                "a ping's payload is at most 125 bytes".into(),
            ));
        }
        self.send(Message::Ping(Bytes::copy_from_slice(payload)))
            .await
    }

    /// Sends `message` within the socket's timeout; the socket fails if it
    /// cannot, since part of a frame may have gone.
    async fn send(&self, message: Message) -> Result<(), Error> {
        let mut sink = self.sink.lock().await;
        self.usable()?;
        let sent = tokio::time::timeout(self.timeout, sink.send(message)).await;
        let result = match sent {
            Ok(sent) => sent.map_err(websocket_error),
            Err(_) => Err(Error::Timeout),
        };
        self.fail_on(result)
    }

    /// The next message from the server, waiting at most `timeout`: a
    /// timeout leaves the socket usable, any other error fails it.
    pub async fn receive(&self, timeout: Duration) -> Result<WsMessage, Error> {
        let mut source = self.source.lock().await;
        self.usable()?;
        let Ok(result) = tokio::time::timeout(timeout, self.next_message(&mut source)).await else {
            return Err(Error::Timeout);
        };
        self.fail_on(result)
    }

    async fn next_message(&self, source: &mut SplitStream<Stream>) -> Result<WsMessage, Error> {
        loop {
            let message = match source.next().await {
                Some(message) => message.map_err(websocket_error)?,
                None => return Err(Error::WebSocket("the connection is closed".into())),
            };
            let message = match message {
                Message::Text(text) => WsMessage::Text(text.as_str().to_owned()),
                Message::Binary(data) => WsMessage::Binary(data),
                Message::Pong(data) => return Ok(WsMessage::Pong(data)),
                Message::Close(frame) => {
                    let close = frame.map(WsClose::of);
                    self.state().server_close = Some(close.clone().unwrap_or(WsClose {
                        code: WsClose::NO_STATUS,
                        reason: String::new(),
                    }));
                    // The answer tungstenite queued, sent now rather than
                    // at a next call that may never come.
                    let mut sink = self.sink.lock().await;
                    let _ = tokio::time::timeout(self.timeout, sink.flush()).await;
                    return Ok(WsMessage::Close(close));
                }
                // Answered by tungstenite at the next read, this one.
                Message::Ping(_) | Message::Frame(_) => continue,
            };
            self.state().received += 1;
            return Ok(message);
        }
    }

    /// Closes with `code` and `reason` and waits, at most `timeout`, for the
    /// server's close, which it returns (`None` when it had no code). Data
    /// still in flight is dropped. If the server closed first (or does while
    /// a receive waits), its close is returned and nothing more is sent.
    pub async fn close(
        &self,
        code: u16,
        reason: &str,
        timeout: Duration,
    ) -> Result<Option<WsClose>, Error> {
        if let Some(close) = self.server_close() {
            return Ok(Some(close).filter(|c| c.code != WsClose::NO_STATUS));
        }
        self.usable()?;
        if !CloseCode::from(code).is_allowed() || reason.len() > MAX_CLOSE_REASON {
            return Err(Error::InvalidRequest(format!(
                "close code {code} may not be sent, or the reason is over {MAX_CLOSE_REASON} bytes"
            )));
        }
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let exchange = async {
            (self.sink.lock().await)
                .send(Message::Close(Some(frame)))
                .await
                .map_err(websocket_error)?;
            let mut source = self.source.lock().await;
            if let Some(close) = self.server_close() {
                return Ok(Some(close).filter(|c| c.code != WsClose::NO_STATUS));
            }
            loop {
                match source.next().await {
                    Some(Ok(Message::Close(frame))) => return Ok(frame.map(WsClose::of)),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Err(websocket_error(error)),
                    None => {
                        return Err(Error::WebSocket(
                            "the server closed the connection without a close frame".into(),
                        ));
                    }
                }
            }
        };
        let result = tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(Error::Timeout));
        self.state().ended = Some(Error::WebSocket("the WebSocket is closed".into()));
        result
    }

    fn usable(&self) -> Result<(), Error> {
        self.state().ended.clone().map_or(Ok(()), Err)
    }

    /// `result`, the socket failed for good if it is an error (a timeout of
    /// a receive aside, which the caller returns before).
    fn fail_on<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(error) = &result {
            self.state().ended = Some(error.clone());
        }
        result
    }
}

/// The client's error for tungstenite's.
fn websocket_error(error: WsError) -> Error {
    match error {
        WsError::Capacity(CapacityError::MessageTooLong { max_size, .. }) => {
            Error::MessageTooLarge { limit: max_size }
        }
        WsError::Io(error) => match error.get_ref().and_then(|e| e.downcast_ref()) {
            Some(TooManyFrames(limit)) => Error::FrameRate { limit: *limit },
            None => Error::Protocol(one_line(&error)),
        },
        WsError::Tls(error) => Error::Connect(one_line(&error)),
        // Its messages include their sources already.
        error => Error::WebSocket(error.to_string()),
    }
}
