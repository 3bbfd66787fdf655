//! Every command-line flag, in one place (clap definitions only).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::build::Language;
use crate::shard::Shard;

#[derive(Debug, Parser)]
#[command(name = "molotov", version, about = "Load testing with WebAssembly scenarios", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load test of a scenario component.
    // Later flags override earlier ones: `-p` children append theirs.
    #[command(args_override_self = true)]
    Run(Box<RunFlags>),
    /// Serve the built-in target: a small, fast HTTP service for demos and tests.
    Serve(ServeArgs),
    /// Create a ready-to-build scenario project (Rust, or `--lang go|js|python`), with a `molotov.json`.
    New(NewArgs),
    /// Write this binary's SDK into a project's `molotov-sdk/` (after an upgrade of molotov, say).
    Vendor(VendorArgs),
    /// Build a scenario project (Rust, Go, JavaScript or Python) into a component.
    Build(BuildArgs),
    /// Merge the raw results (`run --raw`) of a run's shards into one report.
    Merge(MergeArgs),
    /// Write a run's results as one self-contained HTML page (charts, tables).
    Report(ReportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A run's results (`run --json`), or the raw results (`run --raw`) of
    /// one run or of its shards, merged exactly.
    #[arg(required = true, value_name = "RESULTS")]
    pub files: Vec<PathBuf>,

    /// The HTML file to write.
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,

    /// Compare with this run (its `--json` or raw results): before/after
    /// totals, per request name, and latency distributions.
    #[arg(long, value_name = "RESULTS")]
    pub baseline: Option<PathBuf>,

    /// Merge the shards given even when some of the run's are missing.
    #[arg(long = "allow-partial")]
    pub allow_partial: bool,
}

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The shards' raw results files.
    #[arg(required = true, value_name = "RAW")]
    pub files: Vec<PathBuf>,

    /// Write the merged results here (as `run --json`).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Write the merged results as an HTML report here (as `run --html`).
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,

    /// Write the merged verdicts as JUnit XML here (as `run --junit`).
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,

    /// A pass/fail criterion, judged on the merged results (as `run`'s).
    #[arg(long = "threshold", value_name = "EXPR")]
    pub threshold: Vec<molotov_metrics::Threshold>,

    /// Merge the shards given even when some of the run's are missing.
    #[arg(long = "allow-partial")]
    pub allow_partial: bool,

    /// Print nothing (the JSON file is still written).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RunFlags {
    /// The scenario component (`.wasm`), or its source (a `.py` or `.js` file, or a
    /// project directory), built first and cached; with `--config`, a test in that file.
    pub component: PathBuf,

    /// Read options from this Molotov-style JSON file (`molotov.json`); flags given here override it.
    ///
    /// Each test's options are the long flag names (`max_runs` or
    /// `max-runs`); `molotov new` writes such a file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Concurrent workers per process, each with its own HTTP session; up to
    /// `--workers-per-instance` of them share one sandboxed instance
    /// [default: 1; 500 with --sizing, 100 with --rate].
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    pub workers: Option<u32>,

    /// Run this many processes of `-w` workers each, with one merged report.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub processes: u32,

    /// Run for this many seconds (runs in progress get `--graceful-stop`)
    /// [default: the stages' total, else 86400 (24 hours) unless `-r` or
    /// `--single-run` end the run].
    #[arg(short, long, value_parser = positive_seconds, allow_negative_numbers = true)]
    pub duration: Option<Duration>,

    /// Stop each worker after this many runs (`-w 2 -r 3` runs 6 scenarios).
    #[arg(short = 'r', long = "max-runs")]
    pub max_runs: Option<u64>,

    /// Open model: start this many runs per second (`-p` divides it), each on
    /// a free worker of the `-w` pre-allocated [default -w: 100]; with none
    /// free, the run is dropped and counted.
    #[arg(long, value_parser = positive_rate, value_name = "RUNS_PER_S")]
    pub rate: Option<f64>,

    /// `DURATION:TARGET,…` (`30s:100,2m:100,30s:0`), each target reached
    /// linearly from the last: workers, or with `--rate` runs per second
    /// (from `--rate`). Without `-d`, the run lasts the stages.
    #[arg(long, value_name = "STAGES")]
    pub stages: Option<crate::plan::Stages>,

    /// The length of the timeline's intervals in the JSON results, in seconds.
    #[arg(long = "timeline-every", default_value = "1", value_parser = positive_seconds, value_name = "S")]
    pub timeline_every: Duration,

    /// Start workers linearly over this many seconds [default: 0, or 300 with --sizing].
    ///
    /// Worker i of N starts at i × RAMP_UP / N; a stop (Ctrl+C, `-x`, `-f`,
    /// sizing) cancels the starts still to come.
    #[arg(long = "ramp-up", value_parser = seconds)]
    pub ramp_up: Option<Duration>,

    /// Ramp workers up until the failure ratio passes `--sizing-tolerance`,
    /// and report the worker count reached.
    #[arg(long)]
    pub sizing: bool,

    /// Failure ratio that ends `--sizing`, in percent of the recent runs.
    #[arg(long = "sizing-tolerance", default_value_t = 5.0, value_parser = percent, value_name = "P")]
    pub sizing_tolerance: f64,

    /// At the end of `-d`, cancel the runs in flight instead of letting them finish.
    #[arg(long = "force-shutdown")]
    pub force_shutdown: bool,

    /// At the end of `-d`, the runs in flight have this many seconds to
    /// finish; then they are cancelled (counted as cancelled).
    ///
    /// Each teardown fixture gets as long, then is abandoned: `-d` bounds
    /// the run's time whatever a scenario or a server does.
    #[arg(long = "graceful-stop", default_value = "30", value_parser = seconds, value_name = "S")]
    pub graceful_stop: Duration,

    /// Pause after every run, in seconds, added to the scenario's own delay.
    #[arg(long, default_value = "0", value_parser = seconds)]
    pub delay: Duration,

    /// Stop at the first failure, and exit 1.
    #[arg(short = 'x', long = "exception")]
    pub exception: bool,

    /// Stop and exit 1 once this many runs have failed.
    #[arg(short, long = "fail", value_parser = clap::value_parser!(u64).range(1..))]
    pub fail: Option<u64>,

    /// Every worker runs every scenario once, in name order (a functional test).
    #[arg(long = "single-run")]
    pub single_run: bool,

    /// Run only this scenario; an unknown name is refused, with the names
    /// the component has.
    #[arg(short = 's', long = "single-mode", value_name = "NAME")]
    pub single_mode: Option<String>,

    /// Print nothing (the results files are still written).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Show each failure (`-v`), and also each request and response (`-vv`).
    ///
    /// `-v`: each failed run with its message, the guest's info logs, and a
    /// failed build's toolchain output.
    ///
    /// `-vv`: also each request and response (binary bodies as a
    /// placeholder), a trapped guest's wasm backtrace, and the guest's debug
    /// logs.
    #[arg(short, long, action = ArgAction::Count)]
    pub verbose: u8,

    /// Plain progress lines (for CI logs) instead of the live view; the
    /// default when stderr is not a terminal.
    #[arg(short, long)]
    pub console: bool,

    /// Seconds between console updates [default: 0.2 for the live view, 1 for plain lines].
    #[arg(long = "console-update", value_parser = positive_seconds, value_name = "S")]
    pub console_update: Option<Duration>,

    /// Send a timing and a status counter per request, and scenario outcomes, to statsd.
    #[arg(long)]
    pub statsd: bool,

    /// Where `--statsd` sends its metrics.
    #[arg(
        long = "statsd-address",
        default_value = "udp://localhost:8125",
        value_name = "URL"
    )]
    pub statsd_address: String,

    /// Base URL that relative URLs in scenarios resolve against. Without it,
    /// molotov serves its built-in target on 127.0.0.1 and uses that.
    #[arg(long, value_name = "URL", value_parser = target_url)]
    pub target: Option<String>,

    /// A variable the scenario can read (`molotov::env`), repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    pub env: Vec<(String, String)>,

    /// Write the complete results as JSON to this file, however the run
    /// ends (also after Ctrl+C, `-x` or `-f`).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Write the results as a self-contained HTML report (charts, tables) to
    /// this file, whenever `--json` would be written.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,

    /// Write the run's verdicts as JUnit XML to this file, for the test
    /// reporters of CI (Jenkins, GitLab, GitHub).
    ///
    /// The run, each threshold and each scenario is a test case, and a
    /// failure says why; valid against Jenkins' `junit-10.xsd`. Written
    /// whenever `--json` would be.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,

    /// Serve a live dashboard of the run (the HTML report, updated every
    /// second) at `--dashboard=ADDR` [default: 127.0.0.1:5680].
    ///
    /// `--dashboard=127.0.0.1:0` picks a free port, printed at the start.
    /// It shows one process's run, so it cannot go with `-p`.
    #[arg(
        long,
        value_name = "ADDR",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "127.0.0.1:5680"
    )]
    pub dashboard: Option<std::net::SocketAddr>,

    /// Push metrics to this Prometheus remote-write endpoint
    /// (`http://host:9090/api/v1/write`) every `--prometheus-rw-every` and at the end.
    ///
    /// http or https, with no credentials in the URL (reports show it): use
    /// `--prometheus-rw-user`.
    #[arg(long = "prometheus-rw", value_name = "URL", value_parser = remote_write_url)]
    pub prometheus_rw: Option<url::Url>,

    /// Basic-auth user for `--prometheus-rw`; the password is read from
    /// MOLOTOV_PROMETHEUS_RW_PASSWORD.
    #[arg(
        long = "prometheus-rw-user",
        value_name = "USER",
        requires = "prometheus_rw"
    )]
    pub prometheus_rw_user: Option<String>,

    /// A label added to every series pushed, repeatable: `env=staging`.
    ///
    /// A valid Prometheus label name, but none that molotov's series use
    /// (`name`, `status`, `kind`, `scenario`, `outcome`, `metric`, `le`);
    /// `job`, `run_id`, `process` and `shard` may be overridden.
    #[arg(long = "prometheus-label", value_name = "KEY=VALUE", value_parser = prometheus_label, requires = "prometheus_rw")]
    pub prometheus_label: Vec<(String, String)>,

    /// Seconds between pushes to `--prometheus-rw`.
    #[arg(long = "prometheus-rw-every", default_value = "5", value_parser = positive_seconds, value_name = "S")]
    pub prometheus_rw_every: Duration,

    /// Allow requests only to this host (`name` or `name:port`), repeatable
    /// [default: any host].
    ///
    /// Requests to other hosts fail with `host-not-allowed`. The addresses
    /// behind an allowed name still pass the egress policy.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,

    /// Allow connections to this address range (`10.1.0.0/16`, or one
    /// address), repeatable.
    ///
    /// Lifts the default refusals (cloud metadata,
    /// link-local, unspecified, multicast, broadcast) and those of
    /// `--egress-strict` for it. Judged on the address connected to.
    #[arg(long = "egress-allow", value_name = "CIDR")]
    pub egress_allow: Vec<molotov_http::Cidr>,

    /// Refuse connections to this address range, repeatable; wins over
    /// `--egress-allow`.
    #[arg(long = "egress-deny", value_name = "CIDR")]
    pub egress_deny: Vec<molotov_http::Cidr>,

    /// For running others' scenarios (shared CI): a strict egress policy.
    ///
    /// Contact only the target's
    /// host and the `--allow-host` hosts, and refuse loopback and private
    /// addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) unless
    /// they are named as literals there (or `localhost`) or allowed with
    /// `--egress-allow`.
    #[arg(long = "egress-strict")]
    pub egress_strict: bool,

    /// A pass/fail criterion, repeatable; a failed threshold exits 1.
    ///
    /// `p99 < 300ms`, `GET /items: p95 < 120ms`, `errors < 0.1%`,
    /// `unexpected < 1%` (no response or a status outside 200-399), `rps >
    /// 450`, `scenario checkout: failed < 1%`, `custom cart: value > 2`;
    /// `… abort [after S]` also checks it during the run and stops it on
    /// failure. The grammar: docs/load-models.md.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub threshold: Vec<molotov_metrics::Threshold>,

    /// Connect to TO_HOST:TO_PORT for requests to HOST:PORT, repeatable:
    /// `example.com:80:127.0.0.1:8080`.
    ///
    /// The URL, Host header, cookies and TLS name are unchanged (curl's
    /// rule; an empty part matches any or keeps the original): a scenario
    /// written for `http://example.com` runs against a local server.
    #[arg(long = "connect-to", value_name = "HOST:PORT:TO_HOST:TO_PORT")]
    pub connect_to: Vec<molotov_http::ConnectTo>,

    /// Also trust the CA certificates in this PEM file (staging, internal
    /// services), beside webpki's roots; repeatable.
    #[arg(long = "ca-cert", value_name = "PEM")]
    pub ca_cert: Vec<PathBuf>,

    /// Do not check servers' TLS certificates (a target with a self-signed
    /// one; k6's `insecureSkipTLSVerify`): its traffic can then be read by
    /// whoever sits between. `--ca-cert` is the safe way.
    #[arg(long)]
    pub insecure: bool,

    /// Default timeout of each HTTP request, in seconds: the whole exchange,
    /// redirects included.
    #[arg(long, default_value = "30", value_parser = seconds)]
    pub timeout: Duration,

    /// The largest response body accepted, in MiB; a larger one fails its
    /// request (`body-too-large`) before it is held in memory.
    #[arg(long = "max-body", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096), value_name = "MIB")]
    pub max_body_mib: u32,

    /// WebSockets, streamed responses and gRPC calls one worker may hold
    /// open at once; past it, opening one fails (`too-many-open`). 0 allows none.
    #[arg(long = "max-open", default_value_t = 16, value_parser = clap::value_parser!(u32).range(0..=65536), value_name = "N")]
    pub max_open: u32,

    /// Connections one worker's session may use at once (as a browser opens
    /// six to a host); more concurrent requests on it wait for one. A
    /// shared instance's own session (JavaScript's `fetch()`, Go's
    /// `net/http`) stands for all its workers: as many times more.
    #[arg(long = "max-connections", default_value_t = molotov_http::HttpClient::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1024), value_name = "N")]
    pub max_connections: u32,

    /// Frames a WebSocket server may send in one second (control frames and
    /// fragments included); past it the socket fails (`frame-rate`), so a
    /// flooding server cannot hold the worker's CPU.
    #[arg(long = "ws-max-frame-rate", default_value_t = molotov_http::WsLimits::DEFAULT_FRAMES_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..), value_name = "FRAMES")]
    pub ws_max_frame_rate: u32,

    /// Messages a gRPC answer may carry; past it the call fails
    /// (`too-many-messages`), so an endless stream cannot grow the host.
    #[arg(long = "grpc-max-messages", default_value_t = molotov_http::HttpClient::DEFAULT_GRPC_MAX_MESSAGES, value_parser = clap::value_parser!(u32).range(1..=10_000_000), value_name = "N")]
    pub grpc_max_messages: u32,

    /// Distinct request names kept in the results; past it, requests are
    /// counted under `(other)`, with a warning in the results (a name per id
    /// in `/users/{id}` would otherwise cost a histogram each).
    #[arg(long = "max-request-names", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_request_names: u32,

    /// Distinct custom metric names (`incr`, `timing`, `gauge`) kept; past
    /// it, `(other)`, with a warning in the results.
    #[arg(long = "max-metric-names", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_metric_names: u32,

    /// Bytes of shared variables (`set_var`, keys and values) the run
    /// keeps, in MiB; a `set_var` past it fails its run.
    #[arg(long = "max-vars", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096), value_name = "MIB")]
    pub max_vars_mib: u32,

    /// Guest lines (prints and logs, every worker together) shown per
    /// second; past it they are dropped, and the results say so.
    #[arg(long = "max-output", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..), value_name = "LINES")]
    pub max_output: u32,

    /// Workers that share one instance of the component [default: what the
    /// component says, at most 128].
    ///
    /// Go components, and Rust, JavaScript and Python ones whose scenarios
    /// are all async, say 128 (one language runtime for many workers); the
    /// others say 1. 1 gives every worker a sandbox of its own.
    #[arg(long = "workers-per-instance", value_parser = clap::value_parser!(u32).range(1..=1024), value_name = "N")]
    pub workers_per_instance: Option<u32>,

    /// Memory limit of each instance, in MiB: its linear memory plus the
    /// responses the host holds for it.
    ///
    /// Past it, the runs in flight on the instance fail (`guest exceeded its
    /// memory limit`) and the instance is replaced.
    #[arg(long = "max-memory", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_memory_mib: u32,

    /// CPU time the guest may spend in one call, in seconds (waiting on HTTP
    /// or `sleep` does not count).
    ///
    /// In an instance shared by several workers, a call is one turn of its
    /// scheduler. Past it, the runs in flight on the instance fail and the
    /// instance is replaced.
    #[arg(long = "guest-deadline", default_value = "10", value_parser = seconds)]
    pub guest_deadline: Duration,

    /// Where compiled components are cached (or set MOLOTOV_CACHE_DIR)
    /// [default: $XDG_CACHE_HOME/molotov, or ~/.cache/molotov].
    ///
    /// It keeps compiled components (at most 4 GiB, the least recently used
    /// going first); its `functions/` the compiled functions that components
    /// share (a new JavaScript or Python script compiles only what is its
    /// own), its `built/` the components built from projects and scripts (at
    /// most 1 GiB, likewise), its `js-engine/` the JavaScript engine every
    /// script's build starts from; delete any of them to reclaim the space.
    #[arg(long = "cache-dir", env = "MOLOTOV_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Run as shard I of N (from 0) of a larger run: its share of `-w`,
    /// `--rate` and stages, with global worker ids; read from Slurm's,
    /// Kubernetes' or Nomad's variables when not given.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,

    /// The number of shards, for schedulers whose variables give only the
    /// index (Kubernetes `JOB_COMPLETION_INDEX`, Nomad `NOMAD_ALLOC_INDEX`).
    #[arg(long = "shard-count", value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub shard_count: Option<u32>,

    /// Start the workers at this time (RFC 3339, `2026-12-02T10:00:00Z`, or
    /// `+S` seconds from now), so that shards start together; a run that
    /// starts late says so in its results.
    #[arg(long = "start-at", value_parser = start_time, value_name = "TIME")]
    pub start_at: Option<SystemTime>,

    /// Also write the raw results (every histogram, the timeline) here, for
    /// `molotov merge`.
    #[arg(long, value_name = "PATH")]
    pub raw: Option<PathBuf>,

    /// The run's id in the metrics pushed (`--prometheus-rw`); `-p` gives its
    /// children its own [default: random].
    #[arg(long = "run-id", hide = true, default_value = "")]
    pub run_id: String,

    /// Set by `-p` for its child processes: write the raw results here, print nothing else.
    #[arg(long = "tally-out", hide = true)]
    pub tally_out: Option<PathBuf>,

    /// Set for the child process that runs one of a k6 script's several
    /// scenarios: its name.
    #[arg(long = "k6-scenario", hide = true, requires = "tally_out")]
    pub k6_scenario: Option<String>,

    /// Set for such a child: the shared variables the parent's run of the
    /// script's `setup` left (JSON), which replace the child's own `setup`
    /// and `teardown`.
    #[arg(long = "fixtures-from", hide = true, requires = "k6_scenario")]
    pub fixtures_from: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Port to listen on, on 127.0.0.1 (0 picks a free one).
    #[arg(short, long, default_value_t = 8080)]
    pub port: u16,
}

#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// The project directory to create (it must not exist, or be empty).
    pub dir: PathBuf,

    /// The language of the scenarios.
    #[arg(long, value_enum, default_value_t = Language::Rust)]
    pub lang: Language,

    /// Refer to the SDK in this directory (an SDK checkout) instead of
    /// vendoring this binary's copy into `molotov-sdk/`.
    #[arg(long, value_name = "DIR")]
    pub sdk: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct VendorArgs {
    /// The project whose `molotov-sdk/` to write (or refresh after an upgrade of molotov).
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// The SDK's language [default: the project's, told by its files].
    #[arg(long, value_enum)]
    pub lang: Option<Language>,
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// The project: a directory (its language is told by `Cargo.toml`, `go.mod`,
    /// `package.json` or `scenarios.py`), or a `.js` or `.py` entry file.
    pub project: PathBuf,

    /// Where to write the component [default: `<dir>/<dir name>.wasm`; Rust: cargo's output].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Where what builds share is kept: the JavaScript engine every script's
    /// build starts from, in `js-engine/` (or set MOLOTOV_CACHE_DIR)
    /// [default: $XDG_CACHE_HOME/molotov, or ~/.cache/molotov].
    #[arg(long = "cache-dir", env = "MOLOTOV_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// The longest time any flag takes: ten years, so that adding several
/// of them to the clock cannot overflow it.
const MAX_SECONDS: f64 = 10.0 * 365.0 * 86_400.0;

/// A number of seconds (`1.5`): the one place where flags become durations.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s < 0.0 => Err(format!("`{text}` is negative: seconds count from 0")),
        Ok(s) if s > MAX_SECONDS => Err(format!(
            "`{text}` seconds is too long (at most {MAX_SECONDS} s, ten years)"
        )),
        Ok(s) if s >= 0.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("`{text}` is not a number of seconds")),
    }
}

fn positive_seconds(text: &str) -> Result<Duration, String> {
    match seconds(text)? {
        Duration::ZERO => Err("must be more than 0 seconds".into()),
        s => Ok(s),
    }
}

/// `--start-at`: RFC 3339, or `+S` seconds from now.
fn start_time(text: &str) -> Result<SystemTime, String> {
    if let Some(seconds) = text.strip_prefix('+') {
        return Ok(SystemTime::now() + self::seconds(seconds)?);
    }
    humantime::parse_rfc3339_weak(text).map_err(|e| {
        format!("`{text}` is not an RFC 3339 time (`2026-12-02T10:00:00Z`) or +SECONDS: {e}")
    })
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 10_000_000.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate of runs per second in (0, 10000000]"
        )),
    }
}

fn percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 100.0 => Ok(p),
        _ => Err(format!("`{text}` is not a percentage in (0, 100]")),
    }
}

/// Label names that molotov's series use for what they measure (`job`,
/// `run_id`, `process` and `shard` may be overridden).
const OWN_LABELS: [&str; 7] = [
    "name", "status", "kind", "scenario", "outcome", "metric", "le",
];

/// `--prometheus-label`: a valid Prometheus label name that is not one of
/// molotov's own (`job` may be overridden), and a value.
fn prometheus_label(text: &str) -> Result<(String, String), String> {
    let (key, value) = key_value(text)?;
    let mut chars = key.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid || key.starts_with("__") {
        return Err(format!(
            "`{key}` is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not __…)"
        ));
    }
    if OWN_LABELS.contains(&key.as_str()) {
        return Err(format!(
            "`{key}` is a label molotov's series use themselves"
        ));
    }
    if value.is_empty() {
        return Err(format!(
            "`{text}` has an empty value (Prometheus drops such labels)"
        ));
    }
    Ok((key, value))
}

/// `--prometheus-rw`: http(s), with no credentials in it (they would be
/// shown in reports; use `--prometheus-rw-user`).
fn remote_write_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials in the URL would be shown in reports: use --prometheus-rw-user and MOLOTOV_PROMETHEUS_RW_PASSWORD"
                .to_string(),
        );
    }
    Ok(url)
}

/// `--target`: an http or https URL with a host, refused before the run
/// rather than failing every request.
fn target_url(text: &str) -> Result<String, String> {
    let web = |url: &url::Url| matches!(url.scheme(), "http" | "https");
    match url::Url::parse(text) {
        Ok(url) if web(&url) && url.has_host() => Ok(text.to_string()),
        // `localhost:8080` parses, as the scheme `localhost`.
        _ if !text.contains("://") => match url::Url::parse(&format!("http://{text}")) {
            Ok(url) if url.has_host() => Err(format!(
                "`{text}` has no scheme: write http://{text} or https://{text}"
            )),
            _ => Err(format!("`{text}` is not a URL")),
        },
        Ok(url) if !web(&url) => Err(format!(
            "`{text}`: only http:// and https:// targets can be load-tested"
        )),
        Ok(_) => Err(format!("`{text}` names no host")),
        Err(error) => Err(format!("`{text}` is not a URL: {error}")),
    }
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/cli.md` is generated from these definitions: this test fails
    /// when it is stale, and rewrites it with `MOLOTOV_UPDATE_DOCS=1`.
    #[test]
    fn the_cli_reference_in_docs_is_current() {
        // Found when the test runs: a build cache may hold it from another clone.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test");
        let path = std::path::Path::new(&manifest_dir).join("../../docs/cli.md");
        let generated = clap_markdown::help_markdown::<Cli>();
        if std::env::var_os("MOLOTOV_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/cli.md is stale: run `MOLOTOV_UPDATE_DOCS=1 cargo test -p molotov --lib cli_reference`"
        );
    }

    #[test]
    fn a_target_is_an_http_url_with_a_host() {
        assert!(target_url("http://localhost:18080").is_ok());
        assert!(target_url("https://[::1]/base/").is_ok());
        let refused = |text: &str| target_url(text).unwrap_err();
        assert!(refused("localhost:18080").contains("write http://localhost:18080"));
        assert!(refused("ftp://example.com/").contains("only http:// and https://"));
        assert!(refused("http://").contains("not a URL"));
        assert!(refused("not a url").ends_with("is not a URL"));
    }

    #[test]
    fn a_duration_is_positive() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(args)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        for (value, expected) in [("0", "more than 0"), ("-1", "negative")] {
            let error = parse(&["molotov", "run", "x.wasm", "-d", value]).unwrap_err();
            assert!(error.contains(expected), "{value}: {error}");
        }
        assert!(parse(&["molotov", "run", "x.wasm", "-d", "0.5"]).is_ok());
    }

    #[test]
    fn prometheus_labels_are_valid_names_that_molotov_does_not_use() {
        assert_eq!(
            prometheus_label("env=staging"),
            Ok(("env".into(), "staging".into()))
        );
        assert!(prometheus_label("job=nightly").is_ok());
        for refused in ["my-env=x", "1x=y", "__name__=z", "le=1", "name=x", "env="] {
            assert!(prometheus_label(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn remote_write_urls_carry_no_credentials() {
        assert!(remote_write_url("https://u:p@example.com/write").is_err());
        assert!(remote_write_url("ftp://example.com/write").is_err());
    }
}
