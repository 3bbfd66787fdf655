//! The open model (`--rate`): runs start at a set rate whatever the service
//! does, each at its intended time, on whichever pre-allocated worker is
//! free. With none free, the run is dropped and counted (never delayed:
//! a stalled service must not slow the load down and hide its own stall).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::stopper::Stopper;
use crate::plan::Stages;
use molotov_metrics::Recorder;

/// How often the workers' readiness is looked at before the schedule starts.
const READY_POLL: Duration = Duration::from_millis(5);

/// The longest the scheduler sleeps, so a stage at rate 0 is left on time.
const LONGEST_WAIT: Duration = Duration::from_millis(50);

/// The runs' start times, handed to the idle workers.
pub struct Arrivals {
    idle: std::sync::Mutex<Idle>,
}

/// The workers waiting for a run, each woken alone by its own channel (no
/// queue that every waiting worker would line up on).
#[derive(Default)]
struct Idle {
    waiting: Vec<oneshot::Sender<Instant>>,
    /// The schedule has ended: no worker waits any more.
    closed: bool,
}

/// The rate over time: a constant `start`, or stages from it.
pub struct Schedule {
    pub start: f64,
    pub stages: Option<Stages>,
}

impl Schedule {
    fn runs_by(&self, elapsed: Duration) -> f64 {
        match &self.stages {
            Some(stages) => stages.runs_by(self.start, elapsed),
            None => self.start * elapsed.as_secs_f64(),
        }
    }

    fn rate_at(&self, elapsed: Duration) -> f64 {
        match &self.stages {
            Some(stages) => stages.target_at(self.start, elapsed),
            None => self.start,
        }
    }
}

impl Arrivals {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            idle: std::sync::Mutex::new(Idle::default()),
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Idle> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A worker's next run: its intended start, or `None` once the schedule
    /// has ended.
    pub async fn next(&self) -> Option<Instant> {
        let (sender, start) = oneshot::channel();
        {
            let mut idle = self.idle();
            if idle.closed {
                return None;
            }
            idle.waiting.push(sender);
        }
        start.await.ok()
    }

    /// Waits until `workers` wait for a run (set up, instances warm), or the
    /// run stops (a failed setup).
    pub async fn wait_for_workers(&self, workers: u32, stop: &Stopper) {
        let mut stopped = stop.stopped.subscribe();
        while self.idle().waiting.len() < workers as usize && !*stopped.borrow() {
            tokio::select! {
                _ = tokio::time::sleep(READY_POLL) => {}
                _ = stopped.wait_for(|stopped| *stopped) => {}
            }
        }
    }

    /// Hands a run to the worker that became idle last (its memory is the
    /// warmest); `false` when none waits.
    fn dispatch(&self, intended: Instant) -> bool {
        let mut idle = self.idle();
        while let Some(worker) = idle.waiting.pop() {
            // A worker that stopped waiting (the run is stopping) refuses it.
            if worker.send(intended).is_ok() {
                return true;
            }
        }
        false
    }

    /// Starts runs by `schedule` from `started` until `until` (or a stop),
    /// dropping those that find no worker free.
    pub async fn schedule(
        &self,
        schedule: Schedule,
        started: Instant,
        until: Option<Instant>,
        recorder: Recorder,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut started_runs: u64 = 0;
        let (mut then, mut runs_then) = (Duration::ZERO, 0.0);
        loop {
            let now = Instant::now();
            if *stop.borrow() || until.is_some_and(|end| now >= end) {
                break;
            }
            let elapsed = now - started;
            let runs_now = schedule.runs_by(elapsed);
            // Each due run's intended start, placed between the last wake-up
            // and this one where the rate's integral crosses it.
            while (started_runs + 1) as f64 <= runs_now {
                let run = (started_runs + 1) as f64;
                let share = (run - runs_then) / (runs_now - runs_then);
                let intended = started + then + (elapsed - then).mul_f64(share.clamp(0.0, 1.0));
                if !self.dispatch(intended) {
                    recorder.dropped(1);
                }
                started_runs += 1;
            }
            (then, runs_then) = (elapsed, runs_now);
            let rate = schedule.rate_at(elapsed);
            let wait = match rate > 0.0 {
                true => {
                    Duration::from_secs_f64(((started_runs + 1) as f64 - runs_now).max(0.0) / rate)
                }
                false => LONGEST_WAIT,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait.min(LONGEST_WAIT)) => {}
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
        }
        // Dropping their channels ends every waiting worker's wait.
        let mut idle = self.idle();
        idle.closed = true;
        idle.waiting.clear();
    }
}
