//! A component built against contract 0.4.0 (`wit/` keeps that contract as
//! it was released): a host of any later 0.4 contract must still run it,
//! since a minor version only adds to the contract.

wit_bindgen::generate!({ path: "wit", world: "scenario" });

use exports::molotov::scenario::scenarios::{
    Description, Event, EventKinds, Fixtures, Guest, RunArgs, ScenarioInfo, Session, SessionOptions,
};
use molotov::scenario::http::Request;
use molotov::scenario::metrics;

struct Contract040;

impl Guest for Contract040 {
    fn describe() -> Description {
        Description {
            scenarios: vec![ScenarioInfo {
                name: "ping".into(),
                weight: 1,
                delay_ms: 0,
            }],
            fixtures: Fixtures::empty(),
            events: EventKinds::empty(),
        }
    }

    fn run(_index: u32, session: &Session) -> Result<(), String> {
        let request = Request {
            method: "GET".into(),
            url: "/".into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            name: None,
            max_redirects: None,
        };
        let reply = session.send(&request).map_err(|e| format!("{e:?}"))?;
        metrics::incr("pings", 1);
        match reply.status {
            200 => Ok(()),
            status => Err(format!("status {status}")),
        }
    }

    fn global_setup(_: RunArgs) -> Result<(), String> {
        Ok(())
    }

    fn setup(_: u32, _: RunArgs) -> Result<Option<SessionOptions>, String> {
        Ok(None)
    }

    fn setup_session(_: u32, _: &Session) -> Result<(), String> {
        Ok(())
    }

    fn teardown_session(_: u32, _: &Session) -> Result<(), String> {
        Ok(())
    }

    fn teardown(_: u32) -> Result<(), String> {
        Ok(())
    }

    fn global_teardown() -> Result<(), String> {
        Ok(())
    }

    fn pick(_: u32, _: u64) -> String {
        "ping".into()
    }

    fn on_events(_: Vec<Event>) {}
}

export!(Contract040);
