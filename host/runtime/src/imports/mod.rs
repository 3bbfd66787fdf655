//! The imports a scenario gets, one module per interface of the contract,
//! each implemented on the worker's store state.

pub mod context;
pub mod grpc;
pub mod http;
pub mod log;
pub mod metrics;
pub mod protobuf;
pub mod streaming;
pub mod vars;
pub mod websocket;
