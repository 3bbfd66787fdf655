//! molotov: a load-testing engine whose scenarios are WebAssembly components.
//!
//! The binary (`main.rs`) parses flags ([`cli`]) and hands over to [`runner`],
//! which loads the component ([`component`]), runs one sandboxed instance per
//! worker, performs every HTTP request itself ([`session`]), records it
//! ([`metrics`]) and reports it ([`report`], [`console`], [`statsd`]). [`serve`] is the
//! built-in target server; [`processes`] runs `-p N` children and merges them; [`config`] reads `molotov.json` and [`scaffold`]
//! creates new scenario projects; [`build`] turns
//! Rust, Go, JavaScript and Python projects into components.

pub mod build;
pub mod cli;
pub mod component;
pub mod config;
pub mod console;
pub mod interrupts;
pub mod metrics;
pub mod processes;
pub mod report;
pub mod runner;
pub mod scaffold;
pub mod serve;
pub mod session;
pub mod statsd;
