//! `molotov:scenario/multiplex-grpc`: a shared instance's gRPC calls. Each
//! starts a task through the router and returns its ticket; its reply waits
//! in the router until the guest's scheduler takes it with `completed`.

use wasmtime::Result;
use wasmtime::component::Resource;

use crate::bindings::molotov::scenario::grpc::Call;
use crate::bindings::molotov::scenario::multiplex_grpc::{self, Completion};
use crate::bindings::{HttpError, SessionHandle};
use crate::imports::grpc::reply;
use crate::router::Finished;
use crate::state::WorkerState;

impl multiplex_grpc::Host for WorkerState {
    fn start_invoke(
        &mut self,
        session: Resource<SessionHandle>,
        call: Call,
        requests: Vec<Vec<u8>>,
    ) -> Result<u32> {
        let link = self.link_of(session.rep())?;
        let router = self.router()?;
        Ok(router.start(move || async move { Finished::Grpc(link.grpc(call, requests).await) }))
    }

    fn completed(&mut self) -> Result<Vec<Completion>> {
        let done = std::mem::take(&mut self.router()?.grpc_done);
        let completion = |(ticket, outcome): (u32, Result<_, molotov_http::Error>)| Completion {
            ticket,
            outcome: outcome.map(reply).map_err(|error| HttpError::from(&error)),
        };
        Ok(done.into_iter().map(completion).collect())
    }
}
