//! One worker's session: its connections (a small pool per origin, so that
//! concurrent requests do not wait for each other), default headers, cookie
//! jar, timeout and redirect limit.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{MutexGuard, Semaphore};

use cookie_store::{CookieStore, RawCookie};
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Sleep;
use url::Url;

use crate::connection::{Channel, Connection};
use crate::dial::Dial;
use crate::error::Error;
use crate::headers::ResponseHeaders;
use crate::message::{Request, SessionOptions};
use crate::origin::Origin;
use crate::policy;

/// Redirects a session follows unless its options say otherwise.
const DEFAULT_MAX_REDIRECTS: u8 = 10;
/// A cookie a guest keeps itself: at most this long (RFC 6265's least a
/// client supports), and this many in a session.
const MAX_GUEST_COOKIE_BYTES: usize = 4096;
const MAX_COOKIES: usize = 1000;

/// A worker's session, shared by its scenario calls and its guest's own
/// HTTP client (`wasi:http`). Its lock is held only between the steps of a
/// request, never across an exchange: concurrent requests each take a
/// connection of the pool.
pub type SharedSession = Arc<tokio::sync::Mutex<Session>>;

/// One worker's session.
pub struct Session {
    /// Connections not in use, any number per origin: each request takes
    /// one (the most recently used) and gives it back once answered.
    idle: Vec<(Origin, Box<Connection>)>,
    /// Bounds the connections in use at once; made at the first request.
    slots: Option<Arc<Semaphore>>,
    /// The workers this session stands for: its pool may hold as many
    /// times `--max-connections`.
    stands_for: usize,
    /// gRPC's HTTP/2 channels, one per origin.
    pub(crate) channels: Vec<(Origin, Channel)>,
    /// Bounds each request's time; see `client::within`.
    pub(crate) timer: Option<Pin<Box<Sleep>>>,
    pub(crate) headers: HeaderMap,
    /// Made at the first cookie a server sets: most sessions never hold one,
    /// and even an empty jar is memory to read and a lookup at every request.
    pub(crate) cookies: Option<Box<CookieStore>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_redirects: u8,
    /// The last URL a scenario sent to, resolved, with its default name: a
    /// scenario mostly repeats its requests, and parsing showed in profiles.
    pub(crate) last: Option<Resolved>,
}

/// A request's URL as the scenario gave it, resolved against `--target`, and
/// the name it is reported under unless the scenario names it.
pub(crate) struct Resolved {
    /// The method and the URL as given, one after the other: one string to
    /// compare (in memory that is cold at each request) rather than two.
    pub given: String,
    pub method_len: usize,
    /// Shared with the requests and responses that use it: not copied for each.
    pub url: Arc<Url>,
    pub name: Arc<str>,
}

/// The session's lock, taken without building a waiter when no one holds
/// it (most often: every hold is short).
pub(crate) async fn lock(session: &SharedSession) -> MutexGuard<'_, Session> {
    match session.try_lock() {
        Ok(held) => held,
        Err(_) => session.lock().await,
    }
}

impl Resolved {
    pub fn is_for(&self, req: &Request) -> bool {
        let (method, url) = self.given.split_at(self.method_len);
        method == req.method && url == req.url
    }
}

impl Default for Session {
    fn default() -> Self {
        Self {
            idle: Vec::new(),
            slots: None,
            stands_for: 1,
            channels: Vec::new(),
            timer: None,
            headers: HeaderMap::new(),
            cookies: None,
            timeout: None,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            last: None,
        }
    }
}

impl Session {
    /// Sets a default header; an empty value removes it.
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let name = HeaderName::try_from(name)
            .map_err(|e| Error::InvalidRequest(format!("header {name:?}: {e}")))?;
        policy::check_settable(&name)?;
        if value.is_empty() {
            self.headers.remove(&name);
            return Ok(());
        }
        let value = HeaderValue::try_from(value)
            .map_err(|e| Error::InvalidRequest(format!("header {name}: {e}")))?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// Keeps the cookie `set_cookie` (a `set-cookie` header's value) as if
    /// `url` had set it; an expired one removes it.
    pub(crate) fn set_cookie(&mut self, url: &Url, set_cookie: &str) -> Result<(), Error> {
        if set_cookie.len() > MAX_GUEST_COOKIE_BYTES {
            return Err(Error::InvalidRequest(format!(
                "a cookie of {} bytes (at most {MAX_GUEST_COOKIE_BYTES})",
                set_cookie.len()
            )));
        }
        let cookie = RawCookie::parse(set_cookie.to_string())
            .map_err(|e| Error::InvalidRequest(format!("cookie {set_cookie:?}: {e}")))?;
        let jar = self.cookies.get_or_insert_default();
        if jar.iter_unexpired().count() >= MAX_COOKIES {
            return Err(Error::InvalidRequest(format!(
                "the session holds {MAX_COOKIES} cookies already"
            )));
        }
        jar.store_response_cookies(std::iter::once(cookie), url);
        Ok(())
    }

    /// Applies the options a `setup` fixture returned.
    pub fn apply(&mut self, options: &SessionOptions) -> Result<(), Error> {
        for (name, value) in &options.headers {
            self.set_header(name, value)?;
        }
        if let Some(timeout) = options.timeout {
            self.timeout = Some(timeout);
        }
        if let Some(max) = options.max_redirects {
            self.max_redirects = max;
        }
        Ok(())
    }

    /// A session for the requests of `workers` workers at once (a shared
    /// instance's own, for its guest's HTTP client).
    pub fn standing_for(workers: u32) -> Self {
        Self {
            stands_for: (workers as usize).max(1),
            ..Self::default()
        }
    }

    /// The most connections the session uses at once, and keeps: `per_worker`
    /// for each worker it stands for.
    pub(crate) fn pool_size(&self, per_worker: usize) -> usize {
        per_worker.saturating_mul(self.stands_for)
    }

    /// What bounds the connections in use at once.
    pub(crate) fn slots(&mut self, per_worker: usize) -> Arc<Semaphore> {
        let size = self.pool_size(per_worker);
        Arc::clone(
            self.slots
                .get_or_insert_with(|| Arc::new(Semaphore::new(size))),
        )
    }

    /// An idle open connection to `url`'s origin, taken from the pool.
    pub(crate) fn checkout(&mut self, url: &Url) -> Option<(Origin, Box<Connection>)> {
        while let Some(index) = self
            .idle
            .iter()
            .rposition(|(origin, _)| origin.matches(url))
        {
            let (origin, mut connection) = self.idle.swap_remove(index);
            if connection.is_open() {
                return Some((origin, connection));
            }
        }
        None
    }

    /// Gives back a connection that answered, kept while open and while the
    /// pool has room.
    pub(crate) fn checkin(
        &mut self,
        (origin, mut connection): (Origin, Box<Connection>),
        per_worker: usize,
    ) {
        if connection.is_open() && self.idle.len() < self.pool_size(per_worker) {
            self.idle.push((origin, connection));
        }
    }

    /// The gRPC channel to `url`'s origin, reused or newly opened.
    pub(crate) async fn grpc_channel(
        &mut self,
        url: &Url,
        dial: &Dial,
    ) -> Result<&mut Channel, Error> {
        if let Some(index) = (self.channels.iter()).position(|(origin, _)| origin.matches(url)) {
            if self.channels[index].1.is_open() {
                return Ok(&mut self.channels[index].1);
            }
            self.channels.swap_remove(index);
        }
        let origin = Origin::of(url);
        let channel = Box::pin(Channel::open(&origin, dial)).await?;
        self.channels.push((origin, channel));
        Ok(&mut self.channels.last_mut().expect("just pushed").1)
    }

    /// Forgets the gRPC channel to `url`'s origin, after an error left it in doubt.
    pub(crate) fn close_grpc(&mut self, url: &Url) {
        self.channels.retain(|(origin, _)| !origin.matches(url));
    }

    pub(crate) fn store_cookies(&mut self, headers: &ResponseHeaders, url: &Url) {
        let mut cookies = headers
            .get_all(SET_COOKIE.as_str())
            .filter_map(|v| std::str::from_utf8(v).ok())
            .filter_map(|v| RawCookie::parse(v.to_string()).ok())
            .peekable();
        // Most responses set none: the jar is not even looked at.
        if cookies.peek().is_some() {
            self.cookies
                .get_or_insert_default()
                .store_response_cookies(cookies, url);
        }
    }
}
