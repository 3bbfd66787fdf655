//! Protobuf schemas for gRPC calls with JSON values: `.proto` sources
//! compiled in memory, or descriptor sets, and messages converted between
//! protobuf's JSON mapping and their encoding.

mod cache;
mod schema;

pub use cache::SchemaCache;
pub use schema::{MethodInfo, Schema};
