from molotov import scenario

_API = "http://example.com"

@scenario()
async def my_scenario_one(session):
    async with session.get(_API) as resp:
        res = await resp.json()
        assert res["result"] == "OK"
        assert resp.status == 200
