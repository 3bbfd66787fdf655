//! `molotov:scenario/metrics`: the guest's own counters and timings, recorded
//! with the run's metrics (and sent to statsd with them).

use wasmtime::Result;

use crate::bindings::molotov::scenario::metrics;
use crate::state::WorkerState;

impl metrics::Host for WorkerState {
    fn incr(&mut self, name: String, delta: i64) -> Result<()> {
        self.recorder.custom_counter(&name, delta);
        Ok(())
    }

    fn timing(&mut self, name: String, us: u64) -> Result<()> {
        self.recorder.custom_timing(&name, us);
        Ok(())
    }
}
