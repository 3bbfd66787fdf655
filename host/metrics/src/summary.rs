//! The human summary of a run's results, as printed at the end of every run.

use std::collections::BTreeMap;
use std::fmt::{Display, Write as _};

use crate::percentiles::Percentiles;
use crate::report::Report;

impl Report {
    /// The human summary, as printed at the end of every run.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let s = &self.scenarios;
        let r = &self.requests;
        let _ = writeln!(
            out,
            "SUCCESSES: {} | FAILURES: {} | WORKERS: {}{} | {:.1} s ({})",
            s.ok,
            s.failed,
            self.workers,
            match self.processes {
                1 => String::new(),
                n => format!(" in {n} processes"),
            },
            self.duration_s,
            self.stopped_by.name()
        );
        if s.cancelled > 0 {
            let _ = writeln!(out, "CANCELLED: {} runs in flight", s.cancelled);
        }
        if let Some(late) = self.late_s {
            let _ = writeln!(out, "LATE: started {late:.1} s after --start-at");
        }
        if let Some(response) = &self.response_time_ms {
            let service = &s.duration_ms;
            let _ = writeln!(
                out,
                "OPEN MODEL: {} runs started, {} dropped (no free worker) | run time p50/p99 (ms): service {:.2}/{:.2}, from intended start {:.2}/{:.2}",
                s.ok + s.failed + s.cancelled,
                s.dropped,
                service.p50,
                service.p99,
                response.p50,
                response.p99
            );
        } else if s.dropped > 0 {
            let _ = writeln!(out, "DROPPED: {} runs (no free worker)", s.dropped);
        }
        if let Some(sizing) = &self.sizing {
            let verdict = if sizing.reached {
                "passed"
            } else {
                "not passed"
            };
            let _ = writeln!(
                out,
                "SIZING: tolerance {}% {verdict} at {} workers (failure ratio {:.1}%)",
                sizing.tolerance_percent, sizing.workers, sizing.failure_percent
            );
        }
        let _ = writeln!(
            out,
            "REQUESTS: {} ({:.1}/s) | ERRORS: {}",
            r.count, r.per_second, r.errors
        );
        if !r.by_status.is_empty() {
            let _ = writeln!(out, "STATUS: {}", counts(&r.by_status));
        }
        if !r.errors_by_kind.is_empty() {
            let _ = writeln!(out, "ERRORS BY KIND: {}", counts(&r.errors_by_kind));
        }
        if self.reached_no_server() {
            let _ = writeln!(
                out,
                "NO SERVER REACHED: not one of the {} requests reached a server (errors by kind above)",
                r.count
            );
        }
        for line in self.egress.summary_lines() {
            let _ = writeln!(out, "{line}");
        }
        if !r.by_name.is_empty() {
            let width = r.by_name.keys().map(String::len).max().unwrap_or(0).max(12);
            let _ = writeln!(
                out,
                "\n{:<width$} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
                "latency (ms)", "count", "errors", "p50", "p90", "p99", "max"
            );
            let mut row = |name: &str, count: u64, errors: u64, p: &Percentiles| {
                let _ = writeln!(
                    out,
                    "{name:<width$} {count:>9} {errors:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                    p.p50, p.p90, p.p99, p.max
                );
            };
            for (name, named) in &r.by_name {
                row(name, named.count, named.errors, &named.latency_ms);
            }
            if r.by_name.len() > 1 {
                row("all", r.count, r.errors, &self.latency_ms);
            }
        }
        if !s.by_name.is_empty() {
            let width = s.by_name.keys().map(String::len).max().unwrap_or(0).max(8);
            let _ = writeln!(
                out,
                "\n{:<width$} {:>9} {:>9} {:>12}",
                "scenario", "ok", "failed", "p50 (ms)"
            );
            for (name, sc) in &s.by_name {
                let _ = writeln!(
                    out,
                    "{name:<width$} {:>9} {:>9} {:>12.2}",
                    sc.ok, sc.failed, sc.duration_ms.p50
                );
            }
        }
        let failures: Vec<(&String, &String, &u64)> = s
            .by_name
            .iter()
            .flat_map(|(name, sc)| sc.failures.iter().map(move |(m, n)| (name, m, n)))
            .collect();
        if !failures.is_empty() {
            let _ = writeln!(out, "\nfailures:");
            for (name, message, count) in failures.iter().take(10) {
                let _ = writeln!(out, "  {name}: {count} x {message}");
            }
            if failures.len() > 10 {
                let _ = writeln!(
                    out,
                    "  ... {} more distinct messages in the JSON results",
                    failures.len() - 10
                );
            }
        }
        if !self.custom.counters.is_empty() {
            let _ = writeln!(out, "\ncounters: {}", counts(&self.custom.counters));
        }
        if !self.custom.gauges.is_empty() {
            let gauges: Vec<String> = (self.custom.gauges.iter())
                .map(|(k, g)| format!("{k}: {} ({}..{})", g.last, g.min, g.max))
                .collect();
            let _ = writeln!(out, "gauges: {}", gauges.join(" | "));
        }
        if !self.thresholds.is_empty() {
            let _ = writeln!(out, "\nthresholds:");
            for verdict in &self.thresholds {
                let _ = writeln!(out, "  {verdict}");
            }
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "\nwarning: {warning}");
        }
        out
    }
}

/// `name: count | name: count`, in the map's order.
fn counts(map: &BTreeMap<String, impl Display>) -> String {
    let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    pairs.join(" | ")
}
