"""Molotov's API as its users write it: aiohttp's calls, keywords and names, every
fixture (async and plain), several event handlers, statsd through the
context, shared variables, asyncio, and a module imported from beside this
file. Run with `-w 2 --single-run --statsd`: each worker runs each scenario
once; every check is an assert, so any mismatch is a failed run."""

import asyncio

import aiohttp
import molotov
from molotov import (
    events, get_context, global_setup, global_teardown, scenario, setup,
    setup_session, teardown, teardown_session,
)

from helpers import expect_ok

seen = {"sending_request": 0, "response_received": 0, "scenario_success": 0}


@global_setup()
def init(args):
    # No session here: Molotov's one-off request helper.
    res = molotov.json_request("/")
    assert res["status"] == 200 and res["content"] == {"result": "OK"}, res
    assert molotov.request("/status/201")["status"] == 201
    molotov.set_var("token", {"value": "t0k3n", "workers": args.workers})


@setup()
async def worker_setup(worker_id, args):
    await asyncio.sleep(0)
    return {"headers": {"X-Worker": str(worker_id)}, "auth": aiohttp.BasicAuth("user", "pass")}


@setup_session()
async def attach(worker_id, session):
    session.label = f"worker-{worker_id}"
    get_context(session).attach("started", True)
    async with session.get("/cookies/set", params={"visit": "1"}) as resp:
        assert resp.status == 200


@teardown_session()
async def check_cookies(worker_id, session):
    resp = await session.get("/cookies")
    assert await resp.json() == {"visit": "1"}, await resp.text()


@teardown()
def worker_done(worker_id):
    for kind, count in seen.items():
        molotov.incr("events." + kind, count)


@global_teardown()
def done():
    molotov.print("global teardown ran")


@events()
async def count_wire(event, **info):
    if event in ("sending_request", "response_received"):
        assert info["session"] is not None and info["request"].method, info
        if event == "response_received" and info["response"] is not None:
            assert info["response"].status > 0
        seen[event] += 1


@events()
def count_successes(event, **info):
    if event == "scenario_success":
        # The tests run at most eight workers.
        assert info["scenario"]["name"] and 0 <= info["wid"] < 8, info
        seen[event] += 1


@scenario(weight=10)
async def a_headers_and_params(session):
    async with session.get("/headers") as resp:
        assert resp.headers["Content-Type"] == "application/json", resp.headers
        assert resp.headers.get("content-type") == "application/json"
        sent = await resp.json()
    ctx = get_context(session)
    assert sent["x-worker"] == str(ctx.worker_id), sent
    assert sent["authorization"] == "Basic dXNlcjpwYXNz", sent
    resp = await session.get("/echo", params={"q": "a b"})
    assert resp.url.endswith("/echo?q=a+b"), resp.url
    assert resp.reason == "OK" and resp.ok


@scenario(weight=10)
async def b_bodies_and_methods(session):
    async with session.post("/echo", data={"a": "1", "b": "x y"}) as resp:
        assert await resp.text() == "a=1&b=x+y"
        assert resp.headers["content-type"] == "application/x-www-form-urlencoded"
    async with session.post("/echo", json={"k": [1]}) as resp:
        assert await resp.json() == {"k": [1]}
    resp = await session.put("/echo", data=b"raw")
    assert await resp.read() == b"raw"
    resp = await session.patch("/echo", data="text", headers={"content-type": "text/plain"})
    assert await resp.text() == "text" and resp.content_type == "text/plain"
    for call in (session.delete, session.head, session.options):
        resp = await call("/")
        assert resp.status == 200, (call, resp.status)
    resp = await session.request("GET", "/")
    await expect_ok(resp)


@scenario(weight=10)
async def c_redirects_errors_cookies(session):
    resp = await session.get("/redirect?to=/headers", allow_redirects=False)
    assert resp.status == 302 and resp.headers["location"] == "/headers"
    resp = await session.get("/redirect?to=/")
    assert resp.status == 200 and resp.url.endswith("/"), resp.url
    resp = await session.get("/status/404")
    try:
        resp.raise_for_status()
        raise AssertionError("raise_for_status let a 404 through")
    except aiohttp.ClientResponseError as e:
        assert e.status == 404
    try:
        await session.get("/slow?ms=3000", timeout=aiohttp.ClientTimeout(total=0.2))
        raise AssertionError("no timeout")
    except aiohttp.ClientError as e:
        assert isinstance(e, molotov.HttpError) and e.kind == "timeout", e
    try:
        aiohttp.ClientSession()
        raise AssertionError("aiohttp's client ran in the sandbox")
    except RuntimeError as e:
        assert "aiohttp.ClientSession cannot run in molotov's sandbox" in str(e), e
    resp = await session.get("/cookies", cookies={"extra": "y"})
    assert await resp.json() == {"extra": "y", "visit": "1"}


@scenario(weight=10)
async def d_asyncio(session):
    await asyncio.sleep(0.01)
    first, second = await asyncio.gather(session.get("/"), session.get("/status/201"))
    assert (first.status, second.status) == (200, 201)
    assert await asyncio.wait_for(asyncio.sleep(0, result=7), timeout=1) == 7


@scenario(weight=10)
async def e_context_vars_statsd(session):
    ctx = get_context(session)
    assert ctx.started and session.label == f"worker-{ctx.worker_id}"
    # The tests run two workers, or eight on one instance.
    assert ctx.step >= 1 and ctx.args.workers in (2, 8), vars(ctx.args)
    assert molotov.get_var("token") == {"value": "t0k3n", "workers": ctx.args.workers}
    assert molotov.get_var("lazy", factory=lambda: [42]) == [42]
    assert molotov.get_var("never set") is None
    assert ctx.statsd is not None, "ctx.statsd is None (run without --statsd)"
    assert session.statsd is ctx.statsd
    ctx.statsd.incr("cart")
    ctx.statsd.timing("think", 5)
    session.statsd.gauge("queue", 3.5)
    session.print(f"session.print from worker {ctx.worker_id}")
    print(f"print from worker {ctx.worker_id}")
    await expect_ok(await session.get("/"))


@scenario(weight=10)
def f_plain_def(session):
    resp = session.get("/")
    assert resp.json() == {"result": "OK"} and resp.text() == '{"result":"OK"}'
