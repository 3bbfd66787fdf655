//! The live view on a terminal: a progress bar for the planned duration (or
//! runs), the counts, the busiest request names with their rates and p99, and
//! the latest failures; in colour where the terminal takes it (not with
//! `NO_COLOR`). Plain lines (`-c`, pipes, CI logs) are the console's.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ::console::Style;
use molotov_metrics::{Progress, Tally};

/// Request names shown live.
const BUSIEST: usize = 5;
const BAR_WIDTH: usize = 30;

/// What the run is planned to be, for the progress bar.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plan {
    pub duration: Option<Duration>,
    /// Runs in all (`-r` times the workers).
    pub runs: Option<u64>,
}

/// A request name's rate since the last update, and its p99 so far.
#[derive(Debug, Clone)]
pub struct NameRate {
    pub name: String,
    pub per_second: f64,
    pub p99_ms: f64,
}

/// The busiest request names, from successive snapshots of the tally.
#[derive(Debug, Default)]
pub struct Busiest {
    counts: HashMap<String, u64>,
    at: Option<Instant>,
    pub top: Vec<NameRate>,
}

impl Busiest {
    pub fn update(&mut self, tally: &Tally) {
        let now = Instant::now();
        let seconds = self
            .at
            .map_or(0.0, |at| now.duration_since(at).as_secs_f64());
        let mut rates: Vec<NameRate> = (tally.requests.iter())
            .map(|(name, stats)| {
                let before = self.counts.get(name).copied().unwrap_or(0);
                NameRate {
                    name: name.clone(),
                    per_second: match seconds > 0.0 {
                        true => stats.count.saturating_sub(before) as f64 / seconds,
                        false => 0.0,
                    },
                    p99_ms: stats.latency_us.value_at_quantile(0.99) as f64 / 1000.0,
                }
            })
            .collect();
        rates.sort_by(|a, b| {
            b.per_second
                .total_cmp(&a.per_second)
                .then(a.name.cmp(&b.name))
        });
        rates.truncate(BUSIEST);
        self.top = rates;
        self.counts = (tally.requests.iter())
            .map(|(name, stats)| (name.clone(), stats.count))
            .collect();
        self.at = Some(now);
    }
}

/// The view's text; `failures` are the latest distinct messages and counts.
pub fn render(
    progress: &Progress,
    elapsed: Duration,
    plan: Plan,
    busiest: &[NameRate],
    failures: &[(String, u64)],
) -> String {
    let colour = ::console::colors_enabled_stderr() && std::env::var_os("NO_COLOR").is_none();
    let paint = |style: Style, text: String| style.force_styling(colour).apply_to(text).to_string();
    let (bold, dim) = (Style::new().bold(), Style::new().dim());
    let good = Style::new().green();
    let bad = |n: u64| {
        if n > 0 {
            Style::new().red().bold()
        } else {
            Style::new()
        }
    };
    let Progress {
        ok,
        failed,
        workers,
        requests,
        request_errors: errors,
        latency_us,
    } = progress;
    let ms = |q: f64| latency_us.value_at_quantile(q) as f64 / 1000.0;
    let seconds = elapsed.as_secs_f64();
    let rate = *requests as f64 / seconds.max(0.001);

    let done = match plan {
        Plan {
            duration: Some(d), ..
        } => Some((
            seconds / d.as_secs_f64().max(0.001),
            format!(" of {:.0}s", d.as_secs_f64()),
        )),
        Plan {
            runs: Some(runs), ..
        } => Some((
            (ok + failed) as f64 / runs.max(1) as f64,
            format!(" ({} of {runs} runs)", ok + failed),
        )),
        _ => None,
    };
    let mut text = format!("{}  {seconds:.1}s", paint(bold.clone(), "molotov".into()));
    if let Some((fraction, of)) = done {
        let fraction = fraction.clamp(0.0, 1.0);
        let filled = (fraction * BAR_WIDTH as f64).round() as usize;
        text += &format!(
            "{of}  {}{} {:3.0}%",
            paint(Style::new().cyan(), "█".repeat(filled)),
            paint(dim.clone(), "░".repeat(BAR_WIDTH - filled)),
            fraction * 100.0
        );
    }
    text += &format!("  WORKERS: {workers}\n");
    text += &format!(
        "SUCCESSES: {}  FAILURES: {}\n",
        paint(good, ok.to_string()),
        paint(bad(*failed), failed.to_string())
    );
    text += &format!(
        "REQUESTS: {requests} ({rate:.0}/s)  ERRORS: {}  p50 {:.2} ms  p99 {:.2} ms",
        paint(bad(*errors), errors.to_string()),
        ms(0.5),
        ms(0.99)
    );
    if !busiest.is_empty() {
        let width = busiest
            .iter()
            .map(|b| b.name.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(16, 48);
        text += "\n";
        text += &paint(
            dim.clone(),
            format!(
                "\n  {:width$}  {:>10}  {:>9}",
                "busiest requests", "per second", "p99 ms"
            ),
        );
        for name in busiest {
            // Guest-chosen: no control characters reach the terminal.
            let safe = crate::terminal::terminal_safe(&name.name).replace('\n', " ");
            let shown: String = safe.chars().take(width).collect();
            text += &format!(
                "\n  {shown:width$}  {:>10.1}  {:>9.2}",
                name.per_second, name.p99_ms
            );
        }
    }
    if !failures.is_empty() {
        text += "\n";
        text += &paint(Style::new().red(), "latest failures:".into());
        for (failure, times) in failures {
            text += &format!("\n  {times} x {failure}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_shows_the_plan_the_counts_and_the_busiest_names() {
        let progress = Progress {
            ok: 40,
            failed: 2,
            workers: 4,
            requests: 42,
            ..Progress::default()
        };
        let plan = Plan {
            duration: Some(Duration::from_secs(10)),
            runs: None,
        };
        let busiest = [NameRate {
            name: "GET /".into(),
            per_second: 12.5,
            p99_ms: 3.0,
        }];
        let text = ::console::strip_ansi_codes(&render(
            &progress,
            Duration::from_secs(5),
            plan,
            &busiest,
            &[],
        ))
        .into_owned();
        assert!(text.contains("5.0s of 10s"), "{text}");
        assert!(
            text.contains(&format!("{}{}  50%", "█".repeat(15), "░".repeat(15))),
            "{text}"
        );
        assert!(text.contains("SUCCESSES: 40  FAILURES: 2"), "{text}");
        let row = text.lines().find(|l| l.contains("GET /")).expect("a row");
        assert!(row.ends_with("12.5       3.00"), "{text}");
        let runs = Plan {
            duration: None,
            runs: Some(84),
        };
        let text = render(&progress, Duration::from_secs(5), runs, &[], &[]);
        assert!(
            ::console::strip_ansi_codes(&text).contains("(42 of 84 runs)"),
            "{text}"
        );
    }
}
