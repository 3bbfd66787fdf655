//! A session's connections: one per origin, HTTP/1.1 driven inside the worker's
//! own task (no connection task, no shared pool lock), HTTP/2 when TLS negotiates it.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_rustls::MaybeHttpsStream;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::Url;

use crate::component::bindings::HttpError;

type Io = MaybeHttpsStream<TokioIo<TcpStream>>;
type Body = Full<Bytes>;

/// Where a connection goes: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    host: String,
    port: u16,
}

impl Origin {
    pub fn of(url: &Url) -> Self {
        Self {
            https: url.scheme() == "https",
            host: url.host_str().unwrap_or_default().to_string(),
            port: url.port_or_known_default().unwrap_or(80),
        }
    }

    pub fn matches(&self, url: &Url) -> bool {
        self.https == (url.scheme() == "https")
            && self.port == url.port_or_known_default().unwrap_or(80)
            && url.host_str() == Some(self.host.as_str())
    }
}

/// The TLS settings every connection shares: webpki roots plus the
/// operator's own CAs (`--ca-cert`), ALPN h2 then http/1.1.
pub fn tls_config(
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for certificate in extra_roots {
        roots.add(certificate)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// An open connection to one origin.
pub enum Connection {
    Http1 {
        sender: http1::SendRequest<Body>,
        /// The connection's I/O; `None` once the server closed it.
        driver: Option<Pin<Box<http1::Connection<Io, Body>>>>,
    },
    /// HTTP/2 multiplexes on its own task, as hyper requires.
    Http2 { sender: http2::SendRequest<Body> },
}

fn connect_error(origin: &Origin, error: impl std::fmt::Display) -> HttpError {
    HttpError::Connect(format!("{}:{}: {error}", origin.host, origin.port))
}

impl Connection {
    pub async fn open(origin: &Origin, tls: &Arc<rustls::ClientConfig>) -> Result<Self, HttpError> {
        let host = origin.host.trim_start_matches('[').trim_end_matches(']');
        let tcp = TcpStream::connect((host, origin.port))
            .await
            .map_err(|e| connect_error(origin, e))?;
        // Requests are small and latency is measured: do not wait to coalesce.
        tcp.set_nodelay(true)
            .map_err(|e| connect_error(origin, e))?;
        let (io, h2): (Io, bool) = if origin.https {
            let name =
                ServerName::try_from(host.to_string()).map_err(|e| connect_error(origin, e))?;
            let stream = TlsConnector::from(Arc::clone(tls))
                .connect(name, TokioIo::new(TokioIo::new(tcp)))
                .await
                .map_err(|e| connect_error(origin, format!("TLS: {e}")))?;
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            (stream.into(), h2)
        } else {
            (TokioIo::new(tcp).into(), false)
        };
        if h2 {
            let (sender, driver) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| connect_error(origin, e))?;
            tokio::spawn(driver);
            Ok(Self::Http2 { sender })
        } else {
            let (sender, driver) = http1::handshake(io)
                .await
                .map_err(|e| connect_error(origin, e))?;
            Ok(Self::Http1 {
                sender,
                driver: Some(Box::pin(driver)),
            })
        }
    }

    /// Whether the connection may still carry requests.
    pub fn is_open(&self) -> bool {
        match self {
            Self::Http1 { sender, driver } => driver.is_some() && !sender.is_closed(),
            Self::Http2 { sender } => !sender.is_closed(),
        }
    }

    /// Sends `request` and reads the whole response. `Err(Retry(request))`
    /// means the connection closed before the request went out: it is safe to
    /// send again on a new connection.
    pub async fn exchange(
        &mut self,
        request: http::Request<Body>,
    ) -> Result<(http::response::Parts, Bytes), Failure> {
        match self {
            Self::Http1 { sender, driver } => {
                let request = origin_form(request);
                if drive(driver, sender.ready()).await?.is_err() {
                    return Err(Failure::Retry(Box::new(request)));
                }
                let response = drive(driver, sender.try_send_request(request))
                    .await?
                    .map_err(unsent)?;
                let (parts, body) = response.into_parts();
                let bytes = drive(driver, body.collect())
                    .await?
                    .map_err(|e| Failure::Error(chain(&e)))?;
                Ok((parts, bytes.to_bytes()))
            }
            Self::Http2 { sender } => {
                let response = sender.try_send_request(request).await.map_err(unsent)?;
                let (parts, body) = response.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map_err(|e| Failure::Error(chain(&e)))?;
                Ok((parts, bytes.to_bytes()))
            }
        }
    }
}

/// How an exchange failed.
pub enum Failure {
    /// Not sent: try again on a fresh connection.
    Retry(Box<http::Request<Body>>),
    Error(HttpError),
}

/// HTTP/1.1 wants `GET /path` with a `Host` header, not the absolute URI
/// that HTTP/2 needs for its `:authority`.
fn origin_form(mut request: http::Request<Body>) -> http::Request<Body> {
    let uri = request.uri().clone();
    if let Some(authority) = uri.authority()
        && !request.headers().contains_key(http::header::HOST)
        && let Ok(host) = http::HeaderValue::from_str(authority.as_str())
    {
        request.headers_mut().insert(http::header::HOST, host);
    }
    if let Some(path) = uri.path_and_query() {
        *request.uri_mut() = http::Uri::from(path.clone());
    }
    request
}

/// A request hyper gave back unsent can be retried; any other error cannot.
fn unsent(mut error: hyper::client::conn::TrySendError<http::Request<Body>>) -> Failure {
    match error.take_message() {
        Some(request) => Failure::Retry(Box::new(request)),
        None => Failure::Error(chain(error.error())),
    }
}

/// Polls `future` while driving the HTTP/1 connection's I/O in the same task.
async fn drive<F: Future>(
    driver: &mut Option<Pin<Box<http1::Connection<Io, Body>>>>,
    future: F,
) -> Result<F::Output, Failure> {
    let mut future = pin!(future);
    std::future::poll_fn(|cx| {
        // The connection first: it writes the request and reads the answer,
        // so the future is usually ready on the same poll.
        if let Some(connection) = driver.as_mut() {
            match connection.as_mut().poll(cx) {
                Poll::Ready(Ok(())) => *driver = None,
                Poll::Ready(Err(e)) => {
                    *driver = None;
                    return Poll::Ready(Err(Failure::Error(chain(&e))));
                }
                Poll::Pending => {}
            }
        }
        match future.as_mut().poll(cx) {
            Poll::Ready(output) => Poll::Ready(Ok(output)),
            Poll::Pending if driver.is_none() => Poll::Ready(Err(Failure::Error(
                HttpError::Protocol("connection closed by the server".into()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// An error and its sources, on one line, as a protocol error.
fn chain(error: &dyn std::error::Error) -> HttpError {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    HttpError::Protocol(text)
}
