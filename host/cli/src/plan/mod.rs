//! What a run is to do, as plain validated values: built once from the
//! flags and `molotov.json` (see `planning`), then read by the runner, `-p`
//! and the watchers. Nothing here knows of clap.

mod identity;
mod stages;

pub use identity::{IdentityMismatch, RunIdentity};
pub use stages::{Stage, Stages};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use molotov_http::{Cidr, ConnectTo};
use molotov_metrics::Threshold;
use url::Url;

use crate::k6_options::K6Scenario;
use crate::shard::Shard;

/// Molotov's default duration when neither `-d`, `-r` nor `--single-run` bound the run.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(86_400);

#[derive(Debug, Clone)]
pub struct RunPlan {
    pub component: ComponentRef,
    /// Where compiled components are cached (none: no cache).
    pub cache_dir: Option<PathBuf>,
    pub load: LoadPlan,
    pub stop: StopRules,
    pub http: HttpPlan,
    pub limits: Limits,
    pub output: OutputPlan,
    pub part: Part,
    /// The variables scenarios read (`--env`, and a shard's own).
    pub env: Vec<(String, String)>,
    /// The command line, as the reports show it (secrets hidden).
    pub command_line: String,
    /// What every part of this run shares, for `merge` to check.
    pub identity: RunIdentity,
}

/// The component to run, and how the user named it.
#[derive(Debug, Clone)]
pub struct ComponentRef {
    /// The `.wasm` file (a source's build output when a source was named).
    pub path: PathBuf,
    /// What the command line named: the source a run built, else the component.
    pub shown: String,
    /// SHA-256 of the component's bytes: parts of one run must run the same.
    pub sha256: String,
}

/// How much load, over what time: this process's share of it.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Workers in this process (pre-allocated ones in the open model; the
    /// highest stage target with closed-model stages).
    pub workers: u32,
    /// The global id of this process's first worker (shards number theirs apart).
    pub first_worker: u32,
    pub model: LoadModel,
    /// `-d` as given (what scenarios are told).
    pub duration: Option<Duration>,
    /// Runs per worker (`-r`).
    pub max_runs: Option<u64>,
    /// Every worker runs every scenario once, in name order.
    pub single_run: bool,
    /// Only this scenario (`-s`).
    pub single_mode: Option<String>,
    /// A pause after every run, added to each scenario's own delay.
    pub delay: Duration,
    /// Start the workers at this time (`--start-at`).
    pub start_at: Option<SystemTime>,
}

/// The three ways load is applied; the flags that cannot go together are
/// refused before a plan exists.
#[derive(Debug, Clone)]
pub enum LoadModel {
    /// A fixed number of workers running scenarios back to back, started
    /// linearly over `ramp_up`; with `sizing`, until the failure ratio
    /// passes this tolerance (in percent).
    Closed {
        ramp_up: Duration,
        sizing: Option<f64>,
    },
    /// Closed-model `--stages`: the stages' targets are the workers running.
    Staged(Stages),
    /// `--rate`: runs started per second on free pre-allocated workers,
    /// following `stages` when given.
    Open { rate: f64, stages: Option<Stages> },
}

impl LoadPlan {
    pub fn ramp_up(&self) -> Duration {
        match self.model {
            LoadModel::Closed { ramp_up, .. } => ramp_up,
            _ => Duration::ZERO,
        }
    }

    pub fn sizing_tolerance(&self) -> Option<f64> {
        match self.model {
            LoadModel::Closed { sizing, .. } => sizing,
            _ => None,
        }
    }

    pub fn stages(&self) -> Option<&Stages> {
        match &self.model {
            LoadModel::Staged(stages) => Some(stages),
            LoadModel::Open { stages, .. } => stages.as_ref(),
            LoadModel::Closed { .. } => None,
        }
    }

    /// How long the run lasts after its ramp-up: `-d`, else the stages,
    /// else a day unless runs (`-r`, `--single-run`) bound it.
    pub fn length(&self) -> Option<Duration> {
        match (
            self.duration.or(self.stages().map(Stages::total)),
            self.max_runs,
            self.single_run,
        ) {
            (Some(duration), _, _) => Some(duration),
            (None, None, false) => Some(DEFAULT_DURATION),
            _ => None,
        }
    }
}

/// When the run stops, and whether it failed.
#[derive(Debug, Clone)]
pub struct StopRules {
    /// At the end of the run, what is in flight has this long to finish.
    pub graceful_stop: Duration,
    /// At the end of the run, cancel what is in flight at once.
    pub force_shutdown: bool,
    /// Stop at the first failure (`-x`).
    pub exception: bool,
    /// Stop once this many runs have failed (`-f`).
    pub fail: Option<u64>,
    pub thresholds: Vec<Threshold>,
}

/// Where requests go, and where they may not.
#[derive(Debug, Clone)]
pub struct HttpPlan {
    /// The base URL as given (scenarios are told it); none: the built-in target.
    pub target: Option<String>,
    pub allow_hosts: Vec<String>,
    pub egress_allow: Vec<Cidr>,
    pub egress_deny: Vec<Cidr>,
    pub egress_strict: bool,
    pub connect_to: Vec<ConnectTo>,
    pub ca_certs: Vec<PathBuf>,
    /// `--insecure`: servers' certificates are not checked.
    pub insecure: bool,
    pub timeout: Duration,
}

/// What the host holds or does on the guests' behalf, bounded.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// Sockets and streams a worker holds at once.
    pub max_open: u32,
    /// Connections a worker's session uses at once.
    pub max_connections: u32,
    /// Frames a WebSocket server may send in a second.
    pub ws_max_frame_rate: u32,
    /// Messages a gRPC answer may carry.
    pub grpc_max_messages: usize,
    pub max_request_names: usize,
    pub max_metric_names: usize,
    pub max_vars_bytes: usize,
    /// Guest lines shown per second.
    pub max_output_lines: u32,
    pub max_memory_bytes: usize,
    /// CPU time a guest may spend in one call.
    pub guest_deadline: Duration,
    /// None: as many as the component says it runs well.
    pub workers_per_instance: Option<u32>,
}

/// What the operator sees and gets.
#[derive(Debug, Clone)]
pub struct OutputPlan {
    pub quiet: bool,
    pub verbose: u8,
    /// Plain progress lines instead of the live view.
    pub plain_console: bool,
    pub console_update: Option<Duration>,
    /// The timeline's interval in the results.
    pub timeline_every: Duration,
    /// Where `--statsd` sends its metrics.
    pub statsd: Option<String>,
    pub dashboard: Option<SocketAddr>,
    pub remote_write: Option<RemoteWritePlan>,
    pub files: ResultFiles,
}

#[derive(Debug, Clone)]
pub struct RemoteWritePlan {
    pub url: Url,
    pub user: Option<String>,
    pub labels: Vec<(String, String)>,
    pub every: Duration,
}

/// The results files asked for.
#[derive(Debug, Clone, Default)]
pub struct ResultFiles {
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub raw: Option<PathBuf>,
}

/// Which part of a larger run this process is.
#[derive(Debug, Clone)]
pub struct Part {
    /// Processes of this run on this machine (`-p`).
    pub processes: u32,
    pub shard: Option<Shard>,
    /// The run's id in the metrics pushed (shared by its processes).
    pub run_id: String,
    /// A `-p` child: write the raw results here, print nothing else.
    pub child_results: Option<PathBuf>,
    /// A k6 script's several scenarios, one per process (else empty).
    pub k6_scenarios: Vec<K6Scenario>,
    /// A child of such a run: the shared variables its parent's global
    /// setup left, in place of the child's own global setup and teardown.
    pub fixtures_from: Option<PathBuf>,
}

impl Part {
    pub fn is_child(&self) -> bool {
        self.child_results.is_some()
    }

    /// `I/N`, as the results show a shard.
    pub fn shown_shard(&self) -> Option<String> {
        self.shard.map(|s| format!("{}/{}", s.index, s.count))
    }
}
