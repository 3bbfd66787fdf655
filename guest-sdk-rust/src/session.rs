//! The worker's HTTP session, with a friendly request builder and response checks.

use std::cell::OnceCell;

use crate::bindings::molotov::scenario::http::{self as wit, HttpError};
use crate::error::{Error, Result};

/// The worker's HTTP session. The host performs, times and reports every
/// request; cookies and default headers persist across the worker's runs.
pub struct Session<'a>(&'a wit::Session);

impl<'a> Session<'a> {
    #[doc(hidden)]
    pub fn from_host(session: &'a wit::Session) -> Self {
        Self(session)
    }

    pub(crate) fn host(&self) -> &'a wit::Session {
        self.0
    }

    /// `GET url`. A relative `url` resolves against the run's `--target`.
    pub fn get(&self, url: &str) -> Result<Response> {
        self.send_param(Request::param("GET", url, None))
    }

    /// `POST url` with a body.
    pub fn post(&self, url: &str, body: impl AsRef<[u8]>) -> Result<Response> {
        self.send_param(Request::param("POST", url, Some(body.as_ref())))
    }

    /// `POST url` with a JSON body and its content type.
    pub fn post_json(&self, url: &str, value: &serde_json::Value) -> Result<Response> {
        self.send(Request::new("POST", url).json(value))
    }

    /// `PUT url` with a body.
    pub fn put(&self, url: &str, body: impl AsRef<[u8]>) -> Result<Response> {
        self.send_param(Request::param("PUT", url, Some(body.as_ref())))
    }

    /// `DELETE url`.
    pub fn delete(&self, url: &str) -> Result<Response> {
        self.send_param(Request::param("DELETE", url, None))
    }

    /// Sends a request built with [`Request`].
    pub fn send(&self, request: Request) -> Result<Response> {
        request.with_param(|param| self.send_param(param))
    }

    /// Sends a request that borrows all it holds: the host copies it out of
    /// the component's memory, so nothing is copied inside it.
    fn send_param(&self, request: wit::RequestParam) -> Result<Response> {
        let (method, url) = (request.method, request.url);
        answer(self.0.send(request), method, url)
    }

    /// Sets a default header for every later request of this session.
    pub fn set_header(&self, name: &str, value: &str) -> Result<()> {
        (self.0.set_header(name, value))
            .map_err(|e| Error::msg(format!("set_header {name:?}: {}", what(&e))))
    }

    /// The cookies this session holds for `url`.
    pub fn cookies(&self, url: &str) -> Vec<(String, String)> {
        self.0.cookies(url)
    }
}

/// The host's reply as the scenario sees it: an error names the request.
pub(crate) fn answer(
    reply: std::result::Result<wit::Reply, HttpError>,
    method: &str,
    url: &str,
) -> Result<Response> {
    reply
        .map(Response::new)
        .map_err(|e| Error::msg(format!("{method} {url}: {}", what(&e))))
}

/// What went wrong, in words.
pub(crate) fn what(error: &HttpError) -> String {
    match error {
        HttpError::InvalidUrl(m) => format!("invalid URL: {m}"),
        HttpError::HostNotAllowed(h) => format!("host not allowed: {h}"),
        HttpError::InvalidRequest(m) => format!("invalid request: {m}"),
        HttpError::Connect(m) => format!("connection failed: {m}"),
        HttpError::Timeout => "timed out".to_string(),
        HttpError::TooManyRedirects => "too many redirects".to_string(),
        HttpError::Protocol(m) => format!("protocol error: {m}"),
        HttpError::BodyTooLarge(limit) => {
            format!("response body over the limit of {limit} bytes")
        }
    }
}

/// A request under construction.
pub struct Request {
    pub(crate) method: String,
    pub(crate) url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout_ms: Option<u32>,
    name: Option<String>,
    max_redirects: Option<u8>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: &str, url: &str) -> Self {
        Self {
            method: method.to_string(),
            url: url.to_string(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            name: None,
            max_redirects: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets a JSON body and its content type.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    /// Overrides the session's timeout for this request.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// Overrides the session's redirect limit for this request (0: a
    /// redirect is the response).
    pub fn max_redirects(mut self, max: u8) -> Self {
        self.max_redirects = Some(max);
        self
    }

    /// Reports this request under `name` instead of `METHOD /path`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Calls `send` with this request as the contract takes it, borrowed.
    pub(crate) fn with_param<T>(&self, send: impl FnOnce(wit::RequestParam) -> T) -> T {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        send(wit::RequestParam {
            headers: &headers,
            timeout_ms: self.timeout_ms,
            name: self.name.as_deref(),
            max_redirects: self.max_redirects,
            ..Request::param(&self.method, &self.url, self.body.as_deref())
        })
    }

    /// A request with no headers, as the contract takes it.
    pub(crate) fn param<'a>(
        method: &'a str,
        url: &'a str,
        body: Option<&'a [u8]>,
    ) -> wit::RequestParam<'a> {
        wit::RequestParam {
            method,
            url,
            headers: &[],
            body,
            timeout_ms: None,
            name: None,
            max_redirects: None,
        }
    }
}

/// A complete response. The host keeps it: headers and body are copied into
/// the scenario only when asked for (the body once, then kept).
pub struct Response {
    inner: wit::Response,
    status: u16,
    body: OnceCell<Vec<u8>>,
}

impl Response {
    fn new(reply: wit::Reply) -> Self {
        Self {
            inner: reply.response,
            status: reply.status,
            body: reply.body.map_or_else(OnceCell::new, OnceCell::from),
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Fails unless the status is `expected`.
    pub fn expect_status(self, expected: u16) -> Result<Self> {
        if self.status != expected {
            return Err(Error::msg(format!(
                "{}: expected status {expected}, got {}",
                self.url(),
                self.status
            )));
        }
        Ok(self)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.inner.header(name)
    }

    /// Every header, in the order received.
    pub fn headers(&self) -> Vec<(String, String)> {
        self.inner.headers()
    }

    /// The raw body.
    pub fn bytes(&self) -> &[u8] {
        self.body.get_or_init(|| self.inner.body())
    }

    /// The body as text (invalid UTF-8 is replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(self.bytes())
            .map_err(|e| Error::msg(format!("{}: body is not JSON: {e}", self.url())))
    }

    /// The final URL, after redirects.
    pub fn url(&self) -> String {
        self.inner.url()
    }

    /// Time from sending the request to its last byte, as measured by the host.
    pub fn elapsed_us(&self) -> u64 {
        self.inner.elapsed_us()
    }
}
