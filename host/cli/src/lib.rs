//! The `molotov` command: its flags ([`cli`], [`config`]), the run
//! ([`runner`], [`processes`] for `-p`), what the operator sees while it
//! goes on ([`console`]), the built-in target ([`serve`]), and the project
//! tools ([`build`], [`scaffold`]).
//!
//! The runner drives the sandbox of `molotov-runtime`, which sends requests
//! with `molotov-http` and records them in `molotov-metrics`; the report at
//! the end comes from `molotov-metrics` too.

pub mod build;
pub mod cli;
pub mod config;
pub mod console;
pub mod interrupts;
pub mod processes;
pub mod runner;
pub mod scaffold;
pub mod serve;
