//! What the sandbox's calls come back with, shared by every module that
//! makes or answers them: a call's outcome, a broken guest ([`GuestError`]),
//! an instance that could not be made or replaced, and the worker id of the
//! global fixtures.

use crate::budget::MemoryLimitExceeded;

/// The worker id that the global fixtures' instance sees.
pub const GLOBAL_WORKER: u32 = u32::MAX;

/// A call into the guest that did not return: the guest is broken, not the
/// scenario's check. The instance must be replaced.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GuestError {
    #[error("guest exceeded its deadline of {seconds}s of CPU time in one call")]
    Deadline { seconds: f64 },
    #[error("{0}")]
    Memory(#[from] MemoryLimitExceeded),
    /// `backtrace` is the guest's wasm frames, empty when wasmtime has none.
    #[error("guest trapped: {message}")]
    Trap { message: String, backtrace: String },
}

/// A call of a scenario, fixture or picker: `Ok(Err(message))` is what the
/// guest reported (a failed check), `Err` a broken guest.
pub type CallOutcome<T = ()> = Result<Result<T, String>, GuestError>;

/// The component could not be instantiated (for a worker, a shared
/// instance or the global fixtures).
#[derive(Debug, thiserror::Error)]
#[error("cannot instantiate the component for {what}: {reason}")]
pub struct InstantiateError {
    pub what: String,
    pub reason: String,
}

/// A worker could not be given a place to run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Instantiate(#[from] InstantiateError),
    /// Its shared instance broke and could not be replaced.
    #[error("the shared instance is gone: it broke and could not be replaced")]
    SharedInstanceGone,
}
