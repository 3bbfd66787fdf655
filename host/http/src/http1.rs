//! HTTP/1.1 on one kept-alive connection, driven in the worker's own task: the
//! request written in one go, the response head parsed by `httparse`, its body
//! framed by length, by chunks or by the end of the connection.
//!
//! hyper's client costs a dispatch channel, a body channel and two buffers per
//! connection; a worker sends one request at a time, so none of that is needed.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Waker};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{Method, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use url::Position;

use crate::error::Error;
use crate::headers::{ResponseHead, ResponseHeaders, Span};
use crate::round_trip::{AttemptError, Marks, Outgoing};

/// Headers a response may have; more is a protocol error.
const MAX_HEADERS: usize = 128;
/// The largest response head (status line and headers) accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Free space made in the read buffer before each read: enough for a small
/// response; larger ones grow the buffer (by doubling) or, with a known
/// length, reserve it. Every worker keeps this buffer.
const READ_CHUNK: usize = 1024;
/// The most reserved at once for a body of known length: a server's claim
/// of a huge length must not allocate it before sending it.
const MAX_READ_RESERVE: usize = 1 << 20;
/// Interim responses (`100 Continue`, `103 Early Hints`) accepted before the
/// real one; more is a protocol error, not an endless loop.
const MAX_INTERIM: usize = 16;

/// A stream whose readiness can be checked without a system call, so that a
/// kept-alive connection the server closed is noticed before it is reused.
pub trait ReadReady {
    /// Whether the runtime last saw the stream readable (and has not since
    /// seen a read find nothing).
    fn may_be_readable(&self) -> bool;
}

fn protocol(message: impl Into<String>) -> AttemptError {
    AttemptError::protocol(message)
}

/// One HTTP/1.1 connection.
pub struct Http1<S> {
    io: S,
    /// Bytes read from the server and not yet consumed.
    buffer: BytesMut,
    /// The request being written; its allocation is reused.
    out: Vec<u8>,
    /// Cleared once the server ends the connection (`Connection: close`, a
    /// body delimited by the close, an error).
    reusable: bool,
    /// Whether a request was already sent on it.
    used: bool,
    /// The largest response body accepted, in bytes.
    max_body: usize,
}

/// How the response body is delimited.
enum Framing {
    Empty,
    Length(usize),
    Chunked,
    UntilClose,
}

impl<S: AsyncRead + AsyncWrite + ReadReady + Unpin> Http1<S> {
    pub fn new(io: S, max_body: usize) -> Self {
        Self {
            io,
            buffer: BytesMut::new(),
            out: Vec::new(),
            reusable: true,
            used: false,
            max_body,
        }
    }

    /// Whether the connection may carry another request. A kept-alive
    /// connection that became readable while idle was closed by the server
    /// (or sent something unasked): it is not reused.
    pub fn is_open(&mut self) -> bool {
        if !self.reusable {
            return false;
        }
        if !self.io.may_be_readable() {
            return true;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut probe = [0u8; 1];
        let mut probe = tokio::io::ReadBuf::new(&mut probe);
        // Pending: nothing to read after all (a spurious wake-up, or a TLS
        // record with no data in it).
        self.reusable = Pin::new(&mut self.io)
            .poll_read(&mut cx, &mut probe)
            .is_pending();
        self.reusable
    }

    /// Sends `request` and reads its whole response, noting in `marks` when
    /// the request was written and the response's head read.
    pub async fn round_trip(
        &mut self,
        request: &Outgoing<'_>,
        marks: &mut Marks,
    ) -> Result<(ResponseHead, Bytes), AttemptError> {
        let reused = std::mem::replace(&mut self.used, true);
        // Until the response is read in full, the connection is in doubt.
        self.reusable = false;
        self.buffer.clear();
        encode(request, &mut self.out);
        let written = async {
            self.io.write_all(&self.out).await?;
            self.io.flush().await
        };
        if let Err(error) = written.await {
            return Err(if reused {
                AttemptError::Stale
            } else {
                error.into()
            });
        }
        marks.note_sent();
        match self.read_response(request.method, marks).await? {
            Some(response) => Ok(response),
            // Nothing came back: on a reused connection, the server had closed it.
            None if reused && request.method.is_idempotent() => Err(AttemptError::Stale),
            // RFC 9110 9.2.2: it may have been processed, so it is not retried.
            None if reused => Err(protocol(
                "the server closed the kept-alive connection without answering \
                 (it did not send `Connection: close`); not retried: not idempotent",
            )),
            None => Err(protocol("connection closed by the server")),
        }
    }

    /// The response to a request of `method`; `None` if the server closed
    /// the connection before sending a byte.
    async fn read_response(
        &mut self,
        method: &Method,
        marks: &mut Marks,
    ) -> Result<Option<(ResponseHead, Bytes)>, AttemptError> {
        for _interim in 0..=MAX_INTERIM {
            let Some((head, keep_alive, framing)) = self.read_head(method).await? else {
                return Ok(None);
            };
            // An interim response (100 Continue, 103 Early Hints) precedes the real one.
            if head.status.is_informational() {
                continue;
            }
            marks.note_head();
            let body = match framing {
                Framing::Empty => Bytes::new(),
                Framing::Length(length) if length > self.max_body => {
                    return Err(self.body_too_large());
                }
                Framing::Length(length) => self.read_exact_body(length).await?,
                Framing::Chunked => self.read_chunked_body().await?,
                Framing::UntilClose => self.read_until_close().await?,
            };
            self.reusable =
                keep_alive && !matches!(framing, Framing::UntilClose) && self.buffer.is_empty();
            return Ok(Some((head, body)));
        }
        Err(protocol(format!(
            "more than {MAX_INTERIM} interim responses"
        )))
    }

    fn body_too_large(&self) -> AttemptError {
        AttemptError::Failed(Error::BodyTooLarge {
            limit: self.max_body,
        })
    }

    /// Reads into the buffer, with room for the `wanted` bytes expected;
    /// `Ok(0)` means the server closed the connection.
    async fn fill(&mut self, wanted: usize) -> io::Result<usize> {
        self.buffer
            .reserve(wanted.clamp(READ_CHUNK, MAX_READ_RESERVE));
        self.io.read_buf(&mut self.buffer).await
    }

    async fn read_head(&mut self, method: &Method) -> Result<Option<Head>, AttemptError> {
        loop {
            if !self.buffer.is_empty()
                && let Some(head) = parse_head(&mut self.buffer, method)?
            {
                return Ok(Some(head));
            }
            if self.buffer.len() > MAX_HEAD_BYTES {
                return Err(protocol("response head too large"));
            }
            match self.fill(READ_CHUNK).await {
                Ok(0) | Err(_) if self.buffer.is_empty() => return Ok(None),
                Ok(0) => return Err(protocol("connection closed in the response head")),
                Ok(_) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    async fn read_exact_body(&mut self, length: usize) -> Result<Bytes, AttemptError> {
        while self.buffer.len() < length {
            self.fill_in_body(length - self.buffer.len()).await?;
        }
        Ok(self.buffer.split_to(length).freeze())
    }

    async fn read_until_close(&mut self) -> Result<Bytes, AttemptError> {
        while self.fill(READ_CHUNK).await? != 0 {
            if self.buffer.len() > self.max_body {
                return Err(self.body_too_large());
            }
        }
        Ok(self.buffer.split().freeze())
    }

    async fn read_chunked_body(&mut self) -> Result<Bytes, AttemptError> {
        let mut body = BytesMut::new();
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buffer) {
                    Ok(httparse::Status::Complete((used, _))) if used > MAX_HEAD_BYTES => {
                        return Err(protocol("chunk size line too long"));
                    }
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.buffer.advance(used);
                        break usize::try_from(size)
                            .map_err(|_| protocol("chunk size too large"))?;
                    }
                    Ok(httparse::Status::Partial) if self.buffer.len() > MAX_HEAD_BYTES => {
                        return Err(protocol("chunk size line too long"));
                    }
                    Ok(httparse::Status::Partial) => self.fill_in_body(READ_CHUNK).await?,
                    Err(_) => return Err(protocol("invalid chunk size")),
                }
            };
            if size == 0 {
                return self.skip_trailers().await.map(|()| body.freeze());
            }
            if body.len().saturating_add(size) > self.max_body {
                return Err(self.body_too_large());
            }
            // The chunk and the CRLF after it.
            let end = size
                .checked_add(2)
                .ok_or_else(|| protocol("chunk size too large"))?;
            while self.buffer.len() < end {
                self.fill_in_body(end - self.buffer.len()).await?;
            }
            if &self.buffer[size..end] != b"\r\n" {
                return Err(protocol("chunk not followed by CRLF"));
            }
            body.extend_from_slice(&self.buffer[..size]);
            self.buffer.advance(end);
        }
    }

    /// Trailer lines after the last chunk, up to the empty line: at most
    /// as many bytes as a response head.
    async fn skip_trailers(&mut self) -> Result<(), AttemptError> {
        let mut skipped = 0;
        loop {
            match self.buffer.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.buffer.advance(2);
                    return Ok(());
                }
                Some(end) => {
                    skipped += end + 2;
                    self.buffer.advance(end + 2);
                }
                None => self.fill_in_body(READ_CHUNK).await?,
            }
            if skipped + self.buffer.len() > MAX_HEAD_BYTES {
                return Err(protocol("trailers too large"));
            }
        }
    }

    async fn fill_in_body(&mut self, wanted: usize) -> Result<(), AttemptError> {
        if self.fill(wanted).await? == 0 {
            return Err(protocol("connection closed in the response body"));
        }
        Ok(())
    }
}

/// Writes `request` in origin form (`GET /path?query`) with a `Host` header.
fn encode(request: &Outgoing<'_>, out: &mut Vec<u8>) {
    out.clear();
    let url = request.url;
    out.extend_from_slice(request.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(url[Position::BeforePath..Position::AfterQuery].as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let headers = &request.headers;
    if !headers.contains_key(HOST) {
        let authority = &url[Position::BeforeHost..Position::AfterPort];
        header_line(out, HOST.as_str(), authority.as_bytes());
    }
    for (name, value) in headers {
        header_line(out, name.as_str(), value.as_bytes());
    }
    let body = &request.body;
    if !headers.contains_key(CONTENT_LENGTH)
        && (!body.is_empty()
            || matches!(*request.method, Method::POST | Method::PUT | Method::PATCH))
    {
        header_line(
            out,
            CONTENT_LENGTH.as_str(),
            body.len().to_string().as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

fn header_line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// A response head, whether the connection stays open, and how the body is framed.
type Head = (ResponseHead, bool, Framing);

/// A complete response head taken from the start of `buffer`, whether the
/// connection stays open, and how the body is framed.
fn parse_head(buffer: &mut BytesMut, method: &Method) -> Result<Option<Head>, AttemptError> {
    // Uninitialised: zeroing room for every header a response may have
    // showed in profiles, for the handful a response has.
    let mut headers = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buffer,
        &mut headers,
    );
    let length = match parsed {
        Ok(httparse::Status::Complete(length)) if length > MAX_HEAD_BYTES => {
            return Err(protocol("response head too large"));
        }
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(protocol(format!("invalid response head: {error}"))),
    };
    let code = response.code.ok_or_else(|| protocol("no status code"))?;
    let status = crate::policy::check_status(code).map_err(protocol)?;
    let version = if response.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    // Where each name and value lies in the head, to find them again once
    // the head is split off the buffer.
    let start = buffer.as_ptr() as usize;
    let span = |bytes: &[u8]| {
        let from = bytes.as_ptr() as usize - start;
        from..from + bytes.len()
    };
    let spans = response
        .headers
        .iter()
        .map(|header| Span::new(span(header.name.as_bytes()), span(header.value)))
        .collect();
    let headers = ResponseHeaders::Raw {
        head: buffer.split_to(length).freeze(),
        spans,
    };
    let framing = framing(status, method, &headers)?;
    let keep_alive = keep_alive(version, &headers);
    Ok(Some((
        ResponseHead { status, headers },
        keep_alive,
        framing,
    )))
}

/// RFC 9112 section 6.3, in order.
fn framing(
    status: StatusCode,
    method: &Method,
    headers: &ResponseHeaders,
) -> Result<Framing, AttemptError> {
    if *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(Framing::Empty);
    }
    if let Some(codings) = headers.get_all(TRANSFER_ENCODING.as_str()).last() {
        let last = text(codings).rsplit(',').next().unwrap_or_default();
        return Ok(if last.trim().eq_ignore_ascii_case("chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let mut lengths = headers.get_all(CONTENT_LENGTH.as_str());
    let Some(first) = lengths.next() else {
        return Ok(Framing::UntilClose);
    };
    if lengths.any(|other| other != first) {
        return Err(protocol("conflicting content-length headers"));
    }
    text(first)
        .trim()
        .parse()
        .ok()
        .map(Framing::Length)
        .ok_or_else(|| protocol("invalid content-length"))
}

/// A header value as text; one that is not UTF-8 reads as empty.
fn text(value: &[u8]) -> &str {
    std::str::from_utf8(value).unwrap_or_default()
}

fn keep_alive(version: Version, headers: &ResponseHeaders) -> bool {
    let says = |token: &str| {
        headers.get_all(CONNECTION.as_str()).any(|value| {
            text(value)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        })
    };
    match version {
        Version::HTTP_10 => says("keep-alive"),
        _ => !says("close"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};
    use tokio::io::DuplexStream;

    impl ReadReady for DuplexStream {
        fn may_be_readable(&self) -> bool {
            false
        }
    }

    /// Sends `method` with `body` and an `x-test` header on `connection`,
    /// to a URL whose user name and fragment stay off the wire.
    async fn send(
        connection: &mut Http1<DuplexStream>,
        method: Method,
        body: &'static str,
    ) -> Result<(ResponseHead, Bytes), AttemptError> {
        let url = url::Url::parse("http://user:pw@example.test:8080/path?q=1#fragment").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-test", HeaderValue::from_static("yes"));
        let request = Outgoing {
            method: &method,
            url: &url,
            headers,
            body: Bytes::from_static(body.as_bytes()),
        };
        connection.round_trip(&request, &mut Marks::default()).await
    }

    /// A server that answers each request it reads with the next of
    /// `answers`, written in pieces of `piece` bytes, then closes; it returns
    /// what it received. (A request ends with an empty line, or with "hello",
    /// the body the tests send.)
    fn server(
        answers: Vec<&'static str>,
        piece: usize,
    ) -> (DuplexStream, tokio::task::JoinHandle<String>) {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let task = tokio::spawn(async move {
            let mut received = Vec::new();
            for answer in answers {
                let mut chunk = [0u8; 1024];
                while !String::from_utf8_lossy(&received).ends_with("\r\n\r\n")
                    && !String::from_utf8_lossy(&received).ends_with("hello")
                {
                    let n = server.read(&mut chunk).await.unwrap();
                    received.extend_from_slice(&chunk[..n]);
                }
                for part in answer.as_bytes().chunks(piece) {
                    server.write_all(part).await.unwrap();
                    server.flush().await.unwrap();
                    tokio::task::yield_now().await;
                }
                received.extend_from_slice(b"|");
            }
            String::from_utf8(received).unwrap()
        });
        (client, task)
    }

    async fn answered(
        connection: &mut Http1<DuplexStream>,
        method: Method,
        body: &'static str,
    ) -> (ResponseHead, Bytes) {
        send(connection, method, body).await.expect("an answer")
    }

    #[tokio::test]
    async fn a_kept_alive_connection_carries_requests_in_turn() {
        let (io, server) = server(
            vec![
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nset-cookie: a=1\r\n\r\nfirst",
                "HTTP/1.1 201 Created\r\nContent-Length: 6\r\n\r\nsecond",
            ],
            3,
        );
        let mut connection = Http1::new(io, usize::MAX);
        let (head, body) = answered(&mut connection, Method::GET, "").await;
        assert_eq!((head.status.as_u16(), &body[..]), (200, &b"first"[..]));
        assert_eq!(head.headers.get("set-cookie"), Some(&b"a=1"[..]));
        assert!(connection.is_open());
        let (head, body) = answered(&mut connection, Method::POST, "hello").await;
        assert_eq!((head.status.as_u16(), &body[..]), (201, &b"second"[..]));
        assert_eq!(
            server.await.unwrap(),
            "GET /path?q=1 HTTP/1.1\r\nhost: example.test:8080\r\nx-test: yes\r\n\r\n|\
             POST /path?q=1 HTTP/1.1\r\nhost: example.test:8080\r\nx-test: yes\r\ncontent-length: 5\r\n\r\nhello|"
        );
    }

    #[tokio::test]
    async fn chunked_bodies_are_joined_and_trailers_skipped() {
        let (io, _server) = server(
            vec![
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nx-trailer: 1\r\n\r\n",
            ],
            2,
        );
        let mut connection = Http1::new(io, usize::MAX);
        let (_, body) = answered(&mut connection, Method::GET, "").await;
        assert_eq!(&body[..], b"Wikipedia");
        assert!(connection.is_open());
    }

    #[tokio::test]
    async fn a_body_without_length_ends_with_the_connection() {
        let (io, _server) = server(vec!["HTTP/1.1 200 OK\r\n\r\nuntil the end"], 4);
        let mut connection = Http1::new(io, usize::MAX);
        let (_, body) = answered(&mut connection, Method::GET, "").await;
        assert_eq!(&body[..], b"until the end");
        assert!(!connection.is_open());
    }

    #[tokio::test]
    async fn interim_responses_are_skipped_and_head_has_no_body() {
        let (io, _server) = server(
            vec![
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
                "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n",
            ],
            64,
        );
        let mut connection = Http1::new(io, usize::MAX);
        let (head, body) = answered(&mut connection, Method::GET, "").await;
        assert_eq!((head.status.as_u16(), &body[..]), (200, &b"ok"[..]));
        let (head, body) = answered(&mut connection, Method::HEAD, "").await;
        assert_eq!((head.status.as_u16(), body.len()), (200, 0));
    }

    #[tokio::test]
    async fn connection_close_is_honoured() {
        let (io, _server) = server(
            vec!["HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"],
            64,
        );
        let mut connection = Http1::new(io, usize::MAX);
        answered(&mut connection, Method::GET, "").await;
        assert!(!connection.is_open());
    }

    #[tokio::test]
    async fn a_closed_kept_alive_connection_is_stale_for_idempotent_requests_only() {
        for (method, stale) in [(Method::GET, true), (Method::POST, false)] {
            // The second request is read, then the server closes unanswered.
            let answers = vec!["HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", ""];
            let (io, _server) = server(answers, 64);
            let mut connection = Http1::new(io, usize::MAX);
            answered(&mut connection, Method::GET, "").await;
            let outcome = send(&mut connection, method.clone(), "hello").await;
            match outcome {
                Err(AttemptError::Stale) => assert!(stale, "{method}"),
                Err(AttemptError::Failed(Error::Protocol(message))) => {
                    assert!(!stale, "{method}");
                    assert!(
                        message.contains("closed the kept-alive connection"),
                        "{message}"
                    );
                }
                other => panic!("{method}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn malformed_responses_are_protocol_errors() {
        for (answer, expected) in [
            (
                "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
                "invalid content-length",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
                "conflicting content-length headers",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nshort",
                "connection closed in the response body",
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
                "invalid chunk size",
            ),
            (
                "SMTP ready\r\n\r\n",
                "invalid response head: invalid HTTP version",
            ),
            // A hostile length is not allocated up front.
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 999999999999999\r\n\r\nshort",
                "connection closed in the response body",
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\nx",
                "chunk size too large",
            ),
        ] {
            let (io, _server) = server(vec![answer], 64);
            let mut connection = Http1::new(io, usize::MAX);
            match send(&mut connection, Method::GET, "").await {
                Err(AttemptError::Failed(Error::Protocol(message))) => {
                    assert_eq!(message, expected, "{answer:?}")
                }
                other => panic!("{answer:?}: {other:?}"),
            }
        }
    }
}
