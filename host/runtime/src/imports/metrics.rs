//! `molotov:scenario/metrics`: the guest's own counters, timings and gauges, recorded
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

    fn gauge(&mut self, name: String, value: f64) -> Result<()> {
        self.recorder.custom_gauge(&name, value);
        Ok(())
    }
}
