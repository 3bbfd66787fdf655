"""The seed's hello world: one scenario that reads / and checks the answer,
written as every Molotov scenario is (``async def``, aiohttp's session)."""

from molotov import env, scenario


def api() -> str:
    # SERVER_URL (from --env) wins, Molotov-style; otherwise the relative
    # path resolves against --target.
    return env("SERVER_URL", "") + "/"


@scenario(weight=100)
async def my_scenario_one(session):
    async with session.get(api()) as resp:
        assert resp.status == 200, f"status {resp.status}"
        res = await resp.json()
        assert res["result"] == "OK", f"unexpected body: {await resp.text()}"
