//! The CLI's pass/fail rule: the thresholds measured on a run, and whether
//! the run failed (exit code 1).

use crate::k6::{K6Results, K6Script};
use crate::report::{Report, StopReason};
use crate::tally::Tally;
use crate::threshold::Threshold;

impl Report {
    /// Measures `thresholds` on `tally`, the run this report is of; for a
    /// k6 script, puts the results in its terms too (its thresholds read
    /// these verdicts).
    pub fn judge(&mut self, thresholds: &[Threshold], tally: &Tally, k6: Option<&K6Script>) {
        let elapsed = std::time::Duration::from_secs_f64(self.duration_s);
        self.thresholds = (thresholds.iter())
            .map(|threshold| threshold.evaluate(tally, elapsed))
            .collect();
        self.k6 = k6.map(|script| K6Results::of(self, script));
    }

    /// A threshold named what never appeared in the run: it cannot be judged.
    pub fn has_unjudged_threshold(&self) -> bool {
        self.thresholds.iter().any(|v| v.error.is_some())
    }

    /// `-x` (`exception`), `-f N` (`fail_limit`) or a failed `setup` fail
    /// the run (exit code 1).
    pub fn fails_run(&self, exception: bool, fail_limit: Option<u64>) -> bool {
        let failures = self.scenarios.failed;
        matches!(
            self.stopped_by,
            StopReason::Exception
                | StopReason::FailLimit
                | StopReason::SetupFailed
                | StopReason::Threshold
                | StopReason::Aborted
        ) || (exception && failures > 0)
            || fail_limit.is_some_and(|limit| failures >= limit)
            || self.thresholds.iter().any(|verdict| !verdict.ok)
    }
}
