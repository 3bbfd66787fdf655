//! `molotov:scenario/vars`: variables shared by every worker of the run,
//! held by the host since every instance has its own memory.

use wasmtime::Result;

use crate::bindings::molotov::scenario::vars;
use crate::state::WorkerState;

impl vars::Host for WorkerState {
    fn get(&mut self, key: String) -> Result<Option<String>> {
        Ok(self.run.vars.lock().expect("vars lock").get(&key).cloned())
    }

    fn set(&mut self, key: String, value: String) -> Result<()> {
        self.run.vars.lock().expect("vars lock").insert(key, value);
        Ok(())
    }
}
