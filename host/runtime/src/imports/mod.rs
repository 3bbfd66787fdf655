//! The imports a scenario gets, one module per interface of the contract;
//! the one place where WIT types become domain types and back.

pub mod context;
pub mod http;
pub mod log;
pub mod metrics;
pub mod vars;
pub mod wasi_http;
