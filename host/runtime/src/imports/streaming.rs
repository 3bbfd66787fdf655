//! `molotov:scenario/streaming`: a worker's streamed responses, each read
//! awaited in place (a shared instance starts reads through `multiplex-io`
//! instead, which converts with the same functions).

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::molotov::scenario::streaming::{self, SseEvent};
use crate::bindings::{HttpError, Request, SessionHandle};
use crate::imports::websocket::millis;
use crate::state::WorkerState;
use crate::streams::{Body, GuestStream};

impl streaming::Host for WorkerState {
    async fn open(
        &mut self,
        session: Resource<SessionHandle>,
        req: Request,
    ) -> Result<std::result::Result<Resource<GuestStream>, HttpError>> {
        let link = self.link_of(session.rep())?;
        let waited = Instant::now();
        let opened = link.open_stream(req).await;
        self.clock.add_host_wait(waited.elapsed());
        match opened {
            Ok(stream) => Ok(Ok(self.table.push(stream)?)),
            Err(error) => Ok(Err(HttpError::from(&error))),
        }
    }
}

impl WorkerState {
    /// Runs `read` on `stream`'s body, its wait counted as the host's.
    async fn on_body<T>(
        &mut self,
        stream: &Resource<GuestStream>,
        read: impl AsyncFnOnce(&mut Body) -> std::result::Result<T, molotov_http::Error>,
    ) -> Result<std::result::Result<T, HttpError>> {
        let body = Arc::clone(&self.table.get(stream)?.body);
        let waited = Instant::now();
        let done = read(&mut *body.lock().await).await;
        self.clock.add_host_wait(waited.elapsed());
        Ok(done.map_err(|error| HttpError::from(&error)))
    }
}

impl streaming::HostBodyStream for WorkerState {
    fn status(&mut self, stream: Resource<GuestStream>) -> Result<u16> {
        Ok(self.table.get(&stream)?.status)
    }

    fn headers(&mut self, stream: Resource<GuestStream>) -> Result<Vec<(String, String)>> {
        Ok(self.table.get(&stream)?.headers.clone())
    }

    fn header(&mut self, stream: Resource<GuestStream>, name: String) -> Result<Option<String>> {
        Ok(self.table.get(&stream)?.header(&name))
    }

    fn time_to_first_byte_us(&mut self, stream: Resource<GuestStream>) -> Result<u64> {
        Ok(self.table.get(&stream)?.time_to_first_byte.as_micros() as u64)
    }

    async fn read_chunk(
        &mut self,
        stream: Resource<GuestStream>,
        timeout_ms: Option<u32>,
    ) -> Result<std::result::Result<Option<Vec<u8>>, HttpError>> {
        let timeout = timeout_ms.map(millis);
        let chunk = self.on_body(&stream, async |body| body.chunk(timeout).await);
        Ok(chunk.await?.map(|chunk| chunk.map(|bytes| bytes.to_vec())))
    }

    async fn read_event(
        &mut self,
        stream: Resource<GuestStream>,
        timeout_ms: Option<u32>,
    ) -> Result<std::result::Result<Option<SseEvent>, HttpError>> {
        let timeout = timeout_ms.map(millis);
        let event = self.on_body(&stream, async |body| body.event(timeout).await);
        Ok(event.await?.map(|event| event.map(sse_event)))
    }

    fn drop(&mut self, stream: Resource<GuestStream>) -> Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}

pub(crate) fn sse_event(event: molotov_http::SseEvent) -> SseEvent {
    SseEvent {
        event: event.event,
        data: event.data,
        id: event.id,
        retry_ms: event.retry_ms,
    }
}
