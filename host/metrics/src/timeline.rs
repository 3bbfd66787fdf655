//! The run over time: counts and a latency histogram per interval (one
//! second by default), bounded in size, mergeable across processes.
//!
//! Workers add to the current [`Slice`] of their shard as they record; every
//! interval the run takes the slices (a brief lock per shard, nothing copied
//! on the request path) and appends them as one [`Interval`]. Past
//! [`MAX_INTERVALS`], neighbours merge two by two, so a week-long run keeps
//! the same memory as a short one, at a coarser grain.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::histogram::{self, add};

/// Intervals kept; a longer run merges neighbours (doubling their length).
pub const MAX_INTERVALS: usize = 4096;

/// What the workers recorded since the last interval ended.
#[derive(Debug, Clone)]
pub struct Slice {
    pub requests: u64,
    pub errors: u64,
    pub ok: u64,
    pub failed: u64,
    /// Open model: runs not started for want of a free worker.
    pub dropped: u64,
    pub latency_us: Histogram<u64>,
}

impl Default for Slice {
    fn default() -> Self {
        Self {
            requests: 0,
            errors: 0,
            ok: 0,
            failed: 0,
            dropped: 0,
            latency_us: histogram::new(),
        }
    }
}

impl Slice {
    pub fn add(&mut self, other: &Slice) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.ok += other.ok;
        self.failed += other.failed;
        self.dropped += other.dropped;
        add(&mut self.latency_us, &other.latency_us);
    }
}

/// One interval of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interval {
    /// Since the run started, in seconds.
    pub start_s: f64,
    pub end_s: f64,
    pub requests: u64,
    pub errors: u64,
    pub ok: u64,
    pub failed: u64,
    pub dropped: u64,
    /// Workers running at the interval's end (the most, once merged).
    pub workers: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    /// The interval's request latencies (HDR V2, base64), for exact merging.
    #[serde(with = "histogram::base64")]
    pub latency_histogram: Histogram<u64>,
}

impl Interval {
    fn new(start_s: f64, end_s: f64, slice: Slice, workers: u64) -> Self {
        let mut interval = Self {
            start_s,
            end_s,
            requests: slice.requests,
            errors: slice.errors,
            ok: slice.ok,
            failed: slice.failed,
            dropped: slice.dropped,
            workers,
            p50_ms: 0.0,
            p90_ms: 0.0,
            p99_ms: 0.0,
            latency_histogram: slice.latency_us,
        };
        interval.summarise();
        interval
    }

    fn summarise(&mut self) {
        let at = |q: f64| self.latency_histogram.value_at_quantile(q) as f64 / 1000.0;
        (self.p50_ms, self.p90_ms, self.p99_ms) = (at(0.5), at(0.9), at(0.99));
    }

    /// Adds what `other` counted in the same span (another process).
    fn absorb(&mut self, other: &Interval) {
        self.start_s = self.start_s.min(other.start_s);
        self.end_s = self.end_s.max(other.end_s);
        self.requests += other.requests;
        self.errors += other.errors;
        self.ok += other.ok;
        self.failed += other.failed;
        self.dropped += other.dropped;
        add(&mut self.latency_histogram, &other.latency_histogram);
        self.summarise();
    }
}

/// The run's intervals, in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timeline {
    /// The length of an interval, in seconds (doubled at each compaction).
    pub every_s: f64,
    pub intervals: Vec<Interval>,
}

impl Timeline {
    pub fn new(every_s: f64) -> Self {
        Self {
            every_s,
            intervals: Vec::new(),
        }
    }

    /// Appends what was recorded from the last interval's end to `now_s`
    /// (`sampled_s` after it), into the last interval while that is shorter
    /// than the timeline's grain (after a compaction doubled it).
    pub fn push(&mut self, now_s: f64, sampled_s: f64, slice: Slice, workers: u64) {
        let start_s = self.intervals.last().map_or(0.0, |last| last.end_s);
        let interval = Interval::new(start_s, now_s, slice, workers);
        if let Some(last) = self.intervals.last_mut()
            && last.end_s - last.start_s < self.every_s - sampled_s / 2.0
        {
            last.absorb(&interval);
            last.workers = workers;
            return;
        }
        self.intervals.push(interval);
        if self.intervals.len() > MAX_INTERVALS {
            self.compact();
        }
    }

    /// Merges neighbours two by two.
    fn compact(&mut self) {
        let intervals = std::mem::take(&mut self.intervals);
        let mut pairs = intervals.into_iter();
        while let Some(mut first) = pairs.next() {
            if let Some(second) = pairs.next() {
                let workers = first.workers.max(second.workers);
                first.absorb(&second);
                first.workers = workers;
            }
            self.intervals.push(first);
        }
        self.every_s *= 2.0;
    }

    /// At most `max_intervals` intervals, neighbours merged exactly (for a
    /// chart that must stay readable and small however long the run).
    pub fn coarsened(&self, max_intervals: usize) -> Vec<Interval> {
        let mut group = 1;
        while self.intervals.len().div_ceil(group) > max_intervals.max(1) {
            group *= 2;
        }
        (self.intervals.chunks(group))
            .map(|chunk| {
                let mut merged = chunk[0].clone();
                for interval in &chunk[1..] {
                    merged.absorb(interval);
                }
                merged.workers = chunk.iter().map(|i| i.workers).max().unwrap_or(0);
                merged
            })
            .collect()
    }

    /// Adds another process's or shard's timeline, interval by interval,
    /// its first interval at `offset_s` into this one's (0: they started
    /// together).
    pub fn merge(&mut self, other: &Timeline, offset_s: f64) {
        while self.every_s < other.every_s {
            self.compact();
        }
        let mut other = other.clone();
        while other.every_s < self.every_s {
            other.compact();
        }
        let shift = (offset_s / self.every_s).round().max(0.0) as usize;
        while self.intervals.len() < shift {
            let start_s = self.intervals.last().map_or(0.0, |last| last.end_s);
            let empty = Interval::new(start_s, start_s + self.every_s, Slice::default(), 0);
            self.intervals.push(empty);
        }
        for (index, interval) in other.intervals.iter().enumerate() {
            match self.intervals.get_mut(index + shift) {
                Some(mine) => {
                    let workers = mine.workers + interval.workers;
                    mine.absorb(interval);
                    mine.workers = workers;
                }
                None => {
                    let mut interval = interval.clone();
                    interval.start_s += shift as f64 * self.every_s;
                    interval.end_s += shift as f64 * self.every_s;
                    self.intervals.push(interval);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(requests: u64, latency_us: u64) -> Slice {
        let mut slice = Slice {
            requests,
            ..Slice::default()
        };
        for _ in 0..requests {
            histogram::record(&mut slice.latency_us, latency_us);
        }
        slice
    }

    #[test]
    fn a_long_run_keeps_a_bounded_timeline_with_every_count() {
        let mut timeline = Timeline::new(1.0);
        for second in 1..=(MAX_INTERVALS as u64 * 3) {
            timeline.push(second as f64, 1.0, slice(2, 1000), 1);
        }
        assert!(timeline.intervals.len() <= MAX_INTERVALS);
        let total: u64 = timeline.intervals.iter().map(|i| i.requests).sum();
        assert_eq!(total, MAX_INTERVALS as u64 * 6);
        assert_eq!(timeline.every_s, 4.0);
        assert_eq!(timeline.intervals[0].end_s, 4.0);
    }

    #[test]
    fn a_coarsened_timeline_keeps_every_count_in_fewer_intervals() {
        let mut timeline = Timeline::new(1.0);
        for second in 1..=10 {
            timeline.push(second as f64, 1.0, slice(second, 1000 * second), second);
        }
        let coarse = timeline.coarsened(3);
        assert_eq!(coarse.len(), 3);
        assert_eq!(coarse.iter().map(|i| i.requests).sum::<u64>(), 55);
        assert_eq!(
            (coarse[0].start_s, coarse[0].end_s, coarse[0].workers),
            (0.0, 4.0, 4)
        );
        assert_eq!(coarse[2].latency_histogram.len(), 19);
    }

    #[test]
    fn processes_merge_interval_by_interval() {
        let (mut a, mut b) = (Timeline::new(1.0), Timeline::new(1.0));
        a.push(1.0, 1.0, slice(3, 1000), 2);
        b.push(1.0, 1.0, slice(1, 5000), 2);
        b.push(2.0, 1.0, slice(4, 1000), 2);
        a.merge(&b, 0.0);
        assert_eq!(a.intervals.len(), 2);
        assert_eq!((a.intervals[0].requests, a.intervals[0].workers), (4, 4));
        assert_eq!(a.intervals[0].latency_histogram.len(), 4);
        assert!(a.intervals[0].p99_ms >= 4.9);
    }
}
