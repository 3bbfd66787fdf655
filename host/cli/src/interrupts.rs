//! Ctrl+C (SIGINT), counted from start-up: one that arrives while the
//! component loads still stops the run once it starts.

use std::sync::OnceLock;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

static COUNT: OnceLock<watch::Receiver<u32>> = OnceLock::new();

/// The exit code when Ctrl+C cut the run short (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The number of interrupts so far; `changed()` wakes on the next one, or at
/// once for any that came before. The first call takes over SIGINT from the
/// default, which would end the process. The listener has a thread of its
/// own, so that it outlives the runtime that asked first (a program using
/// the library may run several, one after another).
pub fn subscribe() -> watch::Receiver<u32> {
    COUNT
        .get_or_init(|| {
            let (count, receiver) = watch::channel(0);
            let (listening, listens) = std::sync::mpsc::channel();
            let listener = std::thread::Builder::new()
                .name("molotov-interrupts".into())
                .spawn(move || listen(count, listening));
            // Without a listener, Ctrl+C ends the process the default way.
            if listener.is_ok() {
                let _ = listens.recv();
            }
            receiver
        })
        .clone()
}

/// Counts SIGINTs into `count` for the life of the process; says on
/// `listening` once SIGINT is its (or that it cannot be).
fn listen(count: watch::Sender<u32>, listening: std::sync::mpsc::Sender<()>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        // Nothing counts then: receivers keep waiting, as they would for a
        // Ctrl+C that never comes.
        std::mem::forget(count);
        return;
    };
    runtime.block_on(async move {
        let interrupts = signal(SignalKind::interrupt());
        let _ = listening.send(());
        let Ok(mut interrupts) = interrupts else {
            // The count stays at 0, and its receivers keep waiting.
            return std::future::pending().await;
        };
        while interrupts.recv().await.is_some() {
            count.send_modify(|n| *n += 1);
        }
    });
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
