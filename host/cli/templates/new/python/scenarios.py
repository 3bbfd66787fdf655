"""Load-test scenarios for molotov, written as Molotov's (``async def``,
aiohttp's session). Build with ``molotov build .``, then run a test of
molotov.json: ``molotov run --config molotov.json smoke``."""

from molotov import scenario, setup


@setup()
async def init_worker(worker_id, args):
    """Once per worker, before its first run: headers for every request."""
    return {"headers": {"x-worker": str(worker_id)}}


@scenario(weight=90)
async def read(session):
    """90% of the runs: read, and check the answer."""
    async with session.get("/") as resp:
        assert resp.status == 200, f"status {resp.status}"
        body = await resp.json()
        assert body["result"] == "OK", f"unexpected body: {body}"


@scenario(weight=10)
async def write(session):
    """10% of the runs: write."""
    async with session.post("/echo", json={"OK": 1}) as resp:
        assert resp.status == 200, f"status {resp.status}"
