//! molotov's measurements: what every worker records (sharded, so workers
//! never contend on one lock), HDR histograms that merge exactly, the
//! end-of-run results ([`Report`]: its summary text, its JSON file, the
//! pass/fail rule) and the statsd exporter.
//!
//! It knows nothing of HTTP clients or WebAssembly: the runtime tells a
//! worker's [`Recorder`] what happened, the CLI reads [`Metrics`] and makes a
//! [`Report`].

mod egress;
pub mod histogram;
mod k6;
mod k6_terms;
mod names;
mod pass_fail;
mod percentiles;
mod recorder;
mod report;
mod results_file;
pub mod statsd;
mod summary;
mod tally;
mod threshold;
mod timeline;
mod units;

pub use egress::{Contacted, Destination, Egress, Refused};
pub use k6::{
    K6Check, K6Group, K6Metric, K6Results, K6Script, K6Threshold, TREND_STATS, TREND_STATS_KEPT,
    ThresholdOk,
};
pub use names::OTHER;
pub use percentiles::Percentiles;
pub use recorder::{Live, Metrics, NameLimits, Progress, Recorder};
pub use report::{NamedRequests, Report, RunFacts, SizingReport, StopReason};
pub use results_file::ResultsFileError;
pub use statsd::Statsd;
pub use tally::{ByName, Gauge, RequestOutcome, RequestStats, ScenarioStats, Tally};
pub use threshold::{Threshold, Verdict};
pub use timeline::{Interval, Slice, Timeline};
pub use units::si_bytes;
