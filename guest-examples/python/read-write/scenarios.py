"""The seed's pair: 90% of reads, 10% of writes."""

from molotov import env, scenario


def api() -> str:
    return env("SERVER_URL", "") + "/"


@scenario(weight=90)
def my_scenario_one(session):
    resp = session.get(api())
    assert resp.status == 200, f"status {resp.status}"
    assert resp.json()["result"] == "OK", f"unexpected body: {resp.text}"


@scenario(weight=10)
def scenario_two(session):
    resp = session.post(api(), json={"OK": 1})
    assert resp.status == 200, f"status {resp.status}"
