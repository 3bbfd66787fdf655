//! Thin, typed access to the host's imports other than HTTP.

use std::time::Duration;

use crate::bindings::molotov::scenario::{context, log as host_log, metrics, vars};
use crate::driver;

pub use host_log::Level;

/// A variable the operator passed with `--env KEY=VALUE`.
pub fn env(key: &str) -> Option<String> {
    context::env(key)
}

/// This run's shard of a larger one (`--shard I/N`): `(index, count)`, to
/// pick its own slice of test data.
pub fn shard() -> Option<(u32, u32)> {
    let number = |key| env(key)?.parse().ok();
    Some((number("MOLOTOV_SHARD")?, number("MOLOTOV_SHARD_COUNT")?))
}

/// This worker's id, from 0.
pub fn worker_id() -> u32 {
    driver::running().map_or_else(context::worker_id, |run| run.worker_id)
}

/// How many scenarios this worker has started, counting the current one.
pub fn step() -> u64 {
    driver::running().map_or_else(context::step, |run| run.step)
}

/// Suspends this worker for `ms` milliseconds; other workers go on. In an
/// `async fn` scenario, use [`sleep_async`]: this one would hold up the
/// other workers of a shared instance too.
pub fn sleep(ms: u32) {
    context::sleep(ms)
}

/// Suspends this `async fn` scenario's worker for `ms` milliseconds; the
/// other workers of its instance go on.
pub async fn sleep_async(ms: u32) {
    if driver::driving() {
        driver::Sleep::new(Duration::from_millis(ms.into())).await
    } else {
        context::sleep(ms)
    }
}

/// A shared variable, as set by any worker.
pub fn get_var(key: &str) -> Option<String> {
    vars::get(key)
}

/// Sets a shared variable for every worker.
pub fn set_var(key: &str, value: &str) {
    vars::set(key, value)
}

/// Logs a line through the host's console.
pub fn log(level: Level, message: &str) {
    host_log::log(level, message)
}

/// Prints a line on the host's console.
pub fn print(message: &str) {
    host_log::print(message)
}

/// Adds `delta` to a custom counter.
pub fn incr(name: &str, delta: i64) {
    metrics::incr(name, delta)
}

/// Records a custom timing, in microseconds.
pub fn timing(name: &str, us: u64) {
    metrics::timing(name, us)
}

/// Sets a custom gauge (reported as its last, lowest and highest value).
pub fn gauge(name: &str, value: f64) {
    metrics::gauge(name, value)
}
