//! One request on a worker's session, with its events and `-vv` dump: what
//! the session import and the guest's own `wasi:http` client both do.

use std::pin::Pin;
use std::sync::Arc;

use super::bindings::{Event, EventKinds, HttpError, Request, RequestEvent, ResponseEvent};
use super::host::RunContext;
use super::wasi_http::EventQueue;
use crate::metrics::Recorder;
use crate::session::{ResponseData, SharedSession};

/// What a request needs of its worker, shared by its requests: one count to
/// take per request rather than one per field.
pub struct SessionLink {
    pub run: Arc<RunContext>,
    pub worker_id: u32,
    pub session: SharedSession,
    pub recorder: Recorder,
    pub queue: EventQueue,
}

impl SessionLink {
    /// Sends `req` on the worker's session, queueing the events of `events`'
    /// kinds for the guest's hook.
    pub async fn send(
        self: Arc<Self>,
        req: Request,
        events: EventKinds,
    ) -> Result<ResponseData, HttpError> {
        if events.contains(EventKinds::SENDING_REQUEST) {
            let event = RequestEvent {
                worker_id: self.worker_id,
                request: req.clone(),
            };
            self.queue(Event::SendingRequest(event));
        }
        let outcome = {
            // Uncontended but for a guest's own concurrent requests: taken
            // without building a waiter.
            let mut session = match self.session.try_lock() {
                Ok(session) => session,
                Err(_) => self.session.lock().await,
            };
            // Boxed, the exchange (over a kilobyte) is not copied at each
            // move of this future.
            pin_in_box(|| self.run.client.send(&mut session, &req, &self.recorder)).await
        };
        if self.run.console.verbose >= 2 {
            self.run
                .console
                .dump_exchange(self.worker_id, &req, outcome.as_ref());
        }
        if events.contains(EventKinds::RESPONSE_RECEIVED) {
            let event = ResponseEvent {
                worker_id: self.worker_id,
                outcome: outcome
                    .as_ref()
                    .map(ResponseData::info)
                    .map_err(Clone::clone),
                request: req,
            };
            self.queue(Event::ResponseReceived(event));
        }
        outcome
    }

    fn queue(&self, event: Event) {
        self.queue.lock().expect("event queue").push(event);
    }
}

/// `Box::pin(make())`, with the box allocated first and the future built in
/// it. `Box::pin` builds the future on the stack and copies it in whole,
/// room for its later states included: over a kilobyte per request for an
/// exchange, and a copy whose reads right after it stall (1.025 times the
/// requests per client CPU-second without it, with the HTTP/2 exchange boxed).
#[inline(always)]
pub fn pin_in_box<F: Future>(make: impl FnOnce() -> F) -> Pin<Box<F>> {
    Box::into_pin(Box::write(Box::new_uninit(), make()))
}
