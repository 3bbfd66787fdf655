//! `molotov:scenario/vars`: variables shared by every worker of the run.

use wasmtime::Result;

use crate::bindings::molotov::scenario::vars;
use crate::state::WorkerState;

impl vars::Host for WorkerState {
    fn get(&mut self, key: String) -> Result<Option<String>> {
        Ok(self.run.vars.get(&key))
    }

    fn set(&mut self, key: String, value: String) -> Result<()> {
        // Over the run's budget: this run fails (a trap), not the host.
        Ok(self.run.vars.set(key, value)?)
    }
}
