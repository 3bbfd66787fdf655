"""A socket's or stream's call from a coroutine: started with a ticket on a
shared instance's loop (``multiplex-io``), so the other workers run while it
waits, or made in place on an instance of its own."""

from asyncio import events as _events

from componentize_py_types import Err, Ok


async def call(start, in_place):
    """The call's ``Ok`` or ``Err``: ``start()`` returns a ticket whose
    outcome's ``value`` is one, ``in_place()`` returns or raises ``Err``."""
    begin = getattr(_events._get_running_loop(), "start_io", None)
    if begin is not None:
        outcome = await begin(start())
        return outcome.value
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
