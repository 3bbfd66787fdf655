"""The seed's hello world: one scenario that reads / and checks the answer."""

from molotov import env, scenario


def api() -> str:
    # SERVER_URL (from --env) wins, Molotov-style; otherwise the relative
    # path resolves against --target.
    return env("SERVER_URL", "") + "/"


@scenario(weight=100)
def my_scenario_one(session):
    resp = session.get(api())
    assert resp.status == 200, f"status {resp.status}"
    assert resp.json()["result"] == "OK", f"unexpected body: {resp.text}"
