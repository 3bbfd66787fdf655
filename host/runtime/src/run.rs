//! What every instance of a run shares, set once before the workers start.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use molotov_http::HttpClient;
use molotov_metrics::Metrics;
use molotov_protobuf::SchemaCache;
use tokio::sync::watch;

use crate::contract::RunArgs;
use crate::output::{Output, OutputBudget};
use crate::vars::SharedVars;

/// What every instance of a run shares, set once before the workers start.
pub struct RunContext {
    pub args: RunArgs,
    pub env: HashMap<String, String>,
    pub vars: SharedVars,
    pub client: HttpClient,
    pub metrics: Arc<Metrics>,
    pub output: Arc<dyn Output>,
    /// `--max-output`: the guest lines shown per second.
    pub output_budget: OutputBudget,
    /// `-vv`: every exchange goes to [`Output::exchange`].
    pub dump_exchanges: bool,
    /// The guest CPU time one call may take.
    pub guest_deadline: Duration,
    pub max_memory_bytes: usize,
    /// `--max-open`: the sockets and streams one worker may hold.
    pub max_open: u32,
    /// `--max-body`: also bounds the sources of a protobuf schema.
    pub max_body_bytes: usize,
    /// The protobuf schemas guests compiled, shared by content.
    pub schemas: SchemaCache,
    /// A guest's request to stop the whole run.
    pub abort: RunAbort,
}

/// The first reason a guest gave to stop the whole run (`abort-run`), which
/// the runner watches.
#[derive(Clone, Default)]
pub struct RunAbort(Arc<watch::Sender<Option<String>>>);

impl RunAbort {
    /// The characters of a reason kept: a guest's text, bounded.
    const MAX_REASON_CHARS: usize = 1000;

    pub fn abort(&self, reason: &str) {
        self.0.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason.chars().take(Self::MAX_REASON_CHARS).collect());
            true
        });
    }

    pub fn reason(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<String>> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_stops_the_run_once_with_a_bounded_reason() {
        let abort = RunAbort::default();
        let stops = abort.subscribe();
        assert_eq!(abort.reason(), None);
        abort.abort(&"é".repeat(5000));
        abort.abort("a second reason");
        let reason = abort.reason().expect("aborted");
        assert_eq!(reason.chars().count(), RunAbort::MAX_REASON_CHARS);
        assert!(reason.chars().all(|c| c == 'é'), "the first reason is kept");
        assert!(stops.has_changed().unwrap());
    }
}
