//! `molotov:scenario/websocket`: a worker's calls on its sockets, each
//! awaited in place (a shared instance starts them through `multiplex-io`
//! instead, which converts with the same functions).

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::molotov::scenario::websocket::{
    self, CloseFrame, ConnectRequest, Message, WsError,
};
use crate::bindings::{HttpError, SessionHandle};
use crate::sockets::{GuestSocket, Outgoing, OwnedConnect, Socket};
use crate::state::WorkerState;

impl websocket::Host for WorkerState {
    async fn connect(
        &mut self,
        session: Resource<SessionHandle>,
        req: ConnectRequest,
    ) -> Result<std::result::Result<Resource<GuestSocket>, WsError>> {
        let link = self.link_of(session.rep())?;
        let waited = Instant::now();
        let opened = link.websocket(owned_connect(req)).await;
        self.clock.add_host_wait(waited.elapsed());
        match opened {
            Ok(socket) => Ok(Ok(self.table.push(socket)?)),
            Err(error) => Ok(Err(ws_error(&error))),
        }
    }
}

impl WorkerState {
    /// Runs `call` on `socket`, its wait counted as the host's.
    async fn on_socket<T>(
        &mut self,
        socket: &Resource<GuestSocket>,
        call: impl AsyncFnOnce(&Socket) -> std::result::Result<T, molotov_http::Error>,
    ) -> Result<std::result::Result<T, WsError>> {
        let socket = Arc::clone(&self.table.get(socket)?.socket);
        let waited = Instant::now();
        let done = call(&socket).await;
        self.clock.add_host_wait(waited.elapsed());
        Ok(done.map_err(|error| ws_error(&error)))
    }
}

impl websocket::HostSocket for WorkerState {
    fn protocol(&mut self, socket: Resource<GuestSocket>) -> Result<Option<String>> {
        Ok(self.table.get(&socket)?.protocol.clone())
    }

    async fn send_text(
        &mut self,
        socket: Resource<GuestSocket>,
        text: String,
    ) -> Result<std::result::Result<(), WsError>> {
        (self.on_socket(&socket, async |s| s.send(Outgoing::Text(text)).await)).await
    }

    async fn send_binary(
        &mut self,
        socket: Resource<GuestSocket>,
        data: Vec<u8>,
    ) -> Result<std::result::Result<(), WsError>> {
        (self.on_socket(&socket, async |s| s.send(Outgoing::Binary(data)).await)).await
    }

    async fn ping(
        &mut self,
        socket: Resource<GuestSocket>,
        payload: Vec<u8>,
    ) -> Result<std::result::Result<(), WsError>> {
        (self.on_socket(&socket, async |s| s.send(Outgoing::Ping(payload)).await)).await
    }

    async fn receive(
        &mut self,
        socket: Resource<GuestSocket>,
        timeout_ms: Option<u32>,
    ) -> Result<std::result::Result<Message, WsError>> {
        let timeout = timeout_ms.map(millis);
        let received = self.on_socket(&socket, async |s| s.receive(timeout).await);
        Ok(received.await?.map(message))
    }

    async fn close(
        &mut self,
        socket: Resource<GuestSocket>,
        code: u16,
        reason: String,
    ) -> Result<std::result::Result<Option<CloseFrame>, WsError>> {
        let closed = self.on_socket(&socket, async |s| s.close(code, &reason).await);
        Ok(closed.await?.map(|close| close.map(close_frame)))
    }

    fn drop(&mut self, socket: Resource<GuestSocket>) -> Result<()> {
        self.table.delete(socket)?;
        Ok(())
    }
}

pub(crate) fn millis(ms: u32) -> Duration {
    Duration::from_millis(ms.into())
}

pub(crate) fn owned_connect(req: ConnectRequest) -> OwnedConnect {
    OwnedConnect {
        url: req.url,
        headers: req.headers,
        protocols: req.protocols,
        timeout: req.timeout_ms.map(millis),
        name: req.name,
    }
}

pub(crate) fn message(message: molotov_http::WsMessage) -> Message {
    use molotov_http::WsMessage as M;
    match message {
        M::Text(text) => Message::Text(text),
        M::Binary(data) => Message::Binary(data.to_vec()),
        M::Pong(data) => Message::Pong(data.to_vec()),
        M::Close(close) => Message::Close(close.map(close_frame)),
    }
}

pub(crate) fn close_frame(close: molotov_http::WsClose) -> CloseFrame {
    CloseFrame {
        code: close.code,
        reason: close.reason,
    }
}

/// A socket's error as the contract names it.
pub(crate) fn ws_error(error: &molotov_http::Error) -> WsError {
    use molotov_http::Error as E;
    match error {
        E::Timeout => WsError::Timeout,
        E::TooManyOpen { limit } => WsError::TooManyOpen(*limit),
        E::MessageTooLarge { limit } => WsError::MessageTooLarge(*limit as u64),
        E::FrameRate { limit } => WsError::FrameRate(*limit),
        E::InvalidRequest(message) => WsError::InvalidRequest(message.clone()),
        E::WebSocket(message) | E::Protocol(message) => WsError::Protocol(message.clone()),
        error => WsError::Http(HttpError::from(error)),
    }
}
