"""Workers sharing instances: each keeps its own cookie jar, id and step,
also after its requests were awaited among the others'."""

import molotov
from molotov import get_context, scenario


@scenario(weight=1)
async def own_cookie(session):
    me = molotov.worker_id()
    if molotov.step() == 1:
        async with session.get(f"/cookies/set?worker={me}") as resp:
            assert resp.status == 200, f"status {resp.status}"
    async with session.get("/cookies") as resp:
        cookies = await resp.json()
    assert cookies.get("worker") == str(me), f"worker {me} was sent {cookies}"
    assert molotov.worker_id() == me, f"worker {me} became {molotov.worker_id()}"
    assert get_context(session).worker_id == me
    molotov.incr(f"runs.{me}")
    molotov.incr(f"steps.{me}", molotov.step())
