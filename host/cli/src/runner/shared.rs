//! What every worker task of a run shares.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use molotov_metrics::Timeline;
use molotov_runtime::{Description, Instance, Loaded, RunContext, Workers};
use tokio::sync::watch;

use super::arrivals::Arrivals;

use super::picker::Picker;
use super::stopper::Stopper;
use crate::console::Console;
use crate::plan::RunPlan;

pub struct Shared {
    pub loaded: Loaded,
    pub context: Arc<RunContext>,
    pub description: Description,
    /// The pause after each run, by scenario index.
    pub delays: Vec<Duration>,
    pub picker: Picker,
    pub plan: RunPlan,
    pub console: Console,
    pub workers: u32,
    pub ramp_up: Duration,
    /// When `-d` (or the stages) end: set as the run starts (in the open
    /// model, once its workers are ready).
    pub deadline: OnceLock<Option<Instant>>,
    pub stop: Stopper,
    /// The workers' instances: their own, or shared.
    pub instances: Workers,
    /// Workers per instance: 1 when each has its own.
    pub per_instance: u32,
    /// The instance for global fixtures and run-wide events (`current-workers`).
    pub global: tokio::sync::Mutex<Instance>,
    /// The open model (`--rate`): the runs' intended starts.
    pub arrivals: Option<Arc<Arrivals>>,
    /// Closed-model `--stages`: how many workers run now (the others wait).
    pub active_workers: Option<watch::Sender<u32>>,
    /// The run over time, an interval at a time.
    pub timeline: std::sync::Mutex<Timeline>,
}

impl Shared {
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.get().copied().flatten()
    }
}
