//! `molotov:scenario/multiplex`: the component's scheduler asks its store's
//! router for run orders and replies, sends requests for its workers and
//! reports their runs' ends.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::molotov::scenario::multiplex::{self, Replied, Turn, Wakeup};
use crate::bindings::{HttpError, Request, SessionHandle};
use crate::link::WorkerLink;
use crate::outcome::GLOBAL_WORKER;
use crate::router::{Finished, Router};
use crate::state::WorkerState;

impl WorkerState {
    pub(crate) fn router(&mut self) -> Result<&mut Router> {
        self.router.as_deref_mut().ok_or_else(|| {
            wasmtime::format_err!("multiplex is only for an instance run with many workers")
        })
    }
}

impl multiplex::Host for WorkerState {
    async fn next(&mut self, timeout_ms: Option<u32>) -> Result<Turn> {
        let timeout = timeout_ms.map(|ms| Duration::from_millis(ms.into()));
        let arrived = self.http.arrived();
        let own_client_busy = self.http.busy();
        let waited = self
            .router()?
            .wait(timeout, &arrived, own_client_busy)
            .await;
        let turn = match waited {
            None => Turn::HandBack,
            Some((replies, mut wakeups)) => {
                for (ticket, outcome) in replies {
                    let outcome = match outcome {
                        Ok(response) => Ok(self.reply(response)?),
                        Err(error) => Err(HttpError::from(&error)),
                    };
                    wakeups.push(Wakeup::Replied(Replied { ticket, outcome }));
                }
                Turn::Wakeups(wakeups)
            }
        };
        // The CPU deadline bounds each turn of the guest's scheduler.
        self.clock.start_call();
        self.take_http_wait();
        Ok(turn)
    }

    fn session_of(&mut self, worker_id: u32) -> Result<Resource<SessionHandle>> {
        match self.router()?.link(worker_id) {
            Some(_) => Ok(Resource::new_own(worker_id)),
            None => wasmtime::bail!("session-of({worker_id}): no such worker on this instance"),
        }
    }

    fn start_send(&mut self, session: Resource<SessionHandle>, req: Request) -> Result<u32> {
        let link = self.link_of(session.rep())?;
        let events = self.events;
        let router = self.router()?;
        Ok(router.start(move || async move { Finished::Reply(link.send(req, events).await) }))
    }

    fn finished(&mut self, job: u32, outcome: std::result::Result<(), String>) -> Result<()> {
        if !self.router()?.finish(job, outcome) {
            wasmtime::bail!("finished({job}): no such run in flight");
        }
        Ok(())
    }
}

impl WorkerState {
    /// The link of the session a handle names: in a shared instance the
    /// worker's it was made for, else (and for `instance-session`) the store's own.
    pub(crate) fn link_of(&self, rep: u32) -> Result<Arc<WorkerLink>> {
        match &self.router {
            Some(router) if rep != GLOBAL_WORKER => router
                .link(rep)
                .cloned()
                .ok_or_else(|| wasmtime::format_err!("no worker {rep} on this instance")),
            _ => Ok(self.http.link()),
        }
    }
}
