//! The worker's HTTP session for `async fn` scenarios: requests are awaited,
//! so one instance runs many workers while the host performs them.

use std::mem::ManuallyDrop;

use crate::bindings::molotov::scenario::http::{self as wit};
use crate::bindings::molotov::scenario::multiplex;
use crate::driver::{self, Pending};
use crate::error::Result;
use crate::session::{Request, Response, Session, answer};

/// [`Session`] for an `async fn` scenario: the same requests, awaited. On
/// an instance shared by many workers, the others run while the host
/// performs this one; on an instance of its own it completes in place.
///
/// It has no lifetime parameter, so that `async fn run(s: &AsyncSession)`
/// needs none: it holds the host's handle without owning it.
pub struct AsyncSession {
    host: ManuallyDrop<wit::Session>,
}

impl AsyncSession {
    #[doc(hidden)]
    pub fn from_host(host: &wit::Session) -> Self {
        // SAFETY: the handle is borrowed for the scenario's call, which the
        // caller holds this for; ManuallyDrop never closes it.
        let host = unsafe { wit::Session::from_handle(host.handle()) };
        Self {
            host: ManuallyDrop::new(host),
        }
    }

    pub(crate) fn host(&self) -> &wit::Session {
        &self.host
    }

    /// `GET url`. A relative `url` resolves against the run's `--target`.
    pub async fn get(&self, url: &str) -> Result<Response> {
        self.send_param(Request::param("GET", url, None)).await
    }

    /// `POST url` with a body.
    pub async fn post(&self, url: &str, body: impl AsRef<[u8]>) -> Result<Response> {
        self.send_param(Request::param("POST", url, Some(body.as_ref())))
            .await
    }

    /// `POST url` with a JSON body and its content type.
    pub async fn post_json(&self, url: &str, value: &serde_json::Value) -> Result<Response> {
        self.send(Request::new("POST", url).json(value)).await
    }

    /// `PUT url` with a body.
    pub async fn put(&self, url: &str, body: impl AsRef<[u8]>) -> Result<Response> {
        self.send_param(Request::param("PUT", url, Some(body.as_ref())))
            .await
    }

    /// `DELETE url`.
    pub async fn delete(&self, url: &str) -> Result<Response> {
        self.send_param(Request::param("DELETE", url, None)).await
    }

    /// Sends a request built with [`Request`].
    pub async fn send(&self, request: Request) -> Result<Response> {
        let reply = request.with_param(|param| self.start(param));
        answer(reply.await, &request.method, &request.url)
    }

    async fn send_param(&self, request: wit::RequestParam<'_>) -> Result<Response> {
        let (method, url) = (request.method, request.url);
        answer(self.start(request).await, method, url)
    }

    /// Starts the request on the executor, or performs it in place when
    /// the scenario runs in a plain call.
    fn start(&self, request: wit::RequestParam) -> Pending {
        if driver::driving() {
            Pending::Ticket(multiplex::start_send(&self.host, request))
        } else {
            Pending::Done(Some(self.host.send(request)))
        }
    }

    /// Sets a default header for every later request of this session.
    pub fn set_header(&self, name: &str, value: &str) -> Result<()> {
        Session::from_host(&self.host).set_header(name, value)
    }

    /// The cookies this session holds for `url`.
    pub fn cookies(&self, url: &str) -> Vec<(String, String)> {
        Session::from_host(&self.host).cookies(url)
    }
}
