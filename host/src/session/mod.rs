//! HTTP as the host performs it: each worker's session keeps its own keep-alive
//! connections, cookie jar and default headers.

mod connection;
mod headers;
mod http1;

use std::path::PathBuf;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cookie_store::{CookieStore, RawCookie};
use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::time::Sleep;
use url::Url;

use connection::{Connection, Failure, Origin};
use headers::ResponseHead;
pub use headers::ResponseHeaders;

use crate::component::bindings::{HttpError, Request, ResponseInfo, SessionOptions};
use crate::metrics::{Recorder, RequestOutcome};

/// Redirects a session follows unless its `setup` says otherwise.
const DEFAULT_MAX_REDIRECTS: u8 = 10;

/// A complete response, kept by the host while the guest holds its handle.
pub struct ResponseData {
    pub status: u16,
    pub headers: ResponseHeaders,
    pub body: Bytes,
    /// The final URL, after redirects.
    pub url: Arc<Url>,
    pub elapsed_us: u64,
}

impl ResponseData {
    /// What events report of it.
    pub fn info(&self) -> ResponseInfo {
        ResponseInfo {
            status: self.status,
            url: self.url.to_string(),
            elapsed_us: self.elapsed_us,
        }
    }

    /// Every header, names in lower case, in the order received.
    pub fn header_pairs(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(n, v)| (lossy(n).to_ascii_lowercase(), lossy(v)))
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(lossy)
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// TLS settings trusting webpki's roots and the CA certificates in `ca_files` (PEM).
pub fn tls_config(ca_files: &[PathBuf]) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = Vec::new();
    for path in ca_files {
        let certificates: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
            .map_err(|e| anyhow::anyhow!("cannot read --ca-cert {}: {e}", path.display()))?
            .collect();
        let certificates =
            certificates.map_err(|e| anyhow::anyhow!("--ca-cert {}: {e}", path.display()))?;
        if certificates.is_empty() {
            anyhow::bail!("--ca-cert {}: no PEM certificate in it", path.display());
        }
        roots.extend(certificates);
    }
    connection::tls_config(roots).map_err(|e| anyhow::anyhow!("--ca-cert: {e}"))
}

/// A request as a session built it, for a connection to write.
pub struct Outgoing<'a> {
    pub method: &'a Method,
    pub url: &'a Url,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What every session of the run shares: TLS settings (HTTP/2 by ALPN), the
/// `--target` base URL, the `--allow-host` list and the default timeout.
pub struct HttpClient {
    tls: Arc<rustls::ClientConfig>,
    target: Option<Url>,
    allowed_hosts: Vec<String>,
    timeout: Duration,
}

/// A worker's session, shared by its scenario calls and its guest's own
/// HTTP client (`wasi:http`); requests on one session take turns.
pub type SharedSession = Arc<tokio::sync::Mutex<SessionState>>;

/// One worker's session: default headers, cookie jar, timeout and redirects.
pub struct SessionState {
    connections: Vec<(Origin, Connection)>,
    /// Bounds each request's time; see [`within`].
    timer: Option<Pin<Box<Sleep>>>,
    headers: HeaderMap,
    /// Made at the first cookie a server sets: most sessions never hold one,
    /// and even an empty jar is memory to read and a lookup at every request.
    cookies: Option<Box<CookieStore>>,
    timeout: Option<Duration>,
    max_redirects: u8,
    /// The last URL a scenario sent to, resolved, with its default name: a
    /// scenario mostly repeats its requests, and parsing showed in profiles.
    last: Option<Resolved>,
}

/// A request's URL as the scenario gave it, resolved against `--target`, and
/// the name it is reported under unless the scenario names it.
struct Resolved {
    /// The method and the URL as given, one after the other: one string to
    /// compare (in memory that is cold at each request) rather than two.
    given: String,
    method_len: usize,
    /// Shared with the requests and responses that use it: not copied for each.
    url: Arc<Url>,
    name: Arc<str>,
}

impl Resolved {
    fn is_for(&self, req: &Request) -> bool {
        let (method, url) = self.given.split_at(self.method_len);
        method == req.method && url == req.url
    }
}

impl Default for SessionState {
    fn default() -> Self {
        Self {
            connections: Vec::new(),
            timer: None,
            headers: HeaderMap::new(),
            cookies: None,
            timeout: None,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            last: None,
        }
    }
}

impl SessionState {
    /// Sets a default header; an empty value removes it.
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), HttpError> {
        let name = HeaderName::try_from(name)
            .map_err(|e| HttpError::InvalidRequest(format!("header {name:?}: {e}")))?;
        if value.is_empty() {
            self.headers.remove(&name);
            return Ok(());
        }
        let value = HeaderValue::try_from(value)
            .map_err(|e| HttpError::InvalidRequest(format!("header {name}: {e}")))?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// An open connection to `url`'s origin, reused or newly made.
    async fn connection(
        &mut self,
        url: &Url,
        tls: &Arc<rustls::ClientConfig>,
    ) -> Result<&mut Connection, HttpError> {
        if let Some(index) = self
            .connections
            .iter()
            .position(|(origin, _)| origin.matches(url))
        {
            if self.connections[index].1.is_open() {
                return Ok(&mut self.connections[index].1);
            }
            self.connections.swap_remove(index);
        }
        let origin = Origin::of(url);
        // Boxed: opening (TCP, TLS, handshake) is rare, and inline it would make
        // every request's future several kilobytes to move.
        let connection = Box::pin(Connection::open(&origin, tls)).await?;
        self.connections.push((origin, connection));
        Ok(&mut self.connections.last_mut().expect("just pushed").1)
    }

    /// Forgets the connection to `url`'s origin, after an error left it in doubt.
    fn close(&mut self, url: &Url) {
        self.connections.retain(|(origin, _)| !origin.matches(url));
    }

    /// Applies the options a `setup` fixture returned.
    pub fn apply(&mut self, options: &SessionOptions) -> Result<(), HttpError> {
        for (name, value) in &options.headers {
            self.set_header(name, value)?;
        }
        if let Some(ms) = options.timeout_ms {
            self.timeout = Some(Duration::from_millis(ms.into()));
        }
        if let Some(max) = options.max_redirects {
            self.max_redirects = max;
        }
        Ok(())
    }
}

/// The short name of an error kind, as counted in the results.
pub fn error_kind(error: &HttpError) -> &'static str {
    match error {
        HttpError::InvalidUrl(_) => "invalid-url",
        HttpError::HostNotAllowed(_) => "host-not-allowed",
        HttpError::InvalidRequest(_) => "invalid-request",
        HttpError::Connect(_) => "connect",
        HttpError::Timeout => "timeout",
        HttpError::TooManyRedirects => "too-many-redirects",
        HttpError::Protocol(_) => "protocol",
    }
}

impl HttpClient {
    pub fn new(
        target: Option<Url>,
        allowed_hosts: Vec<String>,
        timeout: Duration,
        tls: Arc<rustls::ClientConfig>,
    ) -> Self {
        let allowed_hosts = allowed_hosts
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        Self {
            tls,
            target,
            allowed_hosts,
            timeout,
        }
    }

    /// Sends `req` on `session`, following redirects; each hop on the wire is
    /// recorded as one request.
    pub async fn send(
        &self,
        session: &mut SessionState,
        req: &Request,
        recorder: &Recorder,
    ) -> Result<ResponseData, HttpError> {
        let timeout = req
            .timeout_ms
            .map(|ms| Duration::from_millis(ms.into()))
            .or(session.timeout)
            .unwrap_or(self.timeout);
        let (mut url, mut default_name) = self.resolve_cached(session, req).inspect_err(|e| {
            recorder.request(
                &req.url,
                RequestOutcome::Error(error_kind(e)),
                Duration::ZERO,
            )
        })?;
        let mut method = Method::from_bytes(req.method.as_bytes())
            .map_err(|_| HttpError::InvalidRequest(format!("invalid method {:?}", req.method)))?;
        let mut body = req.body.clone().map(Bytes::from);
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started) + timeout;
        for hop in 0..=session.max_redirects {
            if hop > 0 {
                default_name = name_of(method.as_str(), &url);
            }
            let name = match &req.name {
                Some(name) => Arc::from(name.as_str()),
                None => Arc::clone(&default_name),
            };
            let hop_started = if hop == 0 { started } else { Instant::now() };
            let result = match self.build(session, req, &method, &url, body.clone()) {
                Ok(request) => {
                    let mut timer = session.timer.take();
                    let outcome = {
                        let exchange = pin!(self.exchange(session, &url, request));
                        within(&mut timer, deadline, exchange).await
                    };
                    session.timer = timer;
                    outcome.unwrap_or_else(|| {
                        // Mid-exchange, the connection's state is unknown.
                        session.close(&url);
                        Err(HttpError::Timeout)
                    })
                }
                Err(error) => Err(error),
            };
            let hop_ended = Instant::now();
            let elapsed = hop_ended - hop_started;
            let (head, bytes) = match result {
                Ok(exchange) => exchange,
                Err(error) => {
                    let outcome = RequestOutcome::Error(error_kind(&error));
                    recorder.request(&name, outcome, elapsed);
                    recorder.wire(method.as_str(), &url, outcome, elapsed);
                    return Err(error);
                }
            };
            let outcome = RequestOutcome::Status(head.status.as_u16());
            recorder.request(&name, outcome, elapsed);
            recorder.wire(method.as_str(), &url, outcome, elapsed);
            store_cookies(session, &head.headers, &url);
            if let Some(next) = redirect_target(&head, &url) {
                if head.status == StatusCode::SEE_OTHER
                    || (matches!(head.status.as_u16(), 301 | 302) && method == Method::POST)
                {
                    method = Method::GET;
                    body = None;
                }
                url = Arc::new(next);
                continue;
            }
            return Ok(ResponseData {
                status: head.status.as_u16(),
                headers: head.headers,
                body: bytes,
                url,
                elapsed_us: (hop_ended - started).as_micros() as u64,
            });
        }
        recorder.request(
            &req.url,
            RequestOutcome::Error("too-many-redirects"),
            Duration::ZERO,
        );
        Err(HttpError::TooManyRedirects)
    }

    /// `req`'s URL resolved and its default name, from the session's last
    /// request when it was the same.
    fn resolve_cached(
        &self,
        session: &mut SessionState,
        req: &Request,
    ) -> Result<(Arc<Url>, Arc<str>), HttpError> {
        let last = match &session.last {
            Some(last) if last.is_for(req) => last,
            _ => {
                let url = self.resolve(&req.url)?;
                let name = name_of(&req.method, &url);
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
    pub fn cookies(&self, session: &SessionState, url: &str) -> Vec<(String, String)> {
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
    fn resolve(&self, url: &str) -> Result<Url, HttpError> {
        let parsed = match Url::parse(url) {
            Ok(absolute) => absolute,
            Err(url::ParseError::RelativeUrlWithoutBase) => match &self.target {
                Some(base) => base
                    .join(url)
                    .map_err(|e| HttpError::InvalidUrl(format!("{url}: {e}")))?,
                None => {
                    return Err(HttpError::InvalidUrl(format!(
                        "{url} is relative and no --target is set"
                    )));
                }
            },
            Err(e) => return Err(HttpError::InvalidUrl(format!("{url}: {e}"))),
        };
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(HttpError::InvalidUrl(format!(
                "{url}: only http and https are supported"
            )));
        }
        Ok(parsed)
    }

    fn check_allowed(&self, url: &Url) -> Result<(), HttpError> {
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
            Err(HttpError::HostNotAllowed(host_port))
        }
    }

    fn build<'a>(
        &self,
        session: &SessionState,
        req: &Request,
        method: &'a Method,
        url: &'a Url,
        body: Option<Bytes>,
    ) -> Result<Outgoing<'a>, HttpError> {
        self.check_allowed(url)?;
        let invalid = |e: &dyn std::fmt::Display| HttpError::InvalidRequest(e.to_string());
        let mut request = Outgoing {
            method,
            url,
            headers: HeaderMap::new(),
            body: body.unwrap_or_default(),
        };
        let headers = &mut request.headers;
        headers.extend(session.headers.iter().map(|(n, v)| (n.clone(), v.clone())));
        for (name, value) in &req.headers {
            let name = HeaderName::try_from(name.as_str()).map_err(|e| invalid(&e))?;
            let value = HeaderValue::try_from(value.as_str()).map_err(|e| invalid(&e))?;
            headers.insert(name, value);
        }
        let cookies: Vec<String> = session
            .cookies
            .iter()
            .flat_map(|jar| jar.get_request_values(url))
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        if !cookies.is_empty() {
            let value = HeaderValue::try_from(cookies.join("; ")).map_err(|e| invalid(&e))?;
            headers.insert(COOKIE, value);
        }
        Ok(request)
    }

    /// One request and its whole response, retried once on a fresh
    /// connection if a kept-alive one closed before the request went out.
    async fn exchange(
        &self,
        session: &mut SessionState,
        url: &Url,
        request: Outgoing<'_>,
    ) -> Result<(ResponseHead, Bytes), HttpError> {
        for _attempt in 0..2 {
            let connection = session.connection(url, &self.tls).await?;
            match connection.exchange(&request).await {
                Ok(exchange) => return Ok(exchange),
                Err(Failure::Retry) => session.close(url),
                Err(Failure::Error(error)) => {
                    session.close(url);
                    return Err(error);
                }
            }
        }
        Err(HttpError::Protocol(
            "the server closed the connection before the request was sent".into(),
        ))
    }
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
fn name_of(method: &str, url: &Url) -> Arc<str> {
    Arc::from(format!("{method} {}", url.path()))
}

fn store_cookies(session: &mut SessionState, headers: &ResponseHeaders, url: &Url) {
    let mut cookies = headers
        .get_all(SET_COOKIE.as_str())
        .filter_map(|v| std::str::from_utf8(v).ok())
        .filter_map(|v| RawCookie::parse(v.to_string()).ok())
        .peekable();
    // Most responses set none: the jar is not even looked at.
    if cookies.peek().is_some() {
        session
            .cookies
            .get_or_insert_default()
            .store_response_cookies(cookies, url);
    }
}

fn redirect_target(head: &ResponseHead, url: &Url) -> Option<Url> {
    if !head.status.is_redirection() || head.status == StatusCode::NOT_MODIFIED {
        return None;
    }
    let location = std::str::from_utf8(head.headers.get(LOCATION.as_str())?).ok()?;
    url.join(location).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

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

    /// Every request's future is allocated on the heap (in `SessionLink::send`):
    /// the states of rare paths (opening a connection, HTTP/2) are boxed
    /// apart so that it stays one small allocation.
    #[test]
    fn a_request_future_stays_small() {
        let tls = tls_config(&[]).expect("webpki roots load");
        let client = HttpClient::new(None, Vec::new(), Duration::from_secs(1), tls);
        let mut session = SessionState::default();
        let request = Request {
            method: "GET".into(),
            url: "/".into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            name: None,
        };
        let recorder = Metrics::new(1, None).recorder(0);
        let future = client.send(&mut session, &request, &recorder);
        assert!(
            std::mem::size_of_val(&future) <= 2048,
            "{} bytes",
            std::mem::size_of_val(&future)
        );
    }
}
