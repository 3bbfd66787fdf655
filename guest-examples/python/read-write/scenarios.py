"""The seed's pair: 90% of reads, 10% of writes."""

import json

from molotov import env, scenario


def api() -> str:
    return env("SERVER_URL", "") + "/"


@scenario(weight=90)
async def my_scenario_one(session):
    async with session.get(api()) as resp:
        assert resp.status == 200, f"status {resp.status}"
        res = await resp.json()
        assert res["result"] == "OK", f"unexpected body: {res}"


@scenario(weight=10)
async def scenario_two(session):
    somedata = json.dumps({"OK": 1})
    async with session.post(api(), data=somedata) as resp:
        assert resp.status == 200, f"status {resp.status}"
