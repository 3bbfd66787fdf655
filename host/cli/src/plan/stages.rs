//! `--stages "30s:100,2m:100,30s:0"`: targets reached linearly, stage after
//! stage, from 0 (or `--rate` in the open model). The targets are workers in
//! the closed model and runs started per second in the open one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub target: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stages(pub Vec<Stage>);

impl FromStr for Stages {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let stages = text
            .split(',')
            .map(|stage| {
                let wrong = || {
                    format!(
                        "stage {stage:?}: expected DURATION:TARGET, as in `30s:100` (s, m or h)"
                    )
                };
                let (duration, target) = stage.trim().split_once(':').ok_or_else(wrong)?;
                let target: f64 = target.trim().parse().map_err(|_| wrong())?;
                if !target.is_finite() || target < 0.0 {
                    return Err(wrong());
                }
                Ok(Stage {
                    duration: duration_of(duration.trim()).ok_or_else(wrong)?,
                    target,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self(stages))
    }
}

/// `90`, `90s`, `1.5m`, `2h`.
fn duration_of(text: &str) -> Option<Duration> {
    let (number, unit) = match text.char_indices().last()? {
        (at, 's') => (&text[..at], 1.0),
        (at, 'm') => (&text[..at], 60.0),
        (at, 'h') => (&text[..at], 3600.0),
        _ => (text, 1.0),
    };
    let seconds = number.parse::<f64>().ok()? * unit;
    (seconds.is_finite() && (0.0..=10.0 * 365.0 * 86_400.0).contains(&seconds))
        .then(|| Duration::from_secs_f64(seconds))
}

impl fmt::Display for Stages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stages: Vec<String> = (self.0.iter())
            .map(|s| format!("{}s:{}", s.duration.as_secs_f64(), s.target))
            .collect();
        f.write_str(&stages.join(","))
    }
}

impl Stages {
    /// The same stages with every target times `factor`.
    pub fn scaled(&self, factor: f64) -> Self {
        Self(
            (self.0.iter())
                .map(|stage| Stage {
                    target: stage.target * factor,
                    ..*stage
                })
                .collect(),
        )
    }

    pub fn total(&self) -> Duration {
        self.0.iter().map(|s| s.duration).sum()
    }

    pub fn highest(&self, start: f64) -> f64 {
        self.0.iter().map(|s| s.target).fold(start, f64::max)
    }

    /// The target `elapsed` into the stages (the last one's after the end).
    pub fn target_at(&self, start: f64, elapsed: Duration) -> f64 {
        let (mut from, mut begun) = (start, Duration::ZERO);
        for stage in &self.0 {
            let into = elapsed.saturating_sub(begun);
            if into < stage.duration {
                let share = into.as_secs_f64() / stage.duration.as_secs_f64();
                return from + (stage.target - from) * share;
            }
            (from, begun) = (stage.target, begun + stage.duration);
        }
        from
    }

    /// How many runs a rate following the stages starts in its first
    /// `elapsed` (the integral of the rate).
    pub fn runs_by(&self, start: f64, elapsed: Duration) -> f64 {
        let (mut from, mut begun, mut runs) = (start, Duration::ZERO, 0.0);
        for stage in &self.0 {
            let length = stage.duration.as_secs_f64();
            let into = elapsed.saturating_sub(begun).as_secs_f64().min(length);
            if length > 0.0 {
                // The trapezoid under a linear ramp from `from` over `into`.
                let reached = from + (stage.target - from) * into / length;
                runs += (from + reached) / 2.0 * into;
            }
            if elapsed < begun + stage.duration {
                return runs;
            }
            (from, begun) = (stage.target, begun + stage.duration);
        }
        runs + from * elapsed.saturating_sub(begun).as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_ramp_linearly_and_integrate_to_the_runs_they_start() {
        let stages: Stages = "10s:100,1m:100,10:0".parse().unwrap();
        assert_eq!(stages.total(), Duration::from_secs(80));
        assert_eq!(stages.target_at(0.0, Duration::from_secs(5)), 50.0);
        assert_eq!(stages.target_at(0.0, Duration::from_secs(40)), 100.0);
        assert_eq!(stages.target_at(0.0, Duration::from_secs(75)), 50.0);
        assert_eq!(stages.runs_by(0.0, Duration::from_secs(10)), 500.0);
        assert_eq!(stages.runs_by(0.0, Duration::from_secs(70)), 6500.0);
        assert_eq!(stages.runs_by(0.0, Duration::from_secs(80)), 7000.0);
        // Constant `--rate 20` with no stages.
        assert_eq!(
            Stages(Vec::new()).runs_by(20.0, Duration::from_secs(3)),
            60.0
        );
    }

    #[test]
    fn malformed_stages_are_refused() {
        for bad in ["", "10s", "10x:5", "10s:-1", "s:4", "10s:5,"] {
            assert!(bad.parse::<Stages>().is_err(), "{bad}");
        }
    }
}
