//! gRPC calls ([`HttpClient::grpc`]): HTTP/2 to the server (prior knowledge
//! for `http://`, TLS with ALPN `h2` for `https://`) on one channel per
//! origin kept in the session, through the same resolution, allow-list,
//! session headers, dial and egress policy as any request. The messages are
//! protobuf bytes the guest encoded: the client frames them (a flag and a
//! length before each), sends the deadline as `grpc-timeout`, reads the
//! answer's messages and its status from the trailers (or from the head of a
//! trailers-only answer), and reports the call as one hop.

use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, TE};
use http::{HeaderMap, Method};
use http_body_util::{BodyExt, Full};
use url::Url;

use crate::client::HttpClient;
use crate::connection::Channel;
use crate::error::{Error, one_line};
use crate::message::{HopOutcome, Observer, Request};
use crate::session::Session;

/// A gRPC call: which method of which server, with what metadata.
pub struct GrpcCall<'a> {
    /// `http://host:port` or `https://…`; empty: `--target`.
    pub target: &'a str,
    /// `/package.Service/Method`.
    pub method: &'a str,
    pub metadata: &'a [(String, String)],
    /// The deadline; by default the session's timeout.
    pub timeout: Option<Duration>,
    /// The name the call is reported under; by default `GRPC /package.Service/Method`.
    pub name: Option<&'a str>,
}

/// What a call came to, whatever its status.
#[derive(Debug)]
pub struct GrpcReply {
    /// The `grpc-status` (0: OK; 4 when the deadline passed first).
    pub status: u8,
    /// The `grpc-message`, percent-decoded.
    pub message: String,
    pub headers: Vec<(String, String)>,
    pub trailers: Vec<(String, String)>,
    /// The answer's messages, in order.
    pub messages: Vec<Bytes>,
    /// The name it was reported under.
    pub name: String,
    pub elapsed: Duration,
}

/// The status a client gives a call whose deadline passed.
pub const DEADLINE_EXCEEDED: u8 = 4;

/// gRPC's status codes, by code: each one's canonical name, and the error
/// kind a call that ends with it is counted under.
const STATUSES: [(&str, &str); 17] = [
    ("OK", "grpc-ok"),
    ("CANCELLED", "grpc-cancelled"),
    ("UNKNOWN", "grpc-unknown"),
    ("INVALID_ARGUMENT", "grpc-invalid-argument"),
    ("DEADLINE_EXCEEDED", "grpc-deadline-exceeded"),
    ("NOT_FOUND", "grpc-not-found"),
    ("ALREADY_EXISTS", "grpc-already-exists"),
    ("PERMISSION_DENIED", "grpc-permission-denied"),
    ("RESOURCE_EXHAUSTED", "grpc-resource-exhausted"),
    ("FAILED_PRECONDITION", "grpc-failed-precondition"),
    ("ABORTED", "grpc-aborted"),
    ("OUT_OF_RANGE", "grpc-out-of-range"),
    ("UNIMPLEMENTED", "grpc-unimplemented"),
    ("INTERNAL", "grpc-internal"),
    ("UNAVAILABLE", "grpc-unavailable"),
    ("DATA_LOSS", "grpc-data-loss"),
    ("UNAUTHENTICATED", "grpc-unauthenticated"),
];

/// The canonical name of status `code` (`UNAVAILABLE`), or `UNKNOWN`.
pub fn status_name(code: u8) -> &'static str {
    STATUSES
        .get(usize::from(code))
        .map_or("UNKNOWN", |(name, _)| name)
}

/// The error kind a non-OK status is counted under (`grpc-unavailable`).
fn status_kind(code: u8) -> &'static str {
    STATUSES
        .get(usize::from(code))
        .map_or("grpc-unknown", |(_, kind)| kind)
}

impl GrpcCall<'_> {
    /// The name the call is reported under.
    pub fn name(&self) -> String {
        (self.name).map_or_else(|| format!("GRPC {}", self.method), str::to_string)
    }
}

impl HttpClient {
    /// Calls `call.method` with `requests` (one for a unary call) and reads
    /// the answer to its end; `observer` sees the call as one hop: its
    /// HTTP status when OK, else `grpc-<status>` as its error kind. A call
    /// that got no gRPC answer is an error.
    pub async fn grpc(
        &self,
        session: &mut Session,
        call: &GrpcCall<'_>,
        requests: &[impl AsRef<[u8]>],
        observer: &impl Observer,
    ) -> Result<GrpcReply, Error> {
        let name = call.name();
        let url = format!("{}{}", call.target.trim_end_matches('/'), call.method);
        let req = Request {
            method: "POST",
            url: &url,
            headers: call.metadata,
            body: None,
            timeout: call.timeout,
            name: Some(&name),
            max_redirects: Some(0),
        };
        let timeout = req.timeout.or(session.timeout).unwrap_or(self.timeout);
        let (url, _, method) = self.prepare(session, &req, observer)?;
        let started = Instant::now();
        let exchange = async {
            let mut outgoing =
                self.build(session, &req, &method, &url, Some(framed(requests)), true)?;
            grpc_headers(&mut outgoing.headers, timeout)?;
            let channel = session.grpc_channel(&url, &self.dial).await?;
            exchange(
                channel,
                &method,
                &url,
                outgoing.headers,
                outgoing.body,
                (self.dial.max_body, self.grpc_max_messages),
            )
            .await
        };
        let result = tokio::time::timeout(timeout, exchange).await;
        let elapsed = started.elapsed();
        let wire = Some((&method, &*url));
        let answer = match result {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => {
                session.close_grpc(&url);
                observer.hop(&name, wire, HopOutcome::of_error(&error), elapsed);
                return Err(error);
            }
            // As gRPC clients do: the deadline is the call's status.
            Err(_) => Answer {
                status: DEADLINE_EXCEEDED,
                message: "Deadline Exceeded".to_string(),
                ..Answer::default()
            },
        };
        let outcome = match answer.status {
            0 => HopOutcome::Status(answer.http_status),
            status => HopOutcome::Failed(status_kind(status)),
        };
        observer.hop(&name, wire, outcome, elapsed);
        Ok(GrpcReply {
            status: answer.status,
            message: answer.message,
            headers: answer.headers,
            trailers: answer.trailers,
            messages: answer.messages,
            name,
            elapsed,
        })
    }
}

/// The messages, each after its flag (not compressed) and its length.
fn framed(messages: &[impl AsRef<[u8]>]) -> Bytes {
    let size = messages.iter().map(|m| 5 + m.as_ref().len()).sum();
    let mut body = BytesMut::with_capacity(size);
    for message in messages {
        let message = message.as_ref();
        body.extend_from_slice(&[0]);
        body.extend_from_slice(&(message.len() as u32).to_be_bytes());
        body.extend_from_slice(message);
    }
    body.freeze()
}

/// What gRPC asks of a request's headers, the deadline included.
fn grpc_headers(headers: &mut HeaderMap, timeout: Duration) -> Result<(), Error> {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(TE, HeaderValue::from_static("trailers"));
    // At most 8 digits: in milliseconds up to a day, then in seconds.
    let millis = timeout.as_millis();
    let deadline = match millis {
        0..100_000_000 => format!("{millis}m"),
        _ => format!("{}S", timeout.as_secs().min(99_999_999)),
    };
    let deadline =
        HeaderValue::from_str(&deadline).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    headers.insert(HeaderName::from_static("grpc-timeout"), deadline);
    Ok(())
}

/// A gRPC answer, read whole.
#[derive(Default)]
struct Answer {
    http_status: u16,
    status: u8,
    message: String,
    headers: Vec<(String, String)>,
    trailers: Vec<(String, String)>,
    messages: Vec<Bytes>,
}

/// Sends one call on `channel` and reads its answer to the end: at most
/// `max_body` bytes of messages in all, and `max_messages` messages.
async fn exchange(
    channel: &mut Channel,
    method: &Method,
    url: &Url,
    headers: HeaderMap,
    body: Bytes,
    (max_body, max_messages): (usize, usize),
) -> Result<Answer, Error> {
    let mut request = http::Request::builder()
        .method(method.clone())
        .uri(url.as_str())
        .body(Full::new(body))
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    *request.headers_mut() = headers;
    let response = channel.send(request).await?;
    let (head, mut body) = response.into_parts();
    if head.status != http::StatusCode::OK {
        return Err(Error::Protocol(format!(
            "{url}: HTTP status {} where gRPC answers 200",
            head.status.as_u16()
        )));
    }
    let mut answer = Answer {
        http_status: head.status.as_u16(),
        headers: pairs(&head.headers),
        ..Answer::default()
    };
    let mut buffer = BytesMut::new();
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Error::Protocol(one_line(&e)))?;
        match frame.into_data() {
            Ok(data) => {
                if buffer.len() + data.len() > max_body.saturating_add(5) {
                    return Err(Error::BodyTooLarge { limit: max_body });
                }
                buffer.extend_from_slice(&data);
                answer.messages.extend(take_messages(&mut buffer, url)?);
                if answer.messages.len() > max_messages {
                    return Err(Error::TooManyMessages {
                        limit: max_messages,
                    });
                }
            }
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    if !buffer.is_empty() {
        return Err(Error::Protocol(format!(
            "{url}: the answer ended inside a message"
        )));
    }
    // A trailers-only answer carries its status in its head.
    let status_from = trailers.as_ref().unwrap_or(&head.headers);
    let status = status_from
        .get("grpc-status")
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .ok_or_else(|| Error::Protocol(format!("{url}: the answer has no grpc-status")))?;
    answer.status = status;
    answer.message = (status_from.get("grpc-message"))
        .map(|value| percent_decoded(value.as_bytes()))
        .unwrap_or_default();
    answer.trailers = trailers.as_ref().map(pairs).unwrap_or_default();
    Ok(answer)
}

/// The whole messages at the start of `buffer`, taken out of it.
fn take_messages(buffer: &mut BytesMut, url: &Url) -> Result<Vec<Bytes>, Error> {
    let mut messages = Vec::new();
    while buffer.len() >= 5 {
        let length = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
        if buffer[0] != 0 {
            return Err(Error::Protocol(format!(
                "{url}: a compressed message, which was not asked for"
            )));
        }
        if buffer.len() < 5 + length {
            break;
        }
        buffer.advance(5);
        messages.push(buffer.split_to(length).freeze());
    }
    Ok(messages)
}

fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    (headers.iter())
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect()
}

/// `grpc-message` as sent: percent-encoded UTF-8.
fn percent_decoded(value: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some((&byte, tail)) = rest.split_first() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (byte, tail) {
            (b'%', [high, low, ..]) if hex(*high).is_some() && hex(*low).is_some() => {
                bytes.push((hex(*high).unwrap_or(0) * 16 + hex(*low).unwrap_or(0)) as u8);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_framed_and_taken_back_whole() {
        let url = Url::parse("http://127.0.0.1/s.S/M").unwrap();
        let body = framed(&[b"ab".as_slice(), b"".as_slice(), b"cde".as_slice()]);
        assert_eq!(&body[..7], &[0, 0, 0, 0, 2, b'a', b'b']);
        let mut buffer = BytesMut::from(&body[..9]);
        let first = take_messages(&mut buffer, &url).unwrap();
        assert_eq!(first, vec![Bytes::from_static(b"ab")]);
        buffer.extend_from_slice(&body[9..]);
        let rest = take_messages(&mut buffer, &url).unwrap();
        assert_eq!(rest, vec![Bytes::new(), Bytes::from_static(b"cde")]);
        assert!(buffer.is_empty());
    }

    #[test]
    fn statuses_have_their_names_and_messages_are_decoded() {
        assert_eq!(status_name(14), "UNAVAILABLE");
        assert_eq!(status_name(99), "UNKNOWN");
        assert_eq!(status_kind(DEADLINE_EXCEEDED), "grpc-deadline-exceeded");
        assert_eq!(percent_decoded(b"no%20such%3A caf%C3%A9"), "no such: café");
        assert_eq!(percent_decoded(b"50%"), "50%");
    }

    #[test]
    fn deadlines_fit_in_eight_digits() {
        let mut headers = HeaderMap::new();
        grpc_headers(&mut headers, Duration::from_millis(1500)).unwrap();
        assert_eq!(headers["grpc-timeout"], "1500m");
        grpc_headers(&mut headers, Duration::from_secs(10 * 86_400 * 365)).unwrap();
        assert_eq!(headers["grpc-timeout"], "99999999S");
    }
}
