"""A module beside the scenario file, imported as Molotov users split theirs."""


async def expect_ok(resp):
    assert resp.status == 200, f"status {resp.status}"
    body = await resp.json()
    assert body["result"] == "OK", body
    return body
