//! `molotov:scenario/http`: the worker's session and the responses it holds.

use std::time::{Duration, Instant};

use molotov_http::Response;
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::molotov::scenario::http;
use crate::bindings::{HttpError, Reply, Request, SessionHandle};
use crate::link::pin_in_box;
use crate::outcome::GLOBAL_WORKER;
use crate::state::WorkerState;

/// The largest body `send` returns with the status (see `reply` in the
/// contract): a scenario mostly reads small bodies, and this saves it a call
/// per request; a larger one is copied only if the scenario asks for it.
const INLINE_BODY_MAX: usize = 64 * 1024;

/// Aborts a request's task when the guest call waiting on it is dropped (a
/// cancelled run): detached, it would go on holding the worker's session.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl WorkerState {
    /// A response handed to the guest: held in its table, counted against
    /// its memory budget (over it, its run fails, not the host).
    pub(crate) fn reply(&mut self, response: Response) -> Result<Reply> {
        self.limiter.0.hold(response.held_bytes())?;
        Ok(Reply {
            status: response.status,
            body: (response.body.len() <= INLINE_BODY_MAX).then(|| response.body.to_vec()),
            response: self.table.push(response)?,
        })
    }
}

impl http::Host for WorkerState {
    /// The store's own session. A handle carries no data (see
    /// `SessionHandle`): its number names the worker in a shared instance.
    fn instance_session(&mut self) -> Result<Resource<SessionHandle>> {
        let rep = if self.router.is_some() {
            GLOBAL_WORKER
        } else {
            0
        };
        Ok(Resource::new_own(rep))
    }
}

impl http::HostSession for WorkerState {
    async fn send(
        &mut self,
        session: Resource<SessionHandle>,
        req: Request,
    ) -> Result<std::result::Result<Reply, HttpError>> {
        let waited = Instant::now();
        // Whatever runs here runs on the worker's own fiber stack, memory that
        // is cold at every request when many workers take turns. So the
        // exchange runs as a task of its own, on the thread's (shared, warm)
        // stack, and is boxed at once rather than moved down tokio's spawn
        // path by value.
        let (link, events) = (self.link_of(session.rep())?, self.events);
        let exchange = tokio::spawn(pin_in_box(move || link.send(req, events)));
        let _abort = AbortOnDrop(exchange.abort_handle());
        let outcome = exchange.await?;
        self.clock.add_host_wait(waited.elapsed());
        match outcome {
            Ok(response) => Ok(Ok(self.reply(response)?)),
            Err(error) => Ok(Err(HttpError::from(&error))),
        }
    }

    async fn set_header(
        &mut self,
        session: Resource<SessionHandle>,
        name: String,
        value: String,
    ) -> Result<std::result::Result<(), HttpError>> {
        let link = self.link_of(session.rep())?;
        let set = link.session.lock().await.set_header(&name, &value);
        Ok(set.map_err(|error| HttpError::from(&error)))
    }

    async fn cookies(
        &mut self,
        session: Resource<SessionHandle>,
        url: String,
    ) -> Result<Vec<(String, String)>> {
        let link = self.link_of(session.rep())?;
        Ok(self.run.client.cookies(&*link.session.lock().await, &url))
    }

    async fn set_cookie(
        &mut self,
        session: Resource<SessionHandle>,
        url: String,
        set_cookie: String,
    ) -> Result<std::result::Result<(), HttpError>> {
        let link = self.link_of(session.rep())?;
        let mut held = link.session.lock().await;
        let set = self.run.client.set_cookie(&mut held, &url, &set_cookie);
        Ok(set.map_err(|error| HttpError::from(&error)))
    }

    fn drop(&mut self, _session: Resource<SessionHandle>) -> Result<()> {
        Ok(())
    }
}

impl http::HostResponse for WorkerState {
    fn headers(&mut self, response: Resource<Response>) -> Result<Vec<(String, String)>> {
        Ok(self.table.get(&response)?.header_pairs())
    }

    fn header(&mut self, response: Resource<Response>, name: String) -> Result<Option<String>> {
        Ok(self.table.get(&response)?.header(&name))
    }

    fn body(&mut self, response: Resource<Response>) -> Result<Vec<u8>> {
        Ok(self.table.get(&response)?.body.to_vec())
    }

    fn url(&mut self, response: Resource<Response>) -> Result<String> {
        Ok(self.table.get(&response)?.url.to_string())
    }

    fn elapsed_us(&mut self, response: Resource<Response>) -> Result<u64> {
        Ok(self.table.get(&response)?.elapsed.as_micros() as u64)
    }

    fn timings(&mut self, response: Resource<Response>) -> Result<Option<http::Timings>> {
        let us = |phase: Duration| phase.as_micros() as u64;
        Ok(self
            .table
            .get(&response)?
            .phases
            .map(|phases| http::Timings {
                connecting_us: us(phases.connecting),
                tls_handshaking_us: us(phases.tls_handshaking),
                sending_us: us(phases.sending),
                waiting_us: us(phases.waiting),
                receiving_us: us(phases.receiving),
            }))
    }

    fn drop(&mut self, response: Resource<Response>) -> Result<()> {
        let response = self.table.delete(response)?;
        self.limiter.0.release(response.held_bytes());
        Ok(())
    }
}
