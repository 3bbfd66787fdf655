"""Scenarios whose result is not something the SDK can run to an end: each
must fail its run with a clear message, never count as a success."""

from molotov import scenario


async def visit(session):
    await session.get("/")


@scenario()
async def forgot_await(session):
    return visit(session)


@scenario()
def generator(session):
    yield session.get("/")
