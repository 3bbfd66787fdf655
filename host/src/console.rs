//! What the operator sees while a run goes on: progress, failures, the guest's own lines.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::component::GLOBAL_WORKER;
use crate::component::bindings::Level;
use crate::metrics::Metrics;

/// How a line names who wrote it: a worker, or the global fixtures' instance.
fn label(worker_id: u32) -> String {
    match worker_id {
        GLOBAL_WORKER => "global".into(),
        id => format!("W:{id}"),
    }
}

/// How much to show, from the `-q`, `-v` and `-c` flags.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub quiet: bool,
    pub verbose: u8,
    /// Redraw one progress line in place (a person at a terminal) rather
    /// than printing a line each time (`-c`, CI logs, pipes).
    pub redraw: bool,
    /// Show periodic progress at all.
    pub progress: bool,
}

impl Console {
    pub fn new(quiet: bool, verbose: u8, plain: bool) -> Self {
        Self {
            quiet,
            verbose,
            redraw: !plain && std::io::stderr().is_terminal(),
            progress: !quiet,
        }
    }

    /// A line of the host's own (start-up notes, warnings).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            self.line(message);
        }
    }

    pub fn guest_print(&self, worker_id: u32, message: &str) {
        if !self.quiet {
            self.line(&format!("[{}] {message}", label(worker_id)));
        }
    }

    pub fn guest_log(&self, worker_id: u32, level: Level, message: &str) {
        let shown = match level {
            Level::Error | Level::Warn => !self.quiet,
            Level::Info => self.verbose >= 1,
            Level::Debug => self.verbose >= 2,
        };
        if shown {
            self.line(&format!("[{}] {level:?}: {message}", label(worker_id)));
        }
    }

    /// A failed run, shown with `-v`; a broken guest's backtrace with `-vv`.
    pub fn failure(&self, worker_id: u32, scenario: &str, message: &str, backtrace: Option<&str>) {
        if self.verbose >= 1 {
            self.line(&format!("[W:{worker_id}] {scenario} failed: {message}"));
        }
        if let (Some(backtrace), true) = (backtrace, self.verbose >= 2) {
            self.line(backtrace);
        }
    }

    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        if self.redraw {
            // Clear the progress line first, so this line does not mix with it.
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{text}");
    }

    /// One progress report: successes, failures, workers, requests/s, p50/p99.
    pub fn progress(&self, metrics: &Metrics, elapsed: Duration) {
        if !self.progress {
            return;
        }
        let live = &metrics.live;
        let requests = live.requests.load(Ordering::Relaxed);
        let latency = metrics.latency_snapshot();
        let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        let seconds = elapsed.as_secs_f64();
        let text = format!(
            "{seconds:6.1}s  SUCCESSES: {} | FAILURES: {} | WORKERS: {} | REQUESTS: {requests} ({:.0}/s, {} errors) | p50 {:.2} ms p99 {:.2} ms",
            live.ok.load(Ordering::Relaxed),
            live.failed.load(Ordering::Relaxed),
            live.workers.load(Ordering::Relaxed),
            requests as f64 / seconds.max(0.001),
            live.request_errors.load(Ordering::Relaxed),
            ms(0.5),
            ms(0.99),
        );
        let mut err = std::io::stderr().lock();
        let _ = if self.redraw {
            write!(err, "\r\x1b[2K{text}")
        } else {
            writeln!(err, "{text}")
        };
        let _ = err.flush();
    }

    /// Ends a redrawn progress line so the summary starts on its own line.
    pub fn finish_progress(&self) {
        if self.redraw && self.progress {
            let _ = writeln!(std::io::stderr());
        }
    }
}
