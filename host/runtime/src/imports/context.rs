//! `molotov:scenario/context`: the worker's id and step, the run's
//! arguments, the operator's `--env` variables, a sleep that suspends the
//! worker without blocking its thread, and a guest's stop of the whole run.

use std::time::{Duration, Instant};

use wasmtime::Result;

use crate::bindings::RunArgs;
use crate::bindings::molotov::scenario::context;
use crate::state::WorkerState;

impl context::Host for WorkerState {
    fn worker_id(&mut self) -> Result<u32> {
        Ok(self.worker_id)
    }

    fn step(&mut self) -> Result<u64> {
        Ok(self.step)
    }

    fn args(&mut self) -> Result<RunArgs> {
        Ok(RunArgs::from(&self.run.args))
    }

    fn env(&mut self, key: String) -> Result<Option<String>> {
        Ok(self.run.env.get(&key).cloned())
    }

    async fn sleep(&mut self, ms: u32) -> Result<()> {
        let waited = Instant::now();
        tokio::time::sleep(Duration::from_millis(ms.into())).await;
        self.clock.add_host_wait(waited.elapsed());
        Ok(())
    }

    fn abort_run(&mut self, reason: String) -> Result<()> {
        self.run.abort.abort(&reason);
        Ok(())
    }
}
