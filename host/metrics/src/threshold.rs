//! Pass/fail criteria (`--threshold`): a grammar a person reads without a
//! manual, evaluated on the merged histograms and counts of a [`Tally`].
//!
//!     p99 < 300ms                      every request's latency
//!     GET /api/items: p95 < 120ms      one request name
//!     errors < 0.1%                    requests that got no response
//!     unexpected < 1%                  no response, or a status outside 200-399
//!     unexpected(200-299,404) < 1%     … or outside these (k6's `http_req_failed`)
//!     rps > 450                        requests per second
//!     scenario checkout: failed < 1%   one scenario's runs
//!     custom cart_size: mean > 2       a custom timing, counter or gauge
//!     custom checks: rate > 0.99       a rate (counters `checks: true`, `checks: false`): the share of true
//!     errors < 1% abort after 10s      also checked during the run
//!
//! Comparisons: `<`, `<=`, `>`, `>=`, `==`. Latencies are in milliseconds unless a unit says (`us`, `ms`, `s`);
//! ratios are fractions, or percentages with `%`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::histogram::{self, add};
use crate::k6::{K6_EXPECTED_STATUSES, unexpected_responses};
use crate::tally::Tally;

/// What a threshold is about.
#[derive(Debug, Clone, PartialEq)]
enum Scope {
    All,
    Request(String),
    Scenario(String),
    Custom(String),
}

/// The measure compared.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Measure {
    /// A latency percentile (`p95` is 95.0), or the min, mean or max.
    Percentile(f64),
    Min,
    Mean,
    Max,
    /// Requests that got no response, or failed runs, as a fraction.
    Errors,
    Failed,
    /// Requests that got no response or a status outside the threshold's
    /// expected ranges, as a fraction.
    Unexpected,
    /// Per second of the run.
    Rate,
    Count,
    /// A custom counter's total, or a gauge's last value.
    Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
enum Comparison {
    Below,
    AtMost,
    Above,
    AtLeast,
    Equal,
}

/// One `--threshold` expression, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    expr: String,
    scope: Scope,
    measure: Measure,
    comparison: Comparison,
    /// In the measure's unit: milliseconds, a fraction, a count or rate.
    limit: f64,
    /// The statuses `unexpected` takes as expected: inclusive ranges.
    expected: Vec<(u16, u16)>,
    /// `abort [after S]`: checked during the run, after this long.
    pub abort_after: Option<Duration>,
}

/// A threshold's verdict, for the summary and the JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub expr: String,
    /// The measured value (`None` when what it names never appeared).
    pub value: Option<f64>,
    pub ok: bool,
    /// Why it could not be evaluated, with the names that did appear.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FromStr for Threshold {
    type Err = String;

    fn from_str(expr: &str) -> Result<Self, String> {
        let wrong = |why: &str| {
            format!(
                "threshold {expr:?}: {why}; write `[NAME:] MEASURE OP VALUE`, e.g. `p99 < 300ms`, `GET /items: p95 < 120ms`, `errors < 0.1%`, `rps > 450`, `scenario checkout: failed < 1%`"
            )
        };
        let (body, abort_after) = split_abort(expr.trim()).map_err(|why| wrong(&why))?;
        let (scope, tail) = match body.rsplit_once(':') {
            Some((scope, tail)) => (parse_scope(scope.trim()), tail.trim()),
            None => (Scope::All, body),
        };
        if scope == Scope::Request(String::new()) {
            return Err(wrong("an empty name before `:`"));
        }
        let op_at = tail
            .find(['<', '>', '='])
            .ok_or_else(|| wrong("no comparison (<, <=, >, >=, ==)"))?;
        let (measure, rest) = tail.split_at(op_at);
        let (comparison, value) = match rest.as_bytes() {
            [b'<', b'=', ..] => (Comparison::AtMost, &rest[2..]),
            [b'>', b'=', ..] => (Comparison::AtLeast, &rest[2..]),
            [b'=', b'=', ..] => (Comparison::Equal, &rest[2..]),
            [b'<', ..] => (Comparison::Below, &rest[1..]),
            [b'>', ..] => (Comparison::Above, &rest[1..]),
            _ => return Err(wrong("no comparison (<, <=, >, >=, ==)")),
        };
        let (measure, expected) = match measure.trim().strip_prefix("unexpected") {
            Some(ranges) => (
                Measure::Unexpected,
                parse_expected(ranges.trim()).map_err(|why| wrong(&why))?,
            ),
            None => (
                parse_measure(measure.trim()).map_err(|why| wrong(&why))?,
                Vec::new(),
            ),
        };
        let limit = parse_value(value.trim(), measure).map_err(|why| wrong(&why))?;
        check_measure(&scope, measure).map_err(|why| wrong(&why))?;
        Ok(Self {
            expr: expr.trim().to_string(),
            scope,
            measure,
            comparison,
            limit,
            expected,
            abort_after,
        })
    }
}

/// `EXPR abort [after S]`.
fn split_abort(expr: &str) -> Result<(&str, Option<Duration>), String> {
    let Some(at) = expr.rfind(" abort") else {
        return Ok((expr, None));
    };
    let (body, clause) = (&expr[..at], expr[at + " abort".len()..].trim());
    let after = match clause.strip_prefix("after") {
        None if clause.is_empty() => Duration::ZERO,
        None => return Err(format!("unexpected {clause:?} after `abort`")),
        Some(delay) => {
            let delay = delay.trim();
            let seconds = delay.strip_suffix('s').unwrap_or(delay);
            let seconds: f64 = seconds
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| format!("`abort after {delay}` is not a number of seconds"))?;
            Duration::from_secs_f64(seconds)
        }
    };
    Ok((body.trim(), Some(after)))
}

fn parse_scope(scope: &str) -> Scope {
    if let Some(name) = scope.strip_prefix("scenario ") {
        return Scope::Scenario(name.trim().to_string());
    }
    if let Some(name) = scope.strip_prefix("custom ") {
        return Scope::Custom(name.trim().to_string());
    }
    Scope::Request(scope.to_string())
}

/// The ranges after `unexpected`: none (k6's default, 200-399) or
/// `(200-299,404)`.
fn parse_expected(text: &str) -> Result<Vec<(u16, u16)>, String> {
    if text.is_empty() {
        return Ok(vec![K6_EXPECTED_STATUSES]);
    }
    let wrong = || format!("`unexpected{text}`: write `unexpected(200-299,404)`");
    let list = (text.strip_prefix('(').and_then(|t| t.strip_suffix(')'))).ok_or_else(wrong)?;
    list.split(',')
        .map(|range| {
            let (min, max) = range.split_once('-').unwrap_or((range, range));
            let status = |text: &str| text.trim().parse::<u16>().map_err(|_| wrong());
            Ok((status(min)?, status(max)?))
        })
        .collect()
}

fn parse_measure(text: &str) -> Result<Measure, String> {
    Ok(match text {
        "min" => Measure::Min,
        "mean" | "avg" => Measure::Mean,
        "max" => Measure::Max,
        "errors" => Measure::Errors,
        "failed" => Measure::Failed,
        "rps" | "rate" => Measure::Rate,
        "count" => Measure::Count,
        "value" | "last" => Measure::Value,
        _ => {
            let digits = text
                .strip_prefix('p')
                .ok_or_else(|| format!("unknown measure {text:?}"))?;
            // `p999` is 99.9, `p95` 95, `p99.99` 99.99.
            let percentile = match digits.parse::<f64>() {
                Ok(_) if digits.contains('.') => digits.parse::<f64>().ok(),
                Ok(_) if digits.len() > 2 && digits.starts_with("99") => {
                    format!("99.{}", &digits[2..]).parse().ok()
                }
                Ok(_) if digits.len() > 2 => None,
                Ok(value) => Some(value),
                Err(_) => None,
            };
            match percentile {
                Some(p) if (0.0..=100.0).contains(&p) => Measure::Percentile(p),
                _ => return Err(format!("unknown measure {text:?}")),
            }
        }
    })
}

/// The limit in the measure's unit: milliseconds or a fraction.
fn parse_value(text: &str, measure: Measure) -> Result<f64, String> {
    let latency = matches!(
        measure,
        Measure::Percentile(_) | Measure::Min | Measure::Mean | Measure::Max
    );
    let (number, scale) = if let Some(n) = text.strip_suffix('%') {
        if !matches!(
            measure,
            Measure::Errors | Measure::Failed | Measure::Unexpected
        ) {
            return Err("`%` is for errors, failed and unexpected".into());
        }
        (n, 0.01)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("us").or_else(|| text.strip_suffix("µs")) {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s').filter(|_| latency) {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number (with an optional unit: ms, s, us, %)"))?;
    if !value.is_finite() {
        return Err(format!("{text:?} is not a finite number"));
    }
    Ok(value * scale)
}

fn check_measure(scope: &Scope, measure: Measure) -> Result<(), String> {
    let fits = !matches!(
        (scope, measure),
        (
            Scope::All | Scope::Request(_),
            Measure::Failed | Measure::Value
        ) | (Scope::Request(_), Measure::Unexpected)
            | (
                Scope::Scenario(_),
                Measure::Errors | Measure::Value | Measure::Unexpected
            )
            | (
                Scope::Custom(_),
                Measure::Errors | Measure::Failed | Measure::Unexpected
            )
    );
    if fits {
        Ok(())
    } else {
        Err(format!("{measure:?} does not apply here").to_lowercase())
    }
}

impl Threshold {
    /// Measures `tally` (of a run `elapsed` long) against the threshold.
    pub fn evaluate(&self, tally: &Tally, elapsed: Duration) -> Verdict {
        let verdict = |value: Option<f64>, error: Option<String>| Verdict {
            expr: self.expr.clone(),
            ok: value.is_some_and(|v| self.passes(v)),
            value,
            error,
        };
        match self.measure_of(tally, elapsed.as_secs_f64().max(1e-9)) {
            Ok(value) => verdict(Some(value), None),
            Err(error) => verdict(None, Some(error)),
        }
    }

    fn passes(&self, value: f64) -> bool {
        match self.comparison {
            Comparison::Below => value < self.limit,
            Comparison::AtMost => value <= self.limit,
            Comparison::Above => value > self.limit,
            Comparison::AtLeast => value >= self.limit,
            Comparison::Equal => value == self.limit,
        }
    }

    fn measure_of(&self, tally: &Tally, seconds: f64) -> Result<f64, String> {
        let ratio = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                part as f64 / whole as f64
            }
        };
        match &self.scope {
            Scope::All => {
                let mut latency = histogram::new();
                for stats in tally.requests.values() {
                    add(&mut latency, &stats.latency_us);
                }
                let (count, errors) = (
                    tally.requests(),
                    tally.requests.values().map(|r| r.errors).sum(),
                );
                if self.measure == Measure::Unexpected {
                    return Ok(ratio(self.unexpected(tally, errors), count));
                }
                self.of_requests(count, errors, &latency, seconds)
            }
            Scope::Request(name) => {
                let stats = tally
                    .requests
                    .get(name)
                    .ok_or_else(|| unknown("request", name, tally.requests.keys()))?;
                self.of_requests(stats.count, stats.errors, &stats.latency_us, seconds)
            }
            Scope::Scenario(name) => {
                let stats = tally
                    .scenarios
                    .get(name)
                    .ok_or_else(|| unknown("scenario", name, tally.scenarios.keys()))?;
                let runs = stats.ok + stats.failed;
                match self.measure {
                    Measure::Failed => Ok(ratio(stats.failed, runs)),
                    Measure::Count => Ok(runs as f64),
                    Measure::Rate => Ok(runs as f64 / seconds),
                    _ => Ok(self.latency(&stats.duration_us)),
                }
            }
            Scope::Custom(name) => {
                if let Some(counter) = tally.counters.get(name) {
                    return match self.measure {
                        Measure::Rate => Ok(*counter as f64 / seconds),
                        Measure::Value | Measure::Count => Ok(*counter as f64),
                        _ => Err(format!(
                            "custom {name} is a counter: compare its value, count or rate"
                        )),
                    };
                }
                // A k6 Rate: counters of its true and false values.
                let (true_values, false_values) = (
                    tally.counters.get(&format!("{name}: true")),
                    tally.counters.get(&format!("{name}: false")),
                );
                if true_values.is_some() || false_values.is_some() {
                    let (t, f) = (
                        true_values.copied().unwrap_or(0).max(0) as u64,
                        false_values.copied().unwrap_or(0).max(0) as u64,
                    );
                    return match self.measure {
                        Measure::Rate => Ok(ratio(t, t + f)),
                        Measure::Count => Ok((t + f) as f64),
                        _ => Err(format!(
                            "custom {name} is a rate (counters `{name}: true` and `: false`): compare its rate or count"
                        )),
                    };
                }
                if let Some(gauge) = tally.gauges.get(name) {
                    return match self.measure {
                        Measure::Value => Ok(gauge.last),
                        Measure::Min => Ok(gauge.min),
                        Measure::Max => Ok(gauge.max),
                        _ => Err(format!(
                            "custom {name} is a gauge: compare its value, min or max"
                        )),
                    };
                }
                let timing = tally.timings_us.get(name).ok_or_else(|| {
                    let names = (tally.counters.keys())
                        .chain(tally.gauges.keys())
                        .chain(tally.timings_us.keys());
                    unknown("custom metric", name, names)
                })?;
                match self.measure {
                    Measure::Count => Ok(timing.len() as f64),
                    Measure::Rate => Ok(timing.len() as f64 / seconds),
                    _ => Ok(self.latency(timing)),
                }
            }
        }
    }

    /// Requests with no response or a status outside the expected ranges.
    fn unexpected(&self, tally: &Tally, errors: u64) -> u64 {
        let expected =
            |status: u16| (self.expected.iter()).any(|&(min, max)| (min..=max).contains(&status));
        let statuses = tally
            .statuses
            .iter()
            .map(|(&status, &count)| (status, count));
        errors + unexpected_responses(statuses, expected)
    }

    fn of_requests(
        &self,
        count: u64,
        errors: u64,
        latency: &Histogram<u64>,
        seconds: f64,
    ) -> Result<f64, String> {
        Ok(match self.measure {
            Measure::Errors => {
                if count == 0 {
                    0.0
                } else {
                    errors as f64 / count as f64
                }
            }
            Measure::Rate => count as f64 / seconds,
            Measure::Count => count as f64,
            _ => self.latency(latency),
        })
    }

    /// The latency measure of `histogram` (microseconds), in milliseconds.
    fn latency(&self, histogram: &Histogram<u64>) -> f64 {
        let us = match self.measure {
            Measure::Percentile(p) => histogram.value_at_quantile(p / 100.0) as f64,
            Measure::Min => histogram.min() as f64,
            Measure::Max => histogram.max() as f64,
            _ => histogram.mean(),
        };
        us / 1000.0
    }
}

/// The error for a name that never appeared, with the closest that did.
fn unknown<'a>(what: &str, name: &str, names: impl Iterator<Item = &'a String>) -> String {
    let wanted = name.to_lowercase();
    let mut similar: Vec<(usize, &String)> = names
        .map(|candidate| (distance(&wanted, &candidate.to_lowercase()), candidate))
        .collect();
    similar.sort();
    let hint: Vec<&str> = similar.iter().take(3).map(|(_, n)| n.as_str()).collect();
    match hint.is_empty() {
        true => format!("no {what} named {name:?} appeared in the run"),
        false => format!(
            "no {what} named {name:?} appeared in the run; similar: {}",
            hint.join(", ")
        ),
    }
}

/// Levenshtein distance, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substituted.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.ok { "✓" } else { "✗" };
        match (&self.value, &self.error) {
            (Some(value), _) => write!(f, "{mark} {}  (measured {})", self.expr, round(*value)),
            (None, Some(error)) => write!(f, "{mark} {}  ({error})", self.expr),
            (None, None) => write!(f, "{mark} {}", self.expr),
        }
    }
}

fn round(value: f64) -> String {
    if value.abs() >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else {
        format!("{value:.3}").trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(expr: &str) -> Threshold {
        expr.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_documented_forms_parse() {
        let t = parsed("GET /api/items: p95 < 120ms");
        assert_eq!(t.scope, Scope::Request("GET /api/items".into()));
        assert_eq!(
            (t.measure, t.comparison, t.limit),
            (Measure::Percentile(95.0), Comparison::Below, 120.0)
        );
        assert_eq!(parsed("p999 <= 1.5s").measure, Measure::Percentile(99.9));
        assert_eq!(parsed("p999 <= 1.5s").limit, 1500.0);
        assert_eq!(parsed("errors < 0.1%").limit, 0.001);
        assert_eq!(parsed("rps > 450").measure, Measure::Rate);
        assert_eq!(
            parsed("scenario checkout: failed < 1%").scope,
            Scope::Scenario("checkout".into())
        );
        assert_eq!(
            parsed("custom cart_size: mean > 2").scope,
            Scope::Custom("cart_size".into())
        );
        let abort = parsed("errors < 1% abort after 10s");
        assert_eq!(
            (abort.abort_after, abort.limit),
            (Some(Duration::from_secs(10)), 0.01)
        );
        assert_eq!(parsed("p99 < 300 abort").abort_after, Some(Duration::ZERO));
    }

    #[test]
    fn malformed_expressions_are_refused_with_the_grammar() {
        for bad in [
            "p99",
            "p99 < fast",
            "latency < 3ms",
            "rps > 4%",
            "p99 < 3ms abort soon",
            ": p99 < 3",
            "scenario x: errors < 1%",
            "p101 < 3",
        ] {
            let error = bad.parse::<Threshold>().expect_err(bad);
            assert!(error.contains("MEASURE OP VALUE"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_name_that_never_appeared_is_named_with_similar_ones() {
        let mut tally = Tally::default();
        tally.requests.insert(
            "GET /api/items".into(),
            crate::RequestStats {
                count: 1,
                errors: 0,
                latency_us: histogram::new(),
            },
        );
        let verdict = parsed("GET /api/item: p95 < 1ms").evaluate(&tally, Duration::from_secs(1));
        assert!(!verdict.ok);
        assert!(verdict.error.unwrap().contains("similar: GET /api/items"));
    }

    #[test]
    fn unexpected_counts_statuses_outside_the_expected_ones_as_k6_does() {
        let mut tally = Tally::default();
        tally.requests.insert(
            "GET /".into(),
            crate::RequestStats {
                count: 10,
                errors: 1,
                latency_us: histogram::new(),
            },
        );
        tally.statuses = [(200, 5), (101, 1), (404, 2), (500, 1)].into();
        let second = Duration::from_secs(1);
        let share = |expr: &str| parsed(expr).evaluate(&tally, second).value;
        // No response (1), 404 (2) and 500 (1) of 10; a handshake is fine.
        assert_eq!(share("unexpected < 1%"), Some(0.4));
        assert_eq!(share("unexpected(200-299,404) < 1%"), Some(0.2));
        assert_eq!(share("unexpected(200-599) < 1%"), Some(0.1));
        for bad in [
            "unexpected(2xx) < 1%",
            "unexpected 200 < 1%",
            "GET /: unexpected < 1%",
        ] {
            assert!(bad.parse::<Threshold>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rate_is_the_share_of_its_true_values() {
        let mut tally = Tally::default();
        tally.counters.insert("checks: true".into(), 99);
        tally.counters.insert("checks: false".into(), 1);
        tally.counters.insert("only: true".into(), 3);
        let second = Duration::from_secs(1);
        let verdict = parsed("custom checks: rate >= 0.99").evaluate(&tally, second);
        assert_eq!((verdict.value, verdict.ok), (Some(0.99), true));
        assert!(
            !parsed("custom checks: rate > 0.99")
                .evaluate(&tally, second)
                .ok
        );
        assert_eq!(
            parsed("custom checks: count == 100")
                .evaluate(&tally, second)
                .value,
            Some(100.0)
        );
        assert_eq!(
            parsed("custom only: rate == 1")
                .evaluate(&tally, second)
                .value,
            Some(1.0)
        );
        let mean = parsed("custom checks: mean > 1").evaluate(&tally, second);
        assert!(mean.error.unwrap().contains("is a rate"));
    }
}
