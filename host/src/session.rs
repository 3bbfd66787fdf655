//! HTTP as the host performs it: one pooled client for the run, one session (cookies, default headers) per worker.

use std::time::{Duration, Instant};

use bytes::Bytes;
use cookie_store::{CookieStore, RawCookie};
use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use url::Url;

use crate::component::bindings::{HttpError, Request, Response, SessionOptions};
use crate::metrics::{Recorder, RequestOutcome};

/// Redirects a session follows unless its `setup` says otherwise.
const DEFAULT_MAX_REDIRECTS: u8 = 10;

/// The run's HTTP client: a keep-alive connection pool (HTTP/1.1, and HTTP/2
/// over TLS by ALPN), the `--target` base URL and the `--allow-host` list.
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    target: Option<Url>,
    allowed_hosts: Vec<String>,
    timeout: Duration,
}

/// One worker's session: default headers, cookie jar, timeout and redirects.
pub struct SessionState {
    headers: HeaderMap,
    cookies: CookieStore,
    timeout: Option<Duration>,
    max_redirects: u8,
}

impl Default for SessionState {
    fn default() -> Self {
        Self {
            headers: HeaderMap::new(),
            cookies: CookieStore::default(),
            timeout: None,
            max_redirects: DEFAULT_MAX_REDIRECTS,
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
    pub fn new(target: Option<Url>, allowed_hosts: Vec<String>, timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        let allowed_hosts = allowed_hosts
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        Self {
            client,
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
    ) -> Result<Response, HttpError> {
        let timeout = req
            .timeout_ms
            .map(|ms| Duration::from_millis(ms.into()))
            .or(session.timeout)
            .unwrap_or(self.timeout);
        let deadline = tokio::time::Instant::now() + timeout;
        let started = Instant::now();
        let mut url = self.resolve(&req.url).inspect_err(|e| {
            recorder.request(
                &req.url,
                RequestOutcome::Error(error_kind(e)),
                Duration::ZERO,
            )
        })?;
        let mut method = Method::from_bytes(req.method.as_bytes())
            .map_err(|_| HttpError::InvalidRequest(format!("invalid method {:?}", req.method)))?;
        let mut body = req.body.clone().map(Bytes::from);
        for _hop in 0..=session.max_redirects {
            let name = match &req.name {
                Some(name) => name.clone(),
                None => format!("{method} {}", url.path()),
            };
            let hop_started = Instant::now();
            let result = match self.build(session, req, &method, &url, body.clone()) {
                Ok(request) => {
                    match tokio::time::timeout_at(deadline, self.exchange(request)).await {
                        Ok(result) => result,
                        Err(_) => Err(HttpError::Timeout),
                    }
                }
                Err(error) => Err(error),
            };
            let elapsed = hop_started.elapsed();
            let (parts, bytes) = match result {
                Ok(exchange) => exchange,
                Err(error) => {
                    recorder.request(&name, RequestOutcome::Error(error_kind(&error)), elapsed);
                    return Err(error);
                }
            };
            recorder.request(
                &name,
                RequestOutcome::Status(parts.status.as_u16()),
                elapsed,
            );
            store_cookies(session, &parts.headers, &url);
            if let Some(next) = redirect_target(&parts.status, &parts.headers, &url) {
                if parts.status == StatusCode::SEE_OTHER
                    || (matches!(parts.status.as_u16(), 301 | 302) && method == Method::POST)
                {
                    method = Method::GET;
                    body = None;
                }
                url = next;
                continue;
            }
            return Ok(Response {
                status: parts.status.as_u16(),
                headers: parts
                    .headers
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: bytes.to_vec(),
                url: url.into(),
                elapsed_us: started.elapsed().as_micros() as u64,
            });
        }
        recorder.request(
            &req.url,
            RequestOutcome::Error("too-many-redirects"),
            Duration::ZERO,
        );
        Err(HttpError::TooManyRedirects)
    }

    /// The cookies `session` would send to `url`.
    pub fn cookies(&self, session: &SessionState, url: &str) -> Vec<(String, String)> {
        match self.resolve(url) {
            Ok(url) => session
                .cookies
                .get_request_values(&url)
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Parses `url`, resolving a relative one against `--target`, and checks
    /// it against the allow-list.
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
        self.check_allowed(&parsed)?;
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

    fn build(
        &self,
        session: &SessionState,
        req: &Request,
        method: &Method,
        url: &Url,
        body: Option<Bytes>,
    ) -> Result<http::Request<Full<Bytes>>, HttpError> {
        self.check_allowed(url)?;
        let invalid = |e: &dyn std::fmt::Display| HttpError::InvalidRequest(e.to_string());
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(url.as_str())
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| invalid(&e))?;
        let headers = request.headers_mut();
        headers.extend(session.headers.iter().map(|(n, v)| (n.clone(), v.clone())));
        for (name, value) in &req.headers {
            let name = HeaderName::try_from(name.as_str()).map_err(|e| invalid(&e))?;
            let value = HeaderValue::try_from(value.as_str()).map_err(|e| invalid(&e))?;
            headers.insert(name, value);
        }
        let cookies: Vec<String> = session
            .cookies
            .get_request_values(url)
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        if !cookies.is_empty() {
            let value = HeaderValue::try_from(cookies.join("; ")).map_err(|e| invalid(&e))?;
            headers.insert(COOKIE, value);
        }
        Ok(request)
    }

    async fn exchange(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<(http::response::Parts, Bytes), HttpError> {
        let response = self.client.request(request).await.map_err(|e| {
            if e.is_connect() {
                HttpError::Connect(chain(&e))
            } else {
                HttpError::Protocol(chain(&e))
            }
        })?;
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| HttpError::Protocol(chain(&e)))?
            .to_bytes();
        Ok((parts, bytes))
    }
}

fn store_cookies(session: &mut SessionState, headers: &HeaderMap, url: &Url) {
    let cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| RawCookie::parse(v.to_string()).ok());
    session.cookies.store_response_cookies(cookies, url);
}

fn redirect_target(status: &StatusCode, headers: &HeaderMap, url: &Url) -> Option<Url> {
    if !status.is_redirection() || *status == StatusCode::NOT_MODIFIED {
        return None;
    }
    let location = headers.get(LOCATION)?.to_str().ok()?;
    url.join(location).ok()
}

/// An error and its sources, on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
