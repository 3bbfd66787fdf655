//! Where a guest's own lines and the `-vv` exchange dumps go: the operator's
//! console, which the CLI owns; and how many guest lines it takes a second.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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

/// `--max-output`: guest lines shown per second, every worker together, so
/// that a guest cannot flood the operator's terminal or CI log.
pub struct OutputBudget {
    per_second: u32,
    /// The current second's start, and the lines shown in it.
    window: Mutex<(Instant, u32)>,
    breached: AtomicBool,
}

impl OutputBudget {
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second,
            window: Mutex::new((Instant::now(), 0)),
            breached: AtomicBool::new(false),
        }
    }

    /// Whether one more line may be shown now.
    pub fn admit(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if window.0.elapsed() >= Duration::from_secs(1) {
            *window = (Instant::now(), 0);
        }
        if window.1 < self.per_second {
            window.1 += 1;
            return true;
        }
        false
    }

    /// The warning for the first line dropped (`None` after that).
    pub fn first_breach(&self) -> Option<String> {
        (!self.breached.swap(true, Ordering::Relaxed)).then(|| {
            format!(
                "guest output over {} lines a second: lines past it were dropped (--max-output)",
                self.per_second
            )
        })
    }
}
