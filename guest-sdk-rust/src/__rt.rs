//! Glue called by the code that `#[molotov::scenarios]` generates; not a public API.

pub use crate::bindings::exports::molotov::scenario::driver::Guest as DriverGuest;
pub use crate::bindings::exports::molotov::scenario::scenarios::{
    Description, EventKinds, Fixtures, Guest, ScenarioInfo,
};
pub use crate::bindings::molotov::scenario::http::Session as HostSession;
pub use crate::driver::{Task, block_on, capacity, drive, task};

use crate::error::Result;

/// Turns a scenario's or fixture's result into the contract's error value.
pub fn outcome<T>(result: Result<T>) -> std::result::Result<T, String> {
    result.map_err(|e| e.message().to_string())
}

/// The error for an index past the component's scenarios.
pub fn unknown_scenario(index: u32) -> std::result::Result<(), String> {
    Err(format!("this component has no scenario at index {index}"))
}
