//! A session's connections: one per origin, HTTP/1.1 driven inside the worker's
//! own task (no connection task, no shared pool lock), HTTP/2 (hyper) when TLS
//! negotiates it; and its gRPC channels, HTTP/2 always.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::dial::Dial;
use crate::error::{Error, one_line};
use crate::headers::{ResponseHead, ResponseHeaders};
use crate::http1::{Http1, ReadReady};
use crate::manifest::Contacted;
use crate::message::HopPhases;
use crate::metered::MeteredTcp;
use crate::origin::Origin;
use crate::round_trip::{AttemptError, Marks, Outgoing};

/// A connection of its own for one exchange in HTTP/1.1 (a WebSocket, a
/// streamed response), dialled as `dial` says, its TLS offering `http/1.1`
/// only; counted as one request to its destination.
pub async fn open_http1(origin: &Origin, dial: &Dial) -> Result<Io, Error> {
    let tcp = dial.tcp(origin).await?;
    tcp.tcp()
        .set_nodelay(true)
        .map_err(|e| origin.connect_error(e))?;
    let counts = Arc::clone(tcp.counts());
    let io = match origin.https {
        true => Io::Tls(Box::new(tls(origin, tcp, &dial.tls_http1).await?)),
        false => Io::Plain(tcp),
    };
    counts.count_request();
    Ok(io)
}

/// TLS on `tcp` to `origin`, with `config`.
async fn tls(
    origin: &Origin,
    tcp: MeteredTcp,
    config: &Arc<rustls::ClientConfig>,
) -> Result<TlsStream<MeteredTcp>, Error> {
    let name = ServerName::try_from(origin.bare_host().to_string())
        .map_err(|e| origin.connect_error(e))?;
    TlsConnector::from(Arc::clone(config))
        .connect(name, tcp)
        .await
        .map_err(|e| origin.connect_error(format!("TLS: {e}")))
}

/// An open connection to one origin, and its destination's counts in the
/// egress manifest.
pub struct Connection {
    wire: Wire,
    contacted: Arc<Contacted>,
    /// When the dial times phases: the last round trip's, the opening's
    /// added to the first.
    phases: Option<Phases>,
}

/// A connection's timed phases.
#[derive(Default)]
struct Phases {
    opening: Option<(Duration, Duration)>,
    last: HopPhases,
}

enum Wire {
    Http1(Http1<Io>),
    /// HTTP/2 multiplexes on its own task, as hyper requires.
    Http2 {
        sender: http2::SendRequest<Full<Bytes>>,
        max_body: usize,
    },
}

impl Connection {
    /// Connects to `origin` as `dial` says.
    pub async fn open(origin: &Origin, dial: &Dial) -> Result<Self, Error> {
        let started = Instant::now();
        let tcp = dial.tcp(origin).await?;
        let connected = Instant::now();
        let contacted = Arc::clone(tcp.counts());
        let wire = Self::handshake(origin, tcp, &dial.tls, dial.max_body).await?;
        let tls_handshaking = match origin.https {
            true => connected.elapsed(),
            false => Duration::ZERO,
        };
        let phases = dial.phases.then(|| Phases {
            opening: Some((connected - started, tls_handshaking)),
            last: HopPhases::default(),
        });
        Ok(Self {
            wire,
            contacted,
            phases,
        })
    }

    /// HTTP/1.1 on `tcp`, or TLS and then HTTP/1.1 or HTTP/2 as ALPN says;
    /// responses with a body over `max_body` bytes fail.
    async fn handshake(
        origin: &Origin,
        tcp: MeteredTcp,
        tls: &Arc<rustls::ClientConfig>,
        max_body: usize,
    ) -> Result<Wire, Error> {
        // Requests are small and latency is measured: do not wait to coalesce.
        (tcp.tcp().set_nodelay(true)).map_err(|e| origin.connect_error(e))?;
        if !origin.https {
            return Ok(Wire::Http1(Http1::new(Io::Plain(tcp), max_body)));
        }
        let stream = self::tls(origin, tcp, tls).await?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        let io = Io::Tls(Box::new(stream));
        if !h2 {
            return Ok(Wire::Http1(Http1::new(io, max_body)));
        }
        let (sender, driver) = http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .map_err(|e| origin.connect_error(e))?;
        tokio::spawn(driver);
        Ok(Wire::Http2 { sender, max_body })
    }

    /// Whether the connection may still carry requests.
    pub fn is_open(&mut self) -> bool {
        match &mut self.wire {
            Wire::Http1(connection) => connection.is_open(),
            Wire::Http2 { sender, .. } => !sender.is_closed(),
        }
    }

    /// Sends `request` and reads the whole response.
    pub async fn round_trip(
        &mut self,
        request: &Outgoing<'_>,
    ) -> Result<(ResponseHead, Bytes), AttemptError> {
        self.contacted.count_request();
        let started = self.phases.is_some().then(Instant::now);
        let mut marks = Marks {
            timed: started.is_some(),
            ..Marks::default()
        };
        let trip = match &mut self.wire {
            Wire::Http1(connection) => connection.round_trip(request, &mut marks).await,
            // Boxed: its state is large, and inline it would make every
            // request's future (HTTP/1.1 too) that much larger.
            Wire::Http2 { sender, max_body } => {
                Box::pin(round_trip_h2(sender, request, *max_body, &mut marks)).await
            }
        };
        if let (Some(phases), Some(started), Ok(_)) = (&mut self.phases, started, &trip) {
            let (sent, head) = (marks.sent.unwrap_or(started), marks.head.unwrap_or(started));
            phases.last = HopPhases {
                sending: sent.saturating_duration_since(started),
                waiting: head.saturating_duration_since(sent),
                receiving: head.elapsed(),
                ..HopPhases::default()
            };
        }
        trip
    }

    /// The phases of the last round trip, when they are timed; the
    /// connection's opening counts in the first's.
    pub fn take_phases(&mut self) -> Option<HopPhases> {
        let phases = self.phases.as_mut()?;
        let mut last = phases.last;
        if let Some((connecting, tls_handshaking)) = phases.opening.take() {
            last.connecting = connecting;
            last.tls_handshaking = tls_handshaking;
        }
        Some(last)
    }
}

async fn round_trip_h2(
    sender: &mut http2::SendRequest<Full<Bytes>>,
    request: &Outgoing<'_>,
    max_body: usize,
    marks: &mut Marks,
) -> Result<(ResponseHead, Bytes), AttemptError> {
    let mut h2_request = http::Request::builder()
        .method(request.method.clone())
        .uri(request.url.as_str())
        .body(Full::new(request.body.clone()))
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    *h2_request.headers_mut() = request.headers.clone();
    let response = sender.try_send_request(h2_request).await.map_err(|error| {
        if error.message().is_some() {
            AttemptError::Stale
        } else {
            Error::Protocol(one_line(error.error())).into()
        }
    })?;
    marks.note_head();
    let (parts, body) = response.into_parts();
    crate::policy::check_status(parts.status.as_u16()).map_err(Error::Protocol)?;
    let bytes = Limited::new(body, max_body).collect().await.map_err(|e| {
        if e.is::<LengthLimitError>() {
            Error::BodyTooLarge { limit: max_body }
        } else {
            Error::Protocol(one_line(&*e))
        }
    })?;
    let head = ResponseHead {
        status: parts.status,
        headers: ResponseHeaders::Map(parts.headers),
    };
    Ok((head, bytes.to_bytes()))
}

/// An HTTP/2 connection to one origin for gRPC calls, multiplexed on
/// hyper's task: prior knowledge for `http://`, TLS with ALPN `h2` for
/// `https://`.
pub(crate) struct Channel {
    sender: http2::SendRequest<Full<Bytes>>,
    contacted: Arc<Contacted>,
}

impl Channel {
    pub(crate) async fn open(origin: &Origin, dial: &Dial) -> Result<Self, Error> {
        let tcp = dial.tcp(origin).await?;
        (tcp.tcp().set_nodelay(true)).map_err(|e| origin.connect_error(e))?;
        let contacted = Arc::clone(tcp.counts());
        let io = if origin.https {
            let stream = tls(origin, tcp, &dial.tls).await?;
            if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
                let refused = "the server did not offer HTTP/2 (ALPN), which gRPC needs";
                return Err(origin.connect_error(refused));
            }
            Io::Tls(Box::new(stream))
        } else {
            Io::Plain(tcp)
        };
        let (sender, driver) = http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .map_err(|e| origin.connect_error(e))?;
        tokio::spawn(driver);
        Ok(Self { sender, contacted })
    }

    pub(crate) fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends `request`, counted to its destination, and returns the head
    /// of its answer.
    pub(crate) async fn send(
        &mut self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<http::Response<hyper::body::Incoming>, Error> {
        self.contacted.count_request();
        (self.sender.send_request(request).await).map_err(|e| Error::Protocol(one_line(&e)))
    }
}

/// A connection's byte stream, plain or TLS.
pub enum Io {
    Plain(MeteredTcp),
    Tls(Box<TlsStream<MeteredTcp>>),
}

impl ReadReady for Io {
    fn may_be_readable(&self) -> bool {
        let tcp = match self {
            Self::Plain(tcp) => tcp.tcp(),
            Self::Tls(tls) => tls.get_ref().0.tcp(),
        };
        // Unlike `poll_read_ready`, this registers no waker when not ready.
        tcp.try_io(Interest::READABLE, || Ok(())).is_ok()
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}
