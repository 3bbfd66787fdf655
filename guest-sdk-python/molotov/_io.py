"""A socket's, stream's or gRPC call from a coroutine: started with a
ticket on a shared instance's loop (``multiplex-io``, ``multiplex-grpc``),
so the other workers run while it waits, or made in place on an instance
of its own."""

from asyncio import events as _events

from componentize_py_types import Err, Ok


async def call(start, in_place, kind: str = "io"):
    """The call's ``Ok`` or ``Err``: ``start()`` returns a ticket of
    ``kind`` (``io`` or ``grpc``), ``in_place()`` returns or raises ``Err``."""
    begin = getattr(_events._get_running_loop(), f"start_{kind}", None)
    if begin is not None:
        return await begin(start())
    try:
        return Ok(in_place())
    except Err as e:
        return e


def keep(handle):
    """Drops ``handle`` (a socket, a stream) when the current run ends, if
    the scenario has not closed it."""
    from ._session import _live

    _live.get().append(handle)
    return handle
