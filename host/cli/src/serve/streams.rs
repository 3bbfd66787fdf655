//! The built-in target's long-lived routes: an echo WebSocket, a WebSocket
//! that pushes messages at a rate, and a stream of server-sent events; each
//! counts what it received and sent, for `/stats`.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Message, Role};

/// Every answer's body: whole, or events as they come.
pub type Body = Either<Full<Bytes>, Frames>;

/// A body sent in one piece.
pub fn whole(body: impl Into<Bytes>) -> Body {
    Either::Left(Full::new(body.into()))
}

/// What the target served so far, for exact counts in tests.
#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    /// Text and binary messages the target's sockets received.
    pub ws_received: AtomicU64,
    /// Text and binary messages they sent.
    pub ws_sent: AtomicU64,
    pub sse_events: AtomicU64,
    /// gRPC calls answered.
    pub grpc_calls: AtomicU64,
}

impl Stats {
    pub fn json(&self) -> serde_json::Value {
        let get = |count: &AtomicU64| count.load(Ordering::Relaxed);
        serde_json::json!({
            "requests": get(&self.requests),
            "ws_received": get(&self.ws_received),
            "ws_sent": get(&self.ws_sent),
            "sse_events": get(&self.sse_events),
            "grpc_calls": get(&self.grpc_calls),
        })
    }
}

/// How long a socket that closed waits for the client's close.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The most messages or events one socket or stream may be asked for.
const MAX_COUNT: u64 = 10_000_000;

/// What a socket route does once upgraded.
pub enum Socket {
    /// Sends back every text and binary message.
    Echo,
    /// Sends `{"seq":N}` `rate` times a second, `count` times (then closes
    /// with 1000), or until the client goes; counts what it receives.
    Push { rate: f64, count: Option<u64> },
}

impl Socket {
    /// `/ws/echo`, or `/ws/push?rate=R&count=N` (rate 10 by default).
    pub fn route(path: &str, query: &[(String, String)]) -> Option<Self> {
        match path {
            "/ws/echo" => Some(Self::Echo),
            "/ws/push" => Some(Self::Push {
                rate: value::<f64>(query, "rate")
                    .filter(|rate| rate.is_finite())
                    .unwrap_or(10.0)
                    .clamp(0.001, 1_000_000.0),
                count: value::<u64>(query, "count").map(|n| n.min(MAX_COUNT)),
            }),
            _ => None,
        }
    }
}

/// The query parameter `name`, if it parses as a `T`.
fn value<T: std::str::FromStr>(query: &[(String, String)], name: &str) -> Option<T> {
    query.iter().find(|(k, _)| k == name)?.1.parse().ok()
}

/// Answers a WebSocket handshake (choosing the client's first subprotocol,
/// if it offers any) and serves the socket once the connection is upgraded;
/// anything else on a socket route is a 400.
pub fn upgrade(request: Request<Incoming>, socket: Socket, stats: Arc<Stats>) -> Response<Body> {
    let headers = request.headers();
    let asks_upgrade = headers
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let (Some(key), true) = (headers.get(SEC_WEBSOCKET_KEY), asks_upgrade) else {
        let mut refused = Response::new(whole("a WebSocket route"));
        *refused.status_mut() = StatusCode::BAD_REQUEST;
        return refused;
    };
    let accept = derive_accept_key(key.as_bytes());
    let protocol = (headers.get(SEC_WEBSOCKET_PROTOCOL))
        .and_then(|offered| offered.to_str().ok()?.split(',').next().map(str::trim))
        .and_then(|first| HeaderValue::from_str(first).ok());
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(request).await else {
            return;
        };
        let stream = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None);
        let stream = stream.await;
        match socket {
            Socket::Echo => echo(stream, &stats).await,
            Socket::Push { rate, count } => push(stream, rate, count, &stats).await,
        }
    });
    let mut response = Response::new(whole(""));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let head = response.headers_mut();
    head.insert(UPGRADE, HeaderValue::from_static("websocket"));
    head.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        head.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = protocol {
        head.insert(SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    response
}

type Upgraded = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

async fn echo(mut socket: Upgraded, stats: &Stats) {
    while let Some(Ok(message)) = socket.next().await {
        if !(message.is_text() || message.is_binary()) {
            // Pings are answered and a close is returned by tungstenite.
            continue;
        }
        stats.ws_received.fetch_add(1, Ordering::Relaxed);
        if socket.send(message).await.is_err() {
            return;
        }
        stats.ws_sent.fetch_add(1, Ordering::Relaxed);
    }
}

async fn push(socket: Upgraded, rate: f64, count: Option<u64>, stats: &Stats) {
    let (mut sink, mut incoming) = socket.split();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut sent = 0;
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                if count.is_some_and(|count| sent >= count) {
                    let done = CloseFrame { code: CloseCode::Normal, reason: "done".into() };
                    let _ = sink.send(Message::Close(Some(done))).await;
                    // The client's close answers ours, unless it never comes.
                    let answered = async {
                        while let Some(Ok(message)) = incoming.next().await {
                            if message.is_close() {
                                break;
                            }
                        }
                    };
                    let _ = tokio::time::timeout(CLOSE_WAIT, answered).await;
                    return;
                }
                let message = Message::text(format!(r#"{{"seq":{sent}}}"#));
                if sink.send(message).await.is_err() {
                    return;
                }
                sent += 1;
                stats.ws_sent.fetch_add(1, Ordering::Relaxed);
            }
            message = incoming.next() => match message {
                Some(Ok(message)) if message.is_text() || message.is_binary() => {
                    stats.ws_received.fetch_add(1, Ordering::Relaxed);
                }
                Some(Ok(message)) if !message.is_close() => {}
                _ => return,
            },
        }
    }
}

/// `/sse?count=N&every_ms=M&delay_ms=D`: after D ms, N events (`id`,
/// `event: tick`, `data: {"seq":I}`) M ms apart, then the end of the body
/// (10 events, 100 ms apart, at once, by default).
pub fn events(query: &[(String, String)], stats: Arc<Stats>) -> Response<Body> {
    let number = |name: &str, default: u64| value(query, name).unwrap_or(default);
    let count = number("count", 10).min(MAX_COUNT);
    let every = Duration::from_millis(number("every_ms", 100).min(60_000));
    let delay = Duration::from_millis(number("delay_ms", 0).min(600_000));
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        for seq in 0..count {
            if seq > 0 {
                tokio::time::sleep(every).await;
            }
            let event = format!("id: {seq}\nevent: tick\ndata: {{\"seq\":{seq}}}\n\n");
            if sender.send(Frame::data(Bytes::from(event))).await.is_err() {
                return;
            }
            stats.sse_events.fetch_add(1, Ordering::Relaxed);
        }
    });
    let mut response = Response::new(Either::Right(Frames(receiver)));
    let head = response.headers_mut();
    head.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    head.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    response
}

/// A body sent frame by frame as its frames are written: events, or gRPC
/// messages and their trailers.
pub struct Frames(pub mpsc::Receiver<Frame<Bytes>>);

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|frame| frame.map(Ok))
    }
}
