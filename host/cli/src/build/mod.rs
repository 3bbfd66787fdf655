//! `molotov build`: turns a scenario project in Rust, Go, JavaScript or Python into a component.
//!
//! Each language's own toolchain compiles the code (cargo, go, componentize-js,
//! componentize-py); the contract they build against is the one this binary
//! runs, written out from the copy compiled into it.

mod cached;
mod compile;
mod foreign;
mod go;
pub(crate) mod language;
mod project;
mod protobuf_runtime;
mod scripted;
mod tool;

pub use cached::{component_for, shown_name};
pub use compile::build;
pub use language::{Language, WIT};
pub use project::Project;
pub use tool::Chatter;
