//! Ctrl+C (SIGINT), counted from start-up: one that arrives while the
//! component loads still stops the run once it starts.

use std::sync::OnceLock;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

static COUNT: OnceLock<watch::Receiver<u32>> = OnceLock::new();

/// The number of interrupts so far; `changed()` wakes on the next one, or at
/// once for any that came before. The first call (inside the runtime) takes
/// over SIGINT from the default, which would end the process.
pub fn subscribe() -> watch::Receiver<u32> {
    COUNT
        .get_or_init(|| {
            let (count, receiver) = watch::channel(0);
            match signal(SignalKind::interrupt()) {
                Ok(mut interrupts) => {
                    tokio::spawn(async move {
                        while interrupts.recv().await.is_some() {
                            count.send_modify(|n| *n += 1);
                        }
                    });
                }
                // Without a handler, Ctrl+C ends the process the default way.
                Err(_) => std::mem::forget(count),
            }
            receiver
        })
        .clone()
}

/// The interrupts so far (0 before [`subscribe`] took over SIGINT), for the
/// code that waits without the async runtime: a toolchain step, say.
pub fn count() -> u32 {
    COUNT.get().map_or(0, |count| *count.borrow())
}

/// Ctrl+C stopped molotov before the run began (during a build or compile).
#[derive(Debug, thiserror::Error)]
#[error("interrupted before the run began: nothing was sent")]
pub struct Interrupted;
