//! `molotov:scenario/log`: the guest's log lines and prints, to the console.

use wasmtime::Result;

use crate::bindings::Level;
use crate::bindings::molotov::scenario::log;
use crate::output::LogLevel;
use crate::state::WorkerState;

impl WorkerState {
    /// Whether a guest line may be shown (within `--max-output`).
    fn may_show(&self) -> bool {
        let budget = &self.run.output_budget;
        if budget.admit() {
            return true;
        }
        if let Some(warning) = budget.first_breach() {
            self.run
                .output
                .guest_log(self.worker_id, LogLevel::Warn, &warning);
            self.recorder.warn(warning);
        }
        false
    }
}

impl log::Host for WorkerState {
    fn log(&mut self, level: Level, message: String) -> Result<()> {
        if !self.may_show() {
            return Ok(());
        }
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
        if !self.may_show() {
            return Ok(());
        }
        self.run.output.guest_print(self.worker_id, &message);
        Ok(())
    }
}
