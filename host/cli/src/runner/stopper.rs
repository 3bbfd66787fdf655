//! Why and how a run stops, as every worker sees it.

use std::sync::Mutex;

use molotov_metrics::StopReason;
use tokio::sync::watch;

/// The first reason to stop wins; every worker sees it at once. A stop lets
/// runs in flight finish; a cancel (`--force-shutdown`, a second Ctrl+C)
/// drops them.
pub struct Stopper {
    reason: Mutex<Option<StopReason>>,
    pub stopped: watch::Sender<bool>,
    pub cancelled: watch::Sender<bool>,
}

impl Stopper {
    pub fn new() -> Self {
        Self {
            reason: Mutex::new(None),
            stopped: watch::Sender::new(false),
            cancelled: watch::Sender::new(false),
        }
    }

    pub fn stop(&self, reason: StopReason) {
        let mut current = self.reason.lock().expect("stop lock");
        if current.is_none() {
            *current = Some(reason);
        }
        self.stopped.send_replace(true);
    }

    pub fn cancel(&self, reason: StopReason) {
        self.stop(reason);
        self.cancelled.send_replace(true);
    }

    pub fn reason(&self) -> Option<StopReason> {
        *self.reason.lock().expect("stop lock")
    }
}
