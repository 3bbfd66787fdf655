"""The seed's hello world with Molotov's fixtures and event handlers: two
handlers count the events (as Molotov allows several), and teardown reports
the counts as custom metrics (events.* in the summary and the JSON). The
global setup shares a variable that every run checks; teardown also reports
the worker's steps."""

from collections import Counter

import molotov
from molotov import events, global_setup, scenario, setup, teardown

seen = Counter()


@global_setup()
def starting(args):
    molotov.print(f"starting {args.workers} workers")
    molotov.set_var("run", "started")


@setup()
async def worker_headers(worker_id, args):
    # Each worker's requests carry its id.
    return {"headers": {"x-worker": str(worker_id)}}


@events()
async def count_requests(event, **info):
    if event in ("sending_request", "response_received"):
        seen[event] += 1


@events()
async def count_scenarios(event, **info):
    if event.startswith("scenario_"):
        seen[event] += 1


@scenario()
async def hello(session):
    assert molotov.get_var("run") == "started", "the shared variable is missing"
    async with session.get("/") as resp:
        assert resp.status == 200, f"status {resp.status}"
        assert (await resp.json())["result"] == "OK"


@teardown()
def report(worker_id):
    for kind in ("sending_request", "response_received", "scenario_start",
                 "scenario_success", "scenario_failure"):
        molotov.incr("events." + kind.replace("_", "-"), seen[kind])
    molotov.incr("steps", molotov.step())
