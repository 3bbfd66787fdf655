//! `molotov:scenario/multiplex-io`: a shared instance's sockets and streams.
//! Each call starts a task through the router and returns its ticket; what
//! it came to waits in the router until the guest's scheduler takes it with
//! `completed`, which turns it into the contract's values (new sockets and
//! streams into handles of the store's table).

use std::sync::Arc;

use molotov_http::Error;
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::molotov::scenario::multiplex_io::{
    self, Completion, Outcome, SocketDone, SocketOp,
};
use crate::bindings::molotov::scenario::websocket::ConnectRequest;
use crate::bindings::{HttpError, Request, SessionHandle};
use crate::imports::streaming::sse_event;
use crate::imports::websocket::{close_frame, message, millis, owned_connect, ws_error};
use crate::router::IoDone;
use crate::sockets::{GuestSocket, Outgoing};
use crate::state::WorkerState;
use crate::streams::GuestStream;

impl multiplex_io::Host for WorkerState {
    fn start_connect(
        &mut self,
        session: Resource<SessionHandle>,
        req: ConnectRequest,
    ) -> Result<u32> {
        let link = self.link_of(session.rep())?;
        let connect = owned_connect(req);
        let connected = async move { IoDone::Connected(link.websocket(connect).await) };
        Ok(self.router()?.start_io(connected))
    }

    fn start_socket(&mut self, socket: Resource<GuestSocket>, op: SocketOp) -> Result<u32> {
        let socket = Arc::clone(&self.table.get(&socket)?.socket);
        Ok(self.router()?.start_io(async move {
            match op {
                SocketOp::SendText(text) => IoDone::Sent(socket.send(Outgoing::Text(text)).await),
                SocketOp::SendBinary(data) => {
                    IoDone::Sent(socket.send(Outgoing::Binary(data)).await)
                }
                SocketOp::Ping(payload) => IoDone::Sent(socket.send(Outgoing::Ping(payload)).await),
                SocketOp::Receive(timeout) => {
                    IoDone::Received(socket.receive(timeout.map(millis)).await)
                }
                SocketOp::Close(frame) => {
                    IoDone::Closed(socket.close(frame.code, &frame.reason).await)
                }
            }
        }))
    }

    fn start_open(&mut self, session: Resource<SessionHandle>, req: Request) -> Result<u32> {
        let link = self.link_of(session.rep())?;
        let opened = async move { IoDone::Opened(link.open_stream(req).await) };
        Ok(self.router()?.start_io(opened))
    }

    fn start_read_chunk(
        &mut self,
        stream: Resource<GuestStream>,
        timeout_ms: Option<u32>,
    ) -> Result<u32> {
        let body = Arc::clone(&self.table.get(&stream)?.body);
        Ok(self.router()?.start_io(async move {
            IoDone::Chunk(body.lock().await.chunk(timeout_ms.map(millis)).await)
        }))
    }

    fn start_read_event(
        &mut self,
        stream: Resource<GuestStream>,
        timeout_ms: Option<u32>,
    ) -> Result<u32> {
        let body = Arc::clone(&self.table.get(&stream)?.body);
        Ok(self.router()?.start_io(async move {
            IoDone::Event(body.lock().await.event(timeout_ms.map(millis)).await)
        }))
    }

    fn completed(&mut self) -> Result<Vec<Completion>> {
        let done = std::mem::take(&mut self.router()?.io_done);
        let mut completions = Vec::with_capacity(done.len());
        for (ticket, done) in done {
            let outcome = self.outcome(done)?;
            completions.push(Completion { ticket, outcome });
        }
        Ok(completions)
    }
}

impl WorkerState {
    /// What a ticket came to, as the contract says it; a new socket or
    /// stream becomes a handle of the table.
    fn outcome(&mut self, done: IoDone) -> Result<Outcome> {
        let http_error = |error: Error| HttpError::from(&error);
        let ws = |error: Error| ws_error(&error);
        Ok(match done {
            IoDone::Connected(Ok(socket)) => Outcome::Connected(Ok(self.table.push(socket)?)),
            IoDone::Connected(Err(error)) => Outcome::Connected(Err(ws(error))),
            IoDone::Sent(sent) => Outcome::Socket(sent.map(|()| SocketDone::Sent).map_err(ws)),
            IoDone::Received(received) => Outcome::Socket(
                received
                    .map(|m| SocketDone::Received(message(m)))
                    .map_err(ws),
            ),
            IoDone::Closed(closed) => Outcome::Socket(
                closed
                    .map(|close| SocketDone::Closed(close.map(close_frame)))
                    .map_err(ws),
            ),
            IoDone::Opened(Ok(stream)) => Outcome::Opened(Ok(self.table.push(stream)?)),
            IoDone::Opened(Err(error)) => Outcome::Opened(Err(http_error(error))),
            IoDone::Chunk(chunk) => Outcome::Chunk(
                chunk
                    .map(|c| c.map(|bytes| bytes.to_vec()))
                    .map_err(http_error),
            ),
            IoDone::Event(event) => {
                Outcome::Event(event.map(|e| e.map(sse_event)).map_err(http_error))
            }
        })
    }
}
