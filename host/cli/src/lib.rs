//! The `molotov` command: its flags ([`cli`], [`config`]), the run
//! ([`runner`], [`processes`] for `-p`, [`shard`] of a larger run), what the
//! operator sees while it goes on ([`console`], [`live_view`], [`terminal`]),
//! the results other runs merge
//! ([`raw`], [`merge`]), the HTML report and live dashboard ([`report`],
//! [`dashboard`]), the metrics pushed to Prometheus ([`remote_write`]), the
//! built-in target ([`serve`]), and the project
//! tools ([`build`], [`scaffold`], [`sdk`]).
//!
//! The runner drives the sandbox of `molotov-runtime`, which sends requests
//! with `molotov-http` and records them in `molotov-metrics`; the report at
//! the end comes from `molotov-metrics` too.

pub mod build;
pub mod cli;
pub mod config;
pub mod console;
pub mod dashboard;
pub mod interrupts;
pub mod junit;
pub mod k6_options;
pub mod k6_summary;
pub mod live_view;
pub mod merge;
pub mod plan;
pub mod planning;
pub mod processes;
pub mod raw;
pub mod remote_write;
pub mod report;
pub mod runner;
pub mod scaffold;
pub mod sdk;
pub mod serve;
pub mod shard;
pub mod terminal;
