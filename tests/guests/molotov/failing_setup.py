"""A global setup that fails: the run cannot start (exit 2), with its message."""

from molotov import global_setup, scenario


@global_setup()
def needs_a_token(args):
    raise RuntimeError("the token service is down")


@scenario()
async def never_runs(session):
    await session.get("/")
