//! What the operator sees while a run goes on: the live view or plain
//! progress lines, failures, the guest's own lines, and `-vv` exchange dumps.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use molotov_http::{Error, Request, Response};
use molotov_metrics::{Progress, Tally};
use molotov_runtime::{GLOBAL_WORKER, LogLevel, Output};

use crate::live_view::{self, Busiest, Plan};
use crate::terminal::terminal_safe;

/// Failures kept for the live view.
const RECENT_FAILURES: usize = 5;
/// Plain progress lines (`-c`, CI logs) come at most this often by default.
const PLAIN_EVERY: Duration = Duration::from_secs(1);
/// The live view redraws this often by default (Molotov's `--console-update`).
const LIVE_EVERY: Duration = Duration::from_millis(200);
/// A body dumped by `-vv` is cut after this many bytes.
const DUMP_BODY: usize = 2048;

/// How much to show, from the `-q`, `-v` and `-c` flags.
#[derive(Clone)]
pub struct Console {
    pub quiet: bool,
    pub verbose: u8,
    /// A `-p` child: progress goes to the parent (stdout), not the screen.
    to_parent: bool,
    /// The live view on a terminal; `None` for plain lines (`-c`, pipes).
    live: Option<ProgressBar>,
    /// The latest distinct failure messages, with how often each occurred.
    recent: Arc<Mutex<VecDeque<(String, u64)>>>,
    /// The live view's busiest request names.
    busiest: Arc<Mutex<Busiest>>,
}

/// How a line names who wrote it: a worker, or the global fixtures' instance.
fn label(worker_id: u32) -> String {
    match worker_id {
        GLOBAL_WORKER => "global".into(),
        id => format!("W:{id}"),
    }
}

impl Console {
    pub fn new(quiet: bool, verbose: u8, plain: bool) -> Self {
        let live = (!quiet && !plain && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(ProgressStyle::with_template("{msg}").expect("a valid template"));
            bar
        });
        Self {
            quiet,
            verbose,
            to_parent: false,
            live,
            recent: Arc::default(),
            busiest: Arc::default(),
        }
    }

    /// For a `-p` child: progress goes to the parent, as JSON lines on stdout.
    pub fn report_to_parent(&mut self) {
        self.to_parent = true;
        self.live = None;
    }

    /// Whether the live view is on (a terminal, not `-c`, `-q` or a `-p` child).
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// Updates the live view's busiest request names from the run's tally.
    pub fn update_busiest(&self, tally: &Tally) {
        self.busiest.lock().expect("busiest").update(tally);
    }

    /// How often progress is shown: `--console-update`, or a default per mode.
    pub fn update_every(&self, requested: Option<Duration>) -> Duration {
        requested.unwrap_or(if self.live.is_some() || self.to_parent {
            LIVE_EVERY
        } else {
            PLAIN_EVERY
        })
    }

    /// A line of the host's own (start-up notes, warnings).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            self.line(message);
        }
    }

    /// A failed run: kept for the live view, shown with `-v`; a broken
    /// guest's backtrace with `-vv`.
    pub fn failure(&self, worker_id: u32, scenario: &str, message: &str, backtrace: Option<&str>) {
        let line = format!("[{}] {scenario} failed: {message}", label(worker_id));
        if self.verbose >= 1 {
            self.line(&line);
        }
        if let (Some(backtrace), true) = (backtrace, self.verbose >= 2) {
            self.line(backtrace);
        }
        if self.live.is_some() {
            let text = terminal_safe(&format!("{scenario}: {message}")).into_owned();
            let mut recent = self.recent.lock().expect("recent failures");
            let seen = match recent.iter().position(|(t, _)| *t == text) {
                Some(index) => recent.remove(index).map_or(0, |(_, n)| n),
                None => 0,
            };
            if recent.len() == RECENT_FAILURES {
                recent.pop_front();
            }
            recent.push_back((text, seen + 1));
        }
    }

    fn line(&self, text: &str) {
        let text = &*terminal_safe(text);
        match &self.live {
            // Printed above the live view, which redraws below it.
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    /// One progress report: successes, failures, workers, requests/s, p50/p99,
    /// elapsed; on the live view also a progress bar, the busiest names and
    /// the last failures. A `-p` child sends it to its parent instead, as a
    /// JSON line on stdout.
    pub fn progress(&self, progress: &Progress, elapsed: Duration, plan: Plan) {
        if self.to_parent {
            if let Ok(line) = serde_json::to_string(progress) {
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            }
            return;
        }
        if self.quiet {
            return;
        }
        if let Some(bar) = &self.live {
            let recent: Vec<_> = self
                .recent
                .lock()
                .expect("recent failures")
                .iter()
                .cloned()
                .collect();
            let busiest = self.busiest.lock().expect("busiest").top.clone();
            bar.set_message(live_view::render(
                progress, elapsed, plan, &busiest, &recent,
            ));
            return;
        }
        let ms = |q: f64| progress.latency_us.value_at_quantile(q) as f64 / 1000.0;
        let seconds = elapsed.as_secs_f64();
        let of = (plan.duration).map_or(String::new(), |p| format!(" of {:.0}s", p.as_secs_f64()));
        let (ok, failed, workers) = (progress.ok, progress.failed, progress.workers);
        let (requests, errors) = (progress.requests, progress.request_errors);
        let rate = requests as f64 / seconds.max(0.001);
        let (p50, p99) = (ms(0.5), ms(0.99));
        let _ = writeln!(
            std::io::stderr().lock(),
            "{seconds:6.1}s{of}  SUCCESSES: {ok} | FAILURES: {failed} | WORKERS: {workers} | \
             REQUESTS: {requests} ({rate:.0}/s, {errors} errors) | p50 {p50:.2} ms p99 {p99:.2} ms"
        );
    }

    /// Clears the live view, so the summary starts clean.
    pub fn finish_progress(&self) {
        if let Some(bar) = &self.live {
            bar.finish_and_clear();
        }
    }
}

/// What the sandbox writes: the guest's own lines, and `-vv` dumps.
impl Output for Console {
    fn guest_print(&self, worker_id: u32, message: &str) {
        if !self.quiet {
            self.line(&format!("[{}] {message}", label(worker_id)));
        }
    }

    fn guest_log(&self, worker_id: u32, level: LogLevel, message: &str) {
        let shown = match level {
            LogLevel::Error | LogLevel::Warn => !self.quiet,
            LogLevel::Info => self.verbose >= 1,
            LogLevel::Debug => self.verbose >= 2,
        };
        if shown {
            self.line(&format!("[{}] {level:?}: {message}", label(worker_id)));
        }
    }

    fn exchange(&self, worker_id: u32, request: &Request, outcome: Result<&Response, &Error>) {
        let who = label(worker_id);
        let mut text = format!("[{who}] > {} {}", request.method, request.url);
        for (name, value) in request.headers {
            text += &format!("\n[{who}] > {name}: {value}");
        }
        if let Some(body) = request.body {
            text += &format!("\n[{who}] > {}", printable(body));
        }
        match outcome {
            Ok(response) => {
                text += &format!(
                    "\n[{who}] < {} {} ({:.2} ms)",
                    response.status,
                    response.url,
                    response.elapsed.as_secs_f64() * 1000.0
                );
                for (name, value) in response.header_pairs() {
                    text += &format!("\n[{who}] < {name}: {value}");
                }
                if !response.body.is_empty() {
                    text += &format!("\n[{who}] < {}", printable(&response.body));
                }
            }
            Err(error) => text += &format!("\n[{who}] < error: {error}"),
        }
        self.line(&text);
    }
}

/// A body as text when it is text, else a placeholder; long ones cut short.
fn printable(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) if !text.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            match text.char_indices().nth(DUMP_BODY) {
                Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], body.len()),
                None => text.to_string(),
            }
        }
        _ => format!("<{} bytes of binary data>", body.len()),
    }
}
