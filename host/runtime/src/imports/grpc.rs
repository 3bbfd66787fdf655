//! `molotov:scenario/grpc`: a worker's gRPC calls, each awaited in place (a
//! shared instance starts them through `multiplex-grpc` instead, which
//! converts with the same function).

use std::time::Instant;

use molotov_http::GrpcReply;
use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::molotov::scenario::grpc::{self, Call, Reply};
use crate::bindings::{HttpError, SessionHandle};
use crate::state::WorkerState;

impl grpc::Host for WorkerState {
    async fn invoke(
        &mut self,
        session: Resource<SessionHandle>,
        call: Call,
        requests: Vec<Vec<u8>>,
    ) -> Result<std::result::Result<Reply, HttpError>> {
        let link = self.link_of(session.rep())?;
        let waited = Instant::now();
        let replied = link.grpc(call, requests).await;
        self.clock.add_host_wait(waited.elapsed());
        Ok(replied.map(reply).map_err(|error| HttpError::from(&error)))
    }
}

/// A call's reply as the contract gives it.
pub(crate) fn reply(reply: GrpcReply) -> Reply {
    Reply {
        status: reply.status,
        message: reply.message,
        headers: reply.headers,
        trailers: reply.trailers,
        messages: reply.messages.into_iter().map(|m| m.to_vec()).collect(),
    }
}
