//! The seed's hello world with Molotov's fixtures and an event hook: the
//! hook counts every event kind, and `teardown` reports the counts as custom
//! metrics (`events.*` in the summary and the JSON). The global setup shares
//! a variable that every run checks; teardown also reports the worker's steps.

#[molotov::scenarios]
mod events {
    use molotov::prelude::*;
    use std::cell::Cell;

    thread_local! {
        /// sending-request, response-received, scenario-start, -success, -failure.
        static SEEN: [Cell<i64>; 5] = Default::default();
    }

    #[global_setup]
    fn global_setup(args: &RunArgs) -> Result {
        molotov::print(&format!("starting {} workers", args.workers));
        molotov::set_var("run", "started");
        Ok(())
    }

    /// Each worker's requests carry its id.
    #[setup]
    fn setup(worker_id: u32, _args: &RunArgs) -> Result<Option<SessionOptions>> {
        Ok(Some(SessionOptions {
            headers: vec![("x-worker".into(), worker_id.to_string())],
            timeout_ms: None,
            max_redirects: None,
        }))
    }

    #[events(
        sending_request,
        response_received,
        scenario_start,
        scenario_success,
        scenario_failure
    )]
    fn on_event(event: &Event) {
        let kind = match event {
            Event::SendingRequest(_) => 0,
            Event::ResponseReceived(_) => 1,
            Event::ScenarioStart(_) => 2,
            Event::ScenarioSuccess(_) => 3,
            Event::ScenarioFailure(_) => 4,
            Event::CurrentWorkers(_) => return,
        };
        SEEN.with(|seen| seen[kind].set(seen[kind].get() + 1));
    }

    #[scenario]
    fn hello(s: &Session) -> Result {
        ensure!(
            molotov::get_var("run").as_deref() == Some("started"),
            "the shared variable is missing"
        );
        let res = s.get("/")?.expect_status(200)?;
        ensure!(
            res.json()?["result"] == "OK",
            "unexpected body: {}",
            res.text()
        );
        Ok(())
    }

    #[teardown]
    fn teardown(_worker_id: u32) -> Result {
        let names = [
            "sending-request",
            "response-received",
            "scenario-start",
            "scenario-success",
            "scenario-failure",
        ];
        SEEN.with(|seen| {
            for (name, count) in names.iter().zip(seen) {
                molotov::incr(&format!("events.{name}"), count.get());
            }
        });
        molotov::incr("steps", molotov::step() as i64);
        Ok(())
    }
}
