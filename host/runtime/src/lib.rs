//! molotov's sandbox: the wasmtime engine, the compile cache, each worker's
//! place to run ([`Worker`]: an instance of its own with its limits, or a
//! seat on one it shares, as [`Workers`] decide), and the imports a scenario
//! gets.
//!
//! `bindings` holds the types generated from `wit/`, private to the crate;
//! `imports/`, `link.rs`, `guest_http.rs` and `contract.rs` are the only
//! places that convert them to and from the domain types of `molotov-http`,
//! `molotov-metrics` and `contract`. Callers (the CLI) see no WIT type.

mod bindings;
mod budget;
pub mod cache;
mod contract;
mod engine;
mod function_cache;
mod guest_http;
mod imports;
mod instance;
mod link;
mod multiplex;
mod multiplex_grpc;
mod multiplex_io;
mod outcome;
mod output;
mod router;
mod run;
mod seat;
mod sockets;
mod state;
mod stderr;
mod streams;
mod vars;
mod worker;
mod worker_events;

pub use budget::MemoryLimitExceeded;
pub use cache::default_dir as default_cache_dir;
pub use contract::{Description, Fixtures, RunArgs, ScenarioInfo};
pub use engine::{EPOCH_TICK, EngineLimits, LoadError, Loaded, engine, load};
pub use instance::{Instance, SessionFixture};
pub use molotov_protobuf::SchemaCache;
pub use outcome::{CallOutcome, GLOBAL_WORKER, GuestError, InstantiateError, WorkerError};
pub use output::{LogLevel, Output, OutputBudget};
pub use run::{RunAbort, RunContext};
pub use vars::{SharedVars, VarsLimitExceeded};
pub use worker::{Threads, Worker, Workers};
