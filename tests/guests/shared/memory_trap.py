"""One worker's second run asks for more memory than --max-memory allows:
its shared instance traps, and is replaced while the run goes on."""

import molotov
from molotov import scenario

hoard = []


@scenario(weight=1)
async def sometimes_hoards(session):
    async with session.get("/") as resp:
        assert resp.status == 200, f"status {resp.status}"
    if molotov.worker_id() == 0 and molotov.step() == 2:
        hoard.append(bytearray(512 * 1024 * 1024))
