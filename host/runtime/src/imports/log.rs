//! `molotov:scenario/log`: the guest's log lines and prints, to the console.

use wasmtime::Result;

use crate::bindings::Level;
use crate::bindings::molotov::scenario::log;
use crate::output::LogLevel;
use crate::state::WorkerState;

impl log::Host for WorkerState {
    fn log(&mut self, level: Level, message: String) -> Result<()> {
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.run.output.guest_log(self.worker_id, level, &message);
        Ok(())
    }

    fn print(&mut self, message: String) -> Result<()> {
        self.run.output.guest_print(self.worker_id, &message);
        Ok(())
    }
}
