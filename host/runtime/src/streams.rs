//! The streamed responses a guest holds (opened by its worker's link),
//! counted against the worker's `--max-open`, read behind a lock (a shared
//! instance's tickets run in tasks), and measured under their names: the
//! request at its head (its latency is the time to first byte), then the
//! time to the first event, the gaps between events, and the events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use molotov_http::{Error, SseEvent, StreamingResponse};
use molotov_metrics::Recorder;
use tokio::sync::Mutex;

use crate::sockets::OpenSlot;

/// What the guest's handle holds: the response's head, readable while a
/// read of a shared instance holds the body's lock, and the body.
pub struct GuestStream {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) time_to_first_byte: Duration,
    pub(crate) body: Arc<Mutex<Body>>,
}

impl GuestStream {
    /// The first value of header `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        (self.headers.iter())
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    }
}

/// A body being read, and its measures.
pub struct Body {
    response: StreamingResponse,
    recorder: Recorder,
    /// When the request was sent: the first event's time counts from it.
    sent: Instant,
    last_event: Option<Instant>,
    _slot: OpenSlot,
}

impl GuestStream {
    /// A stream whose head arrived `response`, sent at `sent`, measured with
    /// `recorder`, holding `slot`.
    pub(crate) fn new(
        response: StreamingResponse,
        sent: Instant,
        recorder: Recorder,
        slot: OpenSlot,
    ) -> Self {
        Self {
            status: response.status,
            headers: response.headers.pairs(),
            time_to_first_byte: response.time_to_first_byte,
            body: Arc::new(Mutex::new(Body {
                response,
                recorder,
                sent,
                last_event: None,
                _slot: slot,
            })),
        }
    }
}

impl Body {
    /// The body's next bytes, `None` at its end; by default within the
    /// request's timeout.
    pub(crate) async fn chunk(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<Bytes>, Error> {
        let timeout = timeout.unwrap_or(self.response.timeout);
        self.response.chunk(timeout).await
    }

    /// The next event, `None` at the body's end; measured as it arrives.
    pub(crate) async fn event(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<SseEvent>, Error> {
        let timeout = timeout.unwrap_or(self.response.timeout);
        let event = self.response.event(timeout).await?;
        if event.is_some() {
            let now = Instant::now();
            let name = &self.response.name;
            let (measure, since) = match self.last_event {
                None => ("first-event", self.sent),
                Some(last) => ("event-gap", last),
            };
            let micros = now.duration_since(since).as_micros() as u64;
            self.recorder
                .custom_timing(&format!("{name} {measure}"), micros);
            self.recorder.custom_counter(&format!("{name} events"), 1);
            self.last_event = Some(now);
        }
        Ok(event)
    }
}
