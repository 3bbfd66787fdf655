//! `--sizing`: find the worker count at which the failure ratio passes the tolerance.

use std::collections::VecDeque;

use molotov_metrics::SizingReport;

/// Results are counted in buckets of one check interval each.
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
/// The ratio is taken over the most recent results, at least this many…
const MIN_RESULTS: u64 = 100;
/// …from at most this many buckets (10 s), so a slow scenario still decides
/// and a fast one decides on fresh results, right after a worker joins.
const MAX_BUCKETS: usize = 20;

/// Watches the run's totals, one bucket per check.
pub struct Sizing {
    tolerance: f64,
    buckets: VecDeque<(u64, u64)>,
    seen: (u64, u64),
    /// Workers at the previous check: a worker that joined since has barely
    /// contributed to the newest bucket.
    workers_before: u64,
    report: SizingReport,
}

impl Sizing {
    pub fn new(tolerance_percent: f64) -> Self {
        Self {
            tolerance: tolerance_percent / 100.0,
            buckets: VecDeque::with_capacity(MAX_BUCKETS),
            seen: (0, 0),
            workers_before: 0,
            report: SizingReport {
                tolerance_percent,
                reached: false,
                workers: 0,
                failure_percent: 0.0,
            },
        }
    }

    /// Takes the run's totals so far; returns true once the tolerance is passed.
    pub fn observe(&mut self, ok: u64, failed: u64, workers: u64) -> bool {
        if self.report.reached {
            return true;
        }
        let workers_now = workers;
        let workers = match self.workers_before {
            0 => workers,
            before => workers.min(before),
        };
        self.workers_before = workers_now;
        let bucket = (ok - self.seen.0, failed - self.seen.1);
        self.seen = (ok, failed);
        if self.buckets.len() == MAX_BUCKETS {
            self.buckets.pop_back();
        }
        self.buckets.push_front(bucket);
        let mut window = (0, 0);
        for (ok, failed) in &self.buckets {
            window = (window.0 + ok, window.1 + failed);
            if window.0 + window.1 >= MIN_RESULTS {
                break;
            }
        }
        let total = window.0 + window.1;
        if total < MIN_RESULTS {
            return false;
        }
        let ratio = window.1 as f64 / total as f64;
        self.report.workers = self.report.workers.max(workers);
        self.report.failure_percent = self.report.failure_percent.max(ratio * 100.0);
        if ratio > self.tolerance {
            self.report = SizingReport {
                reached: true,
                workers,
                failure_percent: ratio * 100.0,
                ..self.report
            };
        }
        self.report.reached
    }

    pub fn report(&self) -> SizingReport {
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_counts_failures_over_all_results_even_without_successes() {
        let mut sizing = Sizing::new(5.0);
        assert!(
            !sizing.observe(0, 99, 3),
            "fewer than 100 results decide nothing"
        );
        assert!(sizing.observe(0, 100, 3));
        let report = sizing.report();
        assert_eq!(report.workers, 3);
        assert_eq!(report.failure_percent, 100.0);
    }

    #[test]
    fn the_window_holds_the_most_recent_results() {
        let mut sizing = Sizing::new(10.0);
        assert!(!sizing.observe(1000, 0, 5));
        // 150 new results, 10% failed: the old successes no longer dilute them.
        assert!(!sizing.observe(1135, 15, 6));
        assert!(sizing.observe(1270, 31, 7));
        assert_eq!(sizing.report().workers, 6, "the 7th worker just joined");
        assert!((sizing.report().failure_percent - 100.0 * 16.0 / 151.0).abs() < 1e-9);
    }
}
