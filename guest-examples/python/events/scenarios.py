"""The seed's hello world with Molotov's fixtures and an event hook: the hook
counts every event kind, and teardown reports the counts as custom metrics
(events.* in the summary and the JSON). The global setup shares a variable
that every run checks; teardown also reports the worker's steps."""

from collections import Counter

import molotov
from molotov import events, global_setup, scenario, setup, teardown

seen = Counter()


@global_setup()
def starting(args):
    molotov.print(f"starting {args.workers} workers")
    molotov.set_var("run", "started")


@setup()
def worker_headers(worker_id, args):
    # Each worker's requests carry its id.
    return {"headers": {"x-worker": str(worker_id)}}


@events("sending_request", "response_received", "scenario_start",
        "scenario_success", "scenario_failure")
def count(event, **info):
    seen[event] += 1


@scenario()
def hello(session):
    assert molotov.get_var("run") == "started", "the shared variable is missing"
    resp = session.get("/")
    assert resp.status == 200, f"status {resp.status}"
    assert resp.json()["result"] == "OK", f"unexpected body: {resp.text}"


@teardown()
def report(worker_id):
    for kind in ("sending_request", "response_received", "scenario_start",
                 "scenario_success", "scenario_failure"):
        molotov.incr("events." + kind.replace("_", "-"), seen[kind])
    molotov.incr("steps", molotov.step())
