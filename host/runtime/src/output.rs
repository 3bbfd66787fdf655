//! Where a guest's own lines and the `-vv` exchange dumps go: the operator's
//! console, which the CLI owns.

use molotov_http::{Error, Request, Response};

/// How serious a guest's log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// The console, as the sandbox writes to it.
pub trait Output: Send + Sync {
    fn guest_log(&self, worker_id: u32, level: LogLevel, message: &str);
    fn guest_print(&self, worker_id: u32, message: &str);
    /// `-vv`: a request as the guest sent it and what it got.
    fn exchange(&self, worker_id: u32, request: &Request, outcome: Result<&Response, &Error>);
}
