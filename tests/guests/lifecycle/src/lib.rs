//! Fixtures, events, the picker and shared variables for the end-to-end tests:
//! every hook prints what it saw, so a test reads the order from the console.
//! `--env FAIL=<fixture>` makes that fixture fail.

#[molotov::scenarios]
mod lifecycle {
    use molotov::prelude::*;

    fn fixture(name: &str) -> Result {
        molotov::print(name);
        ensure!(
            molotov::env("FAIL").as_deref() != Some(name),
            "{name} failed on request"
        );
        Ok(())
    }

    #[global_setup]
    fn global_setup(_args: &RunArgs) -> Result {
        fixture("global-setup")
    }

    #[setup]
    fn setup(_worker_id: u32, _args: &RunArgs) -> Result<Option<SessionOptions>> {
        fixture("setup")?;
        Ok(None)
    }

    /// With `--env CHECK_SESSION=1`, `setup-session` sets a default header
    /// and `teardown-session` prints whether the session still sends it.
    #[setup_session]
    fn setup_session(_worker_id: u32, s: &Session) -> Result {
        if molotov::env("CHECK_SESSION").is_some() {
            s.set_header("x-kept", "yes")?;
        }
        fixture("setup-session")
    }

    #[teardown_session]
    fn teardown_session(_worker_id: u32, s: &Session) -> Result {
        fixture("teardown-session")?;
        if molotov::env("CHECK_SESSION").is_some() {
            let seen = s.get("/headers")?.expect_status(200)?.json()?;
            molotov::print(&format!("session kept: {}", seen["x-kept"] == "yes"));
        }
        Ok(())
    }

    #[teardown]
    fn teardown(_worker_id: u32) -> Result {
        if molotov::env("FAIL").as_deref() == Some("slow-teardown") {
            molotov::sleep(60_000);
        }
        fixture("teardown")
    }

    #[global_teardown]
    fn global_teardown() -> Result {
        let workers: u32 = molotov::env("WORKERS")
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        let seen: Vec<String> = (0..workers)
            .filter_map(|w| molotov::get_var(&format!("w{w}")))
            .collect();
        molotov::print(&format!("vars: {}", seen.join(" ")));
        fixture("global-teardown")
    }

    /// An ordered sequence: odd steps run `first`, even steps `second`.
    #[picker]
    fn pick(_worker_id: u32, step: u64) -> &'static str {
        if molotov::env("PICK_MISSING").is_some() {
            return "missing";
        }
        match molotov::env("ONLY") {
            Some(_) => "fail",
            None if step % 2 == 1 => "first",
            None => "second",
        }
    }

    #[events(
        sending_request,
        response_received,
        current_workers,
        scenario_start,
        scenario_success,
        scenario_failure
    )]
    fn on_event(event: &Event) {
        match molotov::env("FAIL").as_deref() {
            Some("events") => panic!("the hook broke on purpose"),
            Some("slow-hook") => molotov::sleep(60_000),
            _ => {}
        }
        let line = match event {
            Event::SendingRequest(e) => {
                format!(
                    "event sending-request {} {} W{}",
                    e.request.method, e.request.url, e.worker_id
                )
            }
            Event::ResponseReceived(e) => match &e.outcome {
                Ok(info) => format!(
                    "event response-received {} {} {} {}us W{}",
                    e.request.method, info.url, info.status, info.elapsed_us, e.worker_id
                ),
                Err(error) => format!("event response-received {} error {error:?}", e.request.url),
            },
            Event::CurrentWorkers(n) => format!("event current-workers {n}"),
            Event::ScenarioStart(e) => {
                format!("event scenario-start {} W{}", e.scenario, e.worker_id)
            }
            Event::ScenarioSuccess(e) => {
                format!("event scenario-success {} W{}", e.scenario, e.worker_id)
            }
            Event::ScenarioFailure(e) => format!(
                "event scenario-failure {} W{}: {}",
                e.scenario, e.worker_id, e.message
            ),
        };
        molotov::print(&line);
    }

    #[scenario(weight = 0)]
    fn first(s: &Session) -> Result {
        molotov::print(&format!("run first step {}", molotov::step()));
        s.get("/")?.expect_status(200)?;
        Ok(())
    }

    #[scenario(weight = 0)]
    fn second(_s: &Session) -> Result {
        molotov::print(&format!("run second step {}", molotov::step()));
        molotov::set_var(
            &format!("w{}", molotov::worker_id()),
            &molotov::worker_id().to_string(),
        );
        Ok(())
    }

    #[scenario(weight = 0)]
    fn fail(_s: &Session) -> Result {
        bail!("planned failure")
    }

    /// A run that outlives a short `-d`: for `--force-shutdown`.
    #[scenario(weight = 0)]
    fn slow(s: &Session) -> Result {
        s.get("/slow?ms=3000")?.expect_status(200)?;
        molotov::print("slow done");
        Ok(())
    }
}
