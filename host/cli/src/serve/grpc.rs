//! The built-in target's gRPC service: the classic greeter
//! (`helloworld.Greeter`: `SayHello`, and `SayHelloStream`, which answers
//! three greetings), over HTTP/2 without TLS or with it, its messages
//! prost's.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Either};
use hyper::body::{Frame, Incoming};
use prost::Message;
use tokio::sync::mpsc;

use super::streams::{Body, Frames, Stats};

/// Whether `request` is a gRPC call.
pub fn is_call(request: &Request<Incoming>) -> bool {
    (request.headers().get(CONTENT_TYPE))
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/grpc"))
}

/// Answers a gRPC call: the greeter's methods, UNIMPLEMENTED (12) for any
/// other, INVALID_ARGUMENT (3) for a request that is not one message.
pub async fn answer(request: Request<Incoming>, stats: Arc<Stats>) -> Response<Body> {
    stats.grpc_calls.fetch_add(1, Ordering::Relaxed);
    let path = request.uri().path().to_string();
    let body = (request.into_body().collect().await)
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    let request = only_message(&body).and_then(|m| HelloRequest::decode(m).ok());
    let Some(HelloRequest { name }) = request else {
        return reply(&[], 3, "expected one HelloRequest");
    };
    match path.as_str() {
        "/helloworld.Greeter/SayHello" => reply(&[greeting(&format!("Hello, {name}!"))], 0, ""),
        "/helloworld.Greeter/SayHelloStream" => {
            let greetings: Vec<Bytes> = (0..3)
                .map(|n| greeting(&format!("Hello, {name} {n}!")))
                .collect();
            reply(&greetings, 0, "")
        }
        _ => reply(&[], 12, &format!("no method {path}")),
    }
}

/// The one framed message of a request body.
fn only_message(body: &[u8]) -> Option<&[u8]> {
    let (&[flag, a, b, c, d], message) = body.split_first_chunk::<5>()?;
    let length = u32::from_be_bytes([a, b, c, d]) as usize;
    (flag == 0 && message.len() == length).then_some(message)
}

/// The greeter's request.
#[derive(Clone, PartialEq, prost::Message)]
struct HelloRequest {
    #[prost(string, tag = "1")]
    name: String,
}

/// The greeter's answer.
#[derive(Clone, PartialEq, prost::Message)]
struct HelloReply {
    #[prost(string, tag = "1")]
    message: String,
}

/// A `HelloReply` of `text`, framed.
fn greeting(text: &str) -> Bytes {
    let message = HelloReply {
        message: text.to_string(),
    }
    .encode_to_vec();
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(message.len() as u32);
    framed.put_slice(&message);
    framed.freeze()
}

/// An answer of `messages`, then trailers with `status` and `message`.
fn reply(messages: &[Bytes], status: u8, message: &str) -> Response<Body> {
    let (frames, receiver) = mpsc::channel(messages.len() + 1);
    for framed in messages {
        let _ = frames.try_send(Frame::data(framed.clone()));
    }
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from(u16::from(status)));
    if let Ok(message) = HeaderValue::from_str(message) {
        trailers.insert("grpc-message", message);
    }
    let _ = frames.try_send(Frame::trailers(trailers));
    let mut response = Response::new(Either::Right(Frames(receiver)));
    (response.headers_mut()).insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_are_framed_and_requests_taken_whole() {
        let framed = greeting("hi");
        assert_eq!(&framed[..], &[0, 0, 0, 0, 4, 0x0a, 2, b'h', b'i']);
        assert_eq!(only_message(&framed), Some(&framed[5..]));
        assert_eq!(only_message(&framed[..6]), None);
    }
}
