//! Sending a request on a session: resolving its URL, the allow-list, its
//! timeout, redirects, cookies, and one retry on a stale kept-alive connection.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{COOKIE, LOCATION};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio::time::Sleep;
use url::Url;

use crate::connection::Connection;
use crate::dial::{ConnectTo, Dial};
use crate::egress::EgressPolicy;
use crate::error::Error;
use crate::headers::ResponseHead;
use crate::manifest::EgressLog;
use crate::message::{HopOutcome, HopPhases, Observer, Request, Response};
use crate::origin::Origin;
use crate::policy;
use crate::round_trip::{AttemptError, Outgoing};
use crate::session::{Resolved, Session, SharedSession, lock};
use crate::ws_limits::WsLimits;

/// What every session of the run shares: the `--target` base URL, the
/// `--allow-host` list, the default timeout, and how connections are opened
/// (TLS, HTTP/2 by ALPN, `--connect-to`, the egress policy and manifest).
pub struct HttpClient {
    target: Option<Url>,
    allowed_hosts: Vec<String>,
    pub(crate) timeout: Duration,
    pub(crate) dial: Dial,
    pub(crate) websocket_limits: WsLimits,
    /// The most messages a gRPC answer may carry.
    pub(crate) grpc_max_messages: usize,
    /// The most connections a session uses at once, per worker it stands for.
    max_connections: usize,
}

/// Distinct destinations the egress manifest keeps unless told otherwise.
const DEFAULT_MANIFEST_LIMIT: usize = 1000;

impl HttpClient {
    /// A client for `target` (relative URLs resolve against it), to the
    /// `allowed_hosts` only (all when empty), with a default `timeout` per
    /// request and responses of at most `max_body` bytes.
    pub fn new(
        target: Option<Url>,
        allowed_hosts: Vec<String>,
        timeout: Duration,
        max_body: usize,
        tls: Arc<rustls::ClientConfig>,
    ) -> Self {
        let allowed_hosts = allowed_hosts
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let mut tls_http1 = (*tls).clone();
        tls_http1.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            target,
            allowed_hosts,
            timeout,
            dial: Dial {
                connect_to: Vec::new(),
                egress: EgressPolicy::default(),
                log: EgressLog::new(DEFAULT_MANIFEST_LIMIT),
                tls,
                tls_http1: Arc::new(tls_http1),
                max_body,
                phases: false,
            },
            websocket_limits: WsLimits::for_max_body(max_body),
            grpc_max_messages: Self::DEFAULT_GRPC_MAX_MESSAGES as usize,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS as usize,
        }
    }

    /// Connections a worker's session uses at once unless told otherwise:
    /// as many as a browser opens to one host.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 6;

    /// Bounds the connections a session uses at once (and keeps), per
    /// worker it stands for; more concurrent requests wait for one.
    pub fn with_max_connections(mut self, limit: usize) -> Self {
        self.max_connections = limit.max(1);
        self
    }

    /// The messages a gRPC answer may carry unless the client is told otherwise.
    pub const DEFAULT_GRPC_MAX_MESSAGES: u32 = 10_000;

    /// Times each answered request's phases for the observer
    /// ([`Observer::phases`]): a few clock reads more per request.
    pub fn with_phases(mut self, phases: bool) -> Self {
        self.dial.phases = phases;
        self
    }

    /// Bounds the messages a gRPC answer may carry.
    pub fn with_grpc_max_messages(mut self, limit: usize) -> Self {
        self.grpc_max_messages = limit;
        self
    }

    /// Bounds what a WebSocket's server may send (by default, messages and
    /// frames of at most `max_body` bytes, 100 000 frames a second).
    pub fn with_websocket_limits(mut self, limits: WsLimits) -> Self {
        self.websocket_limits = limits;
        self
    }

    /// Sends the connections of origins that `rules` match elsewhere.
    pub fn with_connect_to(mut self, rules: Vec<ConnectTo>) -> Self {
        self.dial.connect_to = rules;
        self
    }

    /// Connects only where `policy` allows; the manifest keeps at most
    /// `manifest_limit` distinct destinations in each of its lists.
    pub fn with_egress(mut self, policy: EgressPolicy, manifest_limit: usize) -> Self {
        self.dial.egress = policy;
        self.dial.log = EgressLog::new(manifest_limit);
        self
    }

    /// What the run's connections touched, and what the policy refused.
    pub fn egress_log(&self) -> &EgressLog {
        &self.dial.log
    }

    /// Sends `req` on `session`, following redirects; `observer` sees each
    /// hop. The session is locked only between steps: concurrent requests
    /// each take a connection of its pool (and wait for one past
    /// `--max-connections`).
    pub async fn send(
        &self,
        session: &SharedSession,
        req: &Request<'_>,
        observer: &impl Observer,
    ) -> Result<Response, Error> {
        let (prepared, timeout, max_redirects, slots, timer) = {
            let mut held = lock(session).await;
            let prepared = self.prepare(&mut held, req, observer);
            let timeout = req.timeout.or(held.timeout).unwrap_or(self.timeout);
            let max_redirects = req.max_redirects.unwrap_or(held.max_redirects);
            let slots = held.slots(self.max_connections);
            (prepared, timeout, max_redirects, slots, held.timer.take())
        };
        let mut timer = LentTimer { session, timer };
        let (mut url, mut default_name, mut method) = prepared?;
        let _slot = slots
            .acquire()
            .await
            .expect("a session's slots are never closed");
        let mut body = req.body.map(Bytes::copy_from_slice);
        // Cleared for good once a redirect leaves the first request's origin.
        let mut credentials = true;
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started) + timeout;
        let mut hop: u8 = 0;
        loop {
            if hop > 0 {
                default_name = name_of(method.as_str(), &url);
            }
            let name = req.name.unwrap_or(&default_name);
            let hop_started = if hop == 0 { started } else { Instant::now() };
            let (request, idle) = {
                let mut held = lock(session).await;
                match self.build(&held, req, &method, &url, body.clone(), credentials) {
                    Ok(request) => (Ok(request), held.checkout(&url)),
                    Err(error) => (Err(error), None),
                }
            };
            let result = match request {
                // Past the deadline, the hop's future and its connection,
                // whose state is unknown mid-exchange, are dropped.
                Ok(request) => within(
                    &mut timer.timer,
                    deadline,
                    pin!(self.send_hop(idle, &url, request)),
                )
                .await
                .unwrap_or(Err(Error::Timeout)),
                Err(error) => Err(error),
            };
            let hop_ended = Instant::now();
            let elapsed = hop_ended - hop_started;
            let wire = Some((&method, &*url));
            let (head, bytes, phases) = match result {
                Ok((head, bytes, phases, connection)) => {
                    let mut held = lock(session).await;
                    held.checkin(connection, self.max_connections);
                    held.store_cookies(&head.headers, &url);
                    (head, bytes, phases)
                }
                Err(error) => {
                    observer.hop(name, wire, HopOutcome::of_error(&error), elapsed);
                    return Err(error);
                }
            };
            // With following off (0) a redirect is the answer; past the
            // limit, it is an error, counted on this last hop (the one the
            // server saw), not on a request that never went out.
            let next = match max_redirects {
                0 => Ok(None),
                _ => redirect_target(&head, &url),
            };
            let too_many = matches!(next, Ok(Some(_))) && hop == max_redirects;
            let outcome = match &next {
                Err(error) => HopOutcome::of_error(error),
                Ok(Some(_)) if too_many => HopOutcome::of_error(&Error::TooManyRedirects),
                Ok(_) => HopOutcome::Status(head.status.as_u16()),
            };
            observer.hop(name, wire, outcome, elapsed);
            if let Some(phases) = &phases {
                observer.phases(name, phases);
            }
            if too_many {
                return Err(Error::TooManyRedirects);
            }
            if let Some(next) = next? {
                credentials &= policy::same_origin(&url, &next);
                if head.status == StatusCode::SEE_OTHER
                    || (matches!(head.status.as_u16(), 301 | 302) && method == Method::POST)
                {
                    method = Method::GET;
                    body = None;
                }
                url = Arc::new(next);
                hop += 1;
                continue;
            }
            return Ok(Response {
                status: head.status.as_u16(),
                headers: head.headers,
                body: bytes,
                url,
                elapsed: hop_ended - started,
                phases,
            });
        }
    }

    /// `req`'s URL resolved, its default name and its method; an error
    /// refused before any hop is observed all the same.
    pub(crate) fn prepare(
        &self,
        session: &mut Session,
        req: &Request,
        observer: &impl Observer,
    ) -> Result<(Arc<Url>, Arc<str>, Method), Error> {
        let prepared = self.resolve_cached(session, req).and_then(|(url, name)| {
            let method = Method::from_bytes(req.method.as_bytes())
                .map_err(|_| Error::InvalidRequest(format!("invalid method {:?}", req.method)))?;
            Ok((url, name, method))
        });
        prepared.map_err(|error| refused(observer, req.name.unwrap_or(req.url), error))
    }

    /// `req`'s URL resolved and its default name, from the session's last
    /// request when it was the same.
    fn resolve_cached(
        &self,
        session: &mut Session,
        req: &Request,
    ) -> Result<(Arc<Url>, Arc<str>), Error> {
        let last = match &session.last {
            Some(last) if last.is_for(req) => last,
            _ => {
                let url = self.resolve(req.url)?;
                let name = name_of(req.method, &url);
                session.last.insert(Resolved {
                    given: format!("{}{}", req.method, req.url),
                    method_len: req.method.len(),
                    url: Arc::new(url),
                    name,
                })
            }
        };
        Ok((Arc::clone(&last.url), Arc::clone(&last.name)))
    }

    /// The cookies `session` would send to `url`.
    /// Keeps a cookie in `session` as if `url` had set it with `set_cookie`
    /// (a `set-cookie` header's value).
    pub fn set_cookie(
        &self,
        session: &mut Session,
        url: &str,
        set_cookie: &str,
    ) -> Result<(), Error> {
        let url = self.resolve(url)?;
        session.set_cookie(&url, set_cookie)
    }

    pub fn cookies(&self, session: &Session, url: &str) -> Vec<(String, String)> {
        match (&session.cookies, self.resolve(url)) {
            (Some(jar), Ok(url)) => jar
                .get_request_values(&url)
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Parses `url`, resolving a relative one against `--target`. (The
    /// allow-list is checked where each hop's request is built.)
    /// The name a request to `url` is reported under when it gives none,
    /// `METHOD /path` (the URL as given when it does not resolve): for a
    /// caller that refuses one before the client sees it.
    pub fn default_name(&self, method: &str, url: &str) -> String {
        match self.join_target(url) {
            Ok((resolved, _)) => name_of(method, &resolved).to_string(),
            Err(_) => format!("{method} {url}"),
        }
    }

    fn resolve(&self, url: &str) -> Result<Url, Error> {
        let (parsed, _) = self.join_target(url)?;
        policy::check_scheme(&parsed, url)?;
        Ok(parsed)
    }

    /// Parses a WebSocket's `url`: `ws` or `wss`, or relative to `--target`
    /// with `http` made `ws` and `https` made `wss`.
    pub(crate) fn resolve_websocket(&self, url: &str) -> Result<Url, Error> {
        let (mut parsed, relative) = self.join_target(url)?;
        let scheme = match parsed.scheme() {
            "http" if relative => "ws",
            "https" if relative => "wss",
            "ws" | "wss" => return Ok(parsed),
            _ => {
                return Err(Error::InvalidUrl(format!(
                    "{url}: a WebSocket's URL is ws, wss or relative to --target"
                )));
            }
        };
        parsed
            .set_scheme(scheme)
            .map_err(|()| Error::InvalidUrl(format!("{url}: cannot be made {scheme}")))?;
        Ok(parsed)
    }

    /// `url` parsed, and whether it was relative to `--target`.
    fn join_target(&self, url: &str) -> Result<(Url, bool), Error> {
        match Url::parse(url) {
            Ok(absolute) => Ok((absolute, false)),
            Err(url::ParseError::RelativeUrlWithoutBase) => match &self.target {
                Some(base) => base
                    .join(url)
                    .map(|joined| (joined, true))
                    .map_err(|e| Error::InvalidUrl(format!("{url}: {e}"))),
                None => Err(Error::InvalidUrl(format!(
                    "{url} is relative and no --target is set"
                ))),
            },
            Err(e) => Err(Error::InvalidUrl(format!("{url}: {e}"))),
        }
    }

    fn check_allowed(&self, url: &Url) -> Result<(), Error> {
        if self.allowed_hosts.is_empty() {
            return Ok(());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host_port = format!("{host}:{}", url.port_or_known_default().unwrap_or_default());
        if self
            .allowed_hosts
            .iter()
            .any(|allowed| *allowed == host || *allowed == host_port)
        {
            Ok(())
        } else {
            Err(Error::HostNotAllowed(host_port))
        }
    }

    /// The request of one hop: the allow-list checked, the session's headers
    /// (credentials only while `credentials`), `req`'s, and the jar's cookies.
    pub(crate) fn build<'a>(
        &self,
        session: &Session,
        req: &Request,
        method: &'a Method,
        url: &'a Url,
        body: Option<Bytes>,
        credentials: bool,
    ) -> Result<Outgoing<'a>, Error> {
        self.check_allowed(url)?;
        let invalid = |e: &dyn std::fmt::Display| Error::InvalidRequest(e.to_string());
        let mut request = Outgoing {
            method,
            url,
            headers: HeaderMap::new(),
            body: body.unwrap_or_default(),
        };
        let headers = &mut request.headers;
        let sent = |name: &HeaderName| credentials || !policy::is_credential(name);
        headers.extend(
            (session.headers.iter())
                .filter(|(name, _)| sent(name))
                .map(|(n, v)| (n.clone(), v.clone())),
        );
        for (name, value) in req.headers {
            let name = HeaderName::try_from(name.as_str()).map_err(|e| invalid(&e))?;
            policy::check_settable(&name)?;
            if !sent(&name) {
                continue;
            }
            let value = HeaderValue::try_from(value.as_str()).map_err(|e| invalid(&e))?;
            headers.insert(name, value);
        }
        let jar: Vec<String> = (session.cookies.iter())
            .flat_map(|jar| jar.get_request_values(url))
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        if !jar.is_empty() {
            // The jar's cookies join those the scenario set itself (as curl's
            // `-b` and a cookie jar do), after them.
            let given = (headers.get(COOKIE)).and_then(|v| v.to_str().ok().map(str::to_string));
            let cookies: Vec<String> = given.into_iter().chain(jar).collect();
            let value = HeaderValue::try_from(cookies.join("; ")).map_err(|e| invalid(&e))?;
            headers.insert(COOKIE, value);
        }
        Ok(request)
    }

    /// One hop: a round trip on `idle` or a new connection to the origin,
    /// made again once on a new one if a kept-alive one turned out stale;
    /// with its phases when they are timed, and the connection to give back.
    async fn send_hop(
        &self,
        mut idle: Option<(Origin, Box<Connection>)>,
        url: &Url,
        request: Outgoing<'_>,
    ) -> Result<Answered, Error> {
        let mut last = AttemptError::Stale;
        for _attempt in 0..2 {
            let (origin, mut connection) = match idle.take() {
                Some(kept) => kept,
                None => {
                    let origin = Origin::of(url);
                    // Boxed: opening (TCP, TLS, handshake) is rare, and inline
                    // it would make every request's future kilobytes larger;
                    // the connection too, moved in and out of the pool.
                    let connection = Box::pin(Connection::open(&origin, &self.dial)).await?;
                    (origin, Box::new(connection))
                }
            };
            match connection.round_trip(&request).await {
                Ok((head, body)) => {
                    let phases = connection.take_phases();
                    return Ok((head, body, phases, (origin, connection)));
                }
                Err(AttemptError::Failed(error)) => return Err(error),
                Err(error) => last = error,
            }
        }
        Err(Error::Protocol(last.to_string()))
    }
}

/// A hop's answer: its head, body and phases, and the connection it came on.
type Answered = (
    ResponseHead,
    Bytes,
    Option<HopPhases>,
    (Origin, Box<Connection>),
);

/// The session's timer, lent to one request and given back when it ends if
/// the session has none by then.
struct LentTimer<'a> {
    session: &'a SharedSession,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Drop for LentTimer<'_> {
    fn drop(&mut self) {
        if let (Some(timer), Ok(mut held)) = (self.timer.take(), self.session.try_lock())
            && held.timer.is_none()
        {
            held.timer = Some(timer);
        }
    }
}

/// Observes `error` as a request refused before any hop, under `name`, and
/// returns it: counted as an error of the request all the same.
pub(crate) fn refused(observer: &impl Observer, name: &str, error: Error) -> Error {
    observer.hop(name, None, HopOutcome::of_error(&error), Duration::ZERO);
    error
}

/// Runs `future` until `deadline`; `None` if the deadline came first.
///
/// A session keeps one timer, moved only when it fires before the current
/// request's deadline: most requests end long before theirs, and arming and
/// dropping a timer for every request showed in profiles.
async fn within<F: Future>(
    timer: &mut Option<Pin<Box<Sleep>>>,
    deadline: tokio::time::Instant,
    mut future: Pin<&mut F>,
) -> Option<F::Output> {
    let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if timer.deadline() > deadline {
        timer.as_mut().reset(deadline);
    }
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        while timer.as_mut().poll(cx).is_ready() {
            if tokio::time::Instant::now() >= deadline {
                return Poll::Ready(None);
            }
            timer.as_mut().reset(deadline);
        }
        Poll::Pending
    })
    .await
}

/// The name a request is reported under unless the scenario names it.
pub(crate) fn name_of(method: &str, url: &Url) -> Arc<str> {
    Arc::from(format!("{method} {}", url.path()))
}

/// Where a redirect goes; an error if it leaves HTTP(S).
pub(crate) fn redirect_target(head: &ResponseHead, url: &Url) -> Result<Option<Url>, Error> {
    if !head.status.is_redirection() || head.status == StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    let Some(location) =
        (head.headers.get(LOCATION.as_str())).and_then(|value| std::str::from_utf8(value).ok())
    else {
        return Ok(None);
    };
    let Ok(next) = url.join(location) else {
        return Ok(None);
    };
    policy::check_scheme(&next, &format!("redirect to {location}"))?;
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One timer serves every request of a session: it fires late for none,
    /// whether it was set for an earlier request or a later one.
    #[tokio::test]
    async fn each_request_gets_its_own_deadline_from_the_one_timer() {
        let now = tokio::time::Instant::now;
        let mut timer = None;
        let never = || Box::pin(std::future::pending::<()>());
        let soon = now() + Duration::from_millis(30);
        assert_eq!(within(&mut timer, soon, never().as_mut()).await, None);
        assert!(now() >= soon);
        // Set for a deadline already past: moved, not fired early.
        let later = now() + Duration::from_millis(60);
        assert_eq!(within(&mut timer, later, pin!(async { 7 })).await, Some(7));
        assert_eq!(within(&mut timer, later, never().as_mut()).await, None);
        assert!(now() >= later);
        // Set for a later deadline than the next request's: brought forward.
        let far = now() + Duration::from_secs(60);
        assert_eq!(within(&mut timer, far, pin!(async { 8 })).await, Some(8));
        let near = now() + Duration::from_millis(30);
        assert_eq!(within(&mut timer, near, never().as_mut()).await, None);
        assert!(now() < far);
    }

    struct Unobserved;

    impl Observer for Unobserved {
        fn hop(&self, _: &str, _: Option<(&Method, &Url)>, _: HopOutcome, _: Duration) {}
    }

    /// Every request's future is allocated on the heap (by the caller): the
    /// states of rare paths (opening a connection, HTTP/2) are boxed apart so
    /// that it stays one small allocation.
    #[test]
    fn a_request_future_stays_small() {
        let tls = crate::tls::tls_config(&[]).expect("webpki roots load");
        let client = HttpClient::new(None, Vec::new(), Duration::from_secs(1), 1024, tls);
        let session = SharedSession::default();
        let request = Request {
            method: "GET",
            url: "/",
            headers: &[],
            body: None,
            timeout: None,
            name: None,
            max_redirects: None,
        };
        let future = client.send(&session, &request, &Unobserved);
        assert!(
            std::mem::size_of_val(&future) <= 2048,
            "{} bytes",
            std::mem::size_of_val(&future)
        );
    }
}
