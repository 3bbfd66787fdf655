//! A response read as it comes ([`HttpClient::open_stream`]): its head as
//! soon as it arrives (observed then, with its time to first byte), then its
//! body chunk by chunk or as server-sent events, each read with a timeout of
//! its own. The request goes through the same resolution, allow-list,
//! session headers and cookies, dial and TLS as any, on a connection of its
//! own in HTTP/1.1, spoken by hyper's client (chunked and length-delimited
//! bodies, trailers): ours reads whole bodies, and a stream's is read in
//! the scenario's own time. No redirect is followed: a 3xx is the answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use http::header::HOST;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;
use url::{Position, Url};

use crate::client::HttpClient;
use crate::connection::open_http1;
use crate::error::{Error, one_line};
use crate::headers::ResponseHeaders;
use crate::message::{HopOutcome, Observer, Request};
use crate::origin::Origin;
use crate::round_trip::Outgoing;
use crate::session::Session;
use crate::sse::{SseEvent, SseParser};

/// A response whose head has arrived and whose body is read as it comes.
pub struct StreamingResponse {
    pub status: u16,
    pub headers: ResponseHeaders,
    pub url: Arc<Url>,
    /// The name it was reported under.
    pub name: String,
    /// The request's timeout: a read's default.
    pub timeout: Duration,
    /// From the request's start (connecting included) to its response's head.
    pub time_to_first_byte: Duration,
    body: Incoming,
    _connection: Driver,
    max_body: usize,
    received: usize,
    events: SseParser,
    /// Why the body can no longer be read, once an error other than a
    /// timeout ended it.
    ended: Option<Error>,
}

/// The task driving the stream's connection, ended with the stream.
struct Driver(JoinHandle<()>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl HttpClient {
    /// Sends `req` on a connection of its own and returns when the head of
    /// its response arrives; cookies it sets are kept in `session`.
    /// `observer` sees the request then, with its time to first byte.
    pub async fn open_stream(
        &self,
        session: &mut Session,
        req: &Request<'_>,
        observer: &impl Observer,
    ) -> Result<StreamingResponse, Error> {
        let timeout = req.timeout.or(session.timeout).unwrap_or(self.timeout);
        let (url, default_name, method) = self.prepare(session, req, observer)?;
        let name = req.name.unwrap_or(&default_name);
        let started = Instant::now();
        let body = req.body.map(Bytes::copy_from_slice);
        let result = match self.build(session, req, &method, &url, body, true) {
            Ok(request) => tokio::time::timeout(timeout, self.exchange(request))
                .await
                .unwrap_or(Err(Error::Timeout)),
            Err(error) => Err(error),
        };
        let time_to_first_byte = started.elapsed();
        let wire = Some((&method, &*url));
        let (head, body, connection) = match result {
            Ok(answer) => answer,
            Err(error) => {
                let outcome = HopOutcome::of_error(&error);
                observer.hop(name, wire, outcome, time_to_first_byte);
                return Err(error);
            }
        };
        let status = head.status.as_u16();
        observer.hop(name, wire, HopOutcome::Status(status), time_to_first_byte);
        let headers = ResponseHeaders::Map(head.headers);
        session.store_cookies(&headers, &url);
        Ok(StreamingResponse {
            status,
            headers,
            url,
            name: name.to_string(),
            timeout,
            time_to_first_byte,
            body,
            _connection: connection,
            max_body: self.dial.max_body,
            received: 0,
            events: SseParser::new(self.dial.max_body),
            ended: None,
        })
    }

    /// Connects, sends `request` and reads its response's head.
    async fn exchange(
        &self,
        request: Outgoing<'_>,
    ) -> Result<(http::response::Parts, Incoming, Driver), Error> {
        let url = request.url;
        let origin = Origin::of(url);
        let io = open_http1(&origin, &self.dial).await?;
        let (mut sender, connection) = http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| origin.connect_error(e))?;
        let driver = Driver(tokio::spawn(async move {
            let _ = connection.await;
        }));
        let invalid = |e: &dyn std::fmt::Display| Error::InvalidRequest(e.to_string());
        let mut http_request = http::Request::builder()
            .method(request.method.clone())
            .uri(&url[Position::BeforePath..Position::AfterQuery])
            .body(Full::new(request.body))
            .map_err(|e| invalid(&e))?;
        let headers = http_request.headers_mut();
        *headers = request.headers;
        if !headers.contains_key(HOST) {
            let authority = &url[Position::BeforeHost..Position::AfterPort];
            let host = HeaderValue::from_str(authority).map_err(|e| invalid(&e))?;
            headers.insert(HOST, host);
        }
        let response =
            (sender.send_request(http_request).await).map_err(|e| Error::Protocol(one_line(&e)))?;
        crate::policy::check_status(response.status().as_u16()).map_err(Error::Protocol)?;
        let (head, body) = response.into_parts();
        Ok((head, body, driver))
    }
}

impl StreamingResponse {
    /// The body's next bytes as they came, `None` at its end, waiting at
    /// most `timeout`; more than the client's body limit in all fails.
    pub async fn chunk(&mut self, timeout: Duration) -> Result<Option<Bytes>, Error> {
        let chunk = self.next_data(timeout).await?;
        if let Some(data) = &chunk {
            self.received = self.received.saturating_add(data.len());
            if self.received > self.max_body {
                return self.fail(Error::BodyTooLarge {
                    limit: self.max_body,
                });
            }
        }
        Ok(chunk)
    }

    /// The next server-sent event, `None` at the end of the body (an event
    /// not ended by an empty line is dropped then), waiting at most
    /// `timeout`; one event over the client's body limit fails, however
    /// long the stream. Read a body by events or by chunks, not both.
    pub async fn event(&mut self, timeout: Duration) -> Result<Option<SseEvent>, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(event) = self.events.next() {
                return Ok(Some(event));
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(data) = self.next_data(left).await? else {
                return Ok(None);
            };
            if let Err(error) = self.events.push(&data) {
                return self.fail(error);
            }
        }
    }

    /// The body's next bytes; a timeout leaves the stream readable.
    async fn next_data(&mut self, timeout: Duration) -> Result<Option<Bytes>, Error> {
        if let Some(error) = &self.ended {
            return Err(error.clone());
        }
        let body = &mut self.body;
        let read = async {
            loop {
                match body.frame().await {
                    None => return Ok(None),
                    Some(Err(error)) => return Err(Error::Protocol(one_line(&error))),
                    // Trailers are skipped, as are empty chunks.
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data()
                            && !data.is_empty()
                        {
                            return Ok(Some(data));
                        }
                    }
                }
            }
        };
        match tokio::time::timeout(timeout, read).await {
            Err(_) => Err(Error::Timeout),
            Ok(Err(error)) => self.fail(error),
            Ok(Ok(data)) => Ok(data),
        }
    }

    fn fail<T>(&mut self, error: Error) -> Result<T, Error> {
        self.ended = Some(error.clone());
        Err(error)
    }
}
