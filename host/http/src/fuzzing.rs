//! Entry points for the fuzz targets (`host/http/fuzz/`) and for the tests
//! that replay their corpus: what a hostile server controls (a response's
//! bytes, a redirect's `Location`), fed to the client's own code. Each must
//! return, never panic, hang or hold more than its limits.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::LOCATION;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use url::Url;

use crate::egress::EgressPolicy;
use crate::headers::{ResponseHead, ResponseHeaders};
use crate::http1::{Http1, ReadReady};
use crate::round_trip::{Marks, Outgoing};

/// The largest body the fuzzed client accepts: small, so that limits are hit.
const MAX_BODY: usize = 64 * 1024;

/// A server that answers with `bytes`, in pieces of at most `piece` bytes,
/// then closes; what the client writes is dropped.
struct Replay {
    bytes: Bytes,
    piece: usize,
}

/// Never readable while idle: the bytes stand for the answers to requests
/// yet to be sent, not for data sent unasked.
impl ReadReady for Replay {
    fn may_be_readable(&self) -> bool {
        false
    }
}

impl AsyncRead for Replay {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.bytes.len().min(buf.remaining()).min(self.piece);
        let piece = self.bytes.split_to(n);
        buf.put_slice(&piece);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Replay {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// What the client made of a server's bytes: each response's status and
/// body length, or the error that ended the exchange.
pub type Exchanges = Vec<Result<(u16, usize), String>>;

/// Sends GET requests on one HTTP/1.1 connection whose server answers with
/// `bytes` (the first byte, if any, sets the size of the pieces it arrives
/// in), as long as the connection stays usable, at most three.
pub fn http1_responses(bytes: &[u8]) -> Exchanges {
    let (piece, bytes) = match bytes.split_first() {
        Some((first, rest)) => (usize::from(*first).max(1), rest),
        None => (1, bytes),
    };
    let io = Replay {
        bytes: Bytes::copy_from_slice(bytes),
        piece,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut connection = Http1::new(io, MAX_BODY);
        let url = Url::parse("http://example.test/").expect("a URL");
        let mut exchanges = Vec::new();
        for _ in 0..3 {
            let request = Outgoing {
                method: &Method::GET,
                url: &url,
                headers: HeaderMap::new(),
                body: Bytes::new(),
            };
            let outcome = connection.round_trip(&request, &mut Marks::default()).await;
            let ended = outcome.is_err();
            exchanges.push(
                outcome
                    .map(|(head, body)| (head.status.as_u16(), body.len()))
                    .map_err(|e| e.to_string()),
            );
            if ended || !connection.is_open() {
                break;
            }
        }
        exchanges
    })
}

/// A chunked body: `bytes` after a head that announces one.
pub fn chunked_body(bytes: &[u8]) -> Exchanges {
    let head = b"\x40HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    http1_responses(&[&head[..], bytes].concat())
}

/// Where a `302` with this `Location` from `http://example.test/a/b?q` goes,
/// and whether the egress policy would connect there (by the address, for
/// a host that is one). `None` when it goes nowhere.
pub fn redirect(location: &[u8]) -> Option<Result<(String, bool), String>> {
    let mut headers = HeaderMap::new();
    headers.insert(LOCATION, HeaderValue::from_bytes(location).ok()?);
    let head = ResponseHead {
        status: StatusCode::FOUND,
        headers: ResponseHeaders::Map(headers),
    };
    let base = Url::parse("http://example.test/a/b?q").expect("a URL");
    let next = match crate::client::redirect_target(&head, &base) {
        Ok(next) => next?,
        Err(error) => return Some(Err(error.to_string())),
    };
    let host = next.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let allowed = match host.parse() {
        Ok(address) => EgressPolicy::default().check(address).is_ok(),
        Err(_) => true,
    };
    Some(Ok((next.to_string(), allowed)))
}
