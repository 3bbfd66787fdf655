//! A worker's events for the guest's hook: queued during and around a run,
//! taken for delivery after it (a guest cannot be re-entered while it waits).

use crate::bindings::{Event, EventKinds, FailureEvent, ScenarioEvent};
use crate::link::EventQueue;

/// One worker's view of its queue: the kinds subscribed to, and its id.
pub(crate) struct WorkerEvents<'a> {
    pub kinds: EventKinds,
    pub worker_id: u32,
    pub queue: &'a EventQueue,
}

impl WorkerEvents<'_> {
    /// Queues `scenario-start`, if subscribed.
    pub fn scenario_started(&self, scenario: &str) {
        self.push(EventKinds::SCENARIO_START, |worker_id| {
            Event::ScenarioStart(ScenarioEvent {
                scenario: scenario.to_string(),
                worker_id,
            })
        });
    }

    /// Queues `scenario-success` or `scenario-failure` (with its message), if subscribed.
    pub fn scenario_ended(&self, scenario: &str, failure: Option<String>) {
        match failure {
            None => self.push(EventKinds::SCENARIO_SUCCESS, |worker_id| {
                Event::ScenarioSuccess(ScenarioEvent {
                    scenario: scenario.to_string(),
                    worker_id,
                })
            }),
            Some(message) => self.push(EventKinds::SCENARIO_FAILURE, |worker_id| {
                Event::ScenarioFailure(FailureEvent {
                    scenario: scenario.to_string(),
                    worker_id,
                    message,
                })
            }),
        }
    }

    fn push(&self, kind: EventKinds, event: impl FnOnce(u32) -> Event) {
        if self.kinds.contains(kind) {
            let event = event(self.worker_id);
            self.queue.lock().expect("event queue").push(event);
        }
    }

    /// The events queued since the last delivery (none for a guest with no hook).
    pub fn take(&self) -> Vec<Event> {
        if self.kinds == EventKinds::empty() {
            return Vec::new();
        }
        std::mem::take(&mut *self.queue.lock().expect("event queue"))
    }

    /// Gives a delivered batch's allocation back for the next run's events
    /// (unless a request of the guest's own client queued some meanwhile).
    pub fn recycle(&self, mut events: Vec<Event>) {
        events.clear();
        let mut pending = self.queue.lock().expect("event queue");
        if pending.is_empty() {
            *pending = events;
        }
    }
}
