"""Runs ``async def`` scenarios, fixtures and hooks on a small asyncio loop.

A worker's requests are performed by the host while the worker's call waits,
so the loop never has sockets to poll: it runs what is ready, and when only
timers are left (``asyncio.sleep``) it sleeps through the host until the
earliest one is due. ``asyncio.gather``, ``wait_for``, tasks and timeouts
work as in CPython; requests awaited together are sent one after another.
"""

import asyncio
import heapq
import inspect
import math
import sys
import time
from collections import deque
from asyncio import events as _events

from wit_world.imports import context as _context


class NeverCompletes(RuntimeError):
    """The awaited work waits on something that nothing will ever complete."""


class Loop(asyncio.AbstractEventLoop):
    def __init__(self):
        self._ready = deque()
        self._timers = []
        self._running = False
        self._exception = None

    # Scheduling, as asyncio's futures and tasks use it.
    def time(self):
        return time.monotonic()

    def call_soon(self, callback, *args, context=None):
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    call_soon_threadsafe = call_soon

    def call_later(self, delay, callback, *args, context=None):
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        handle = asyncio.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._timers, handle)
        return handle

    def _timer_handle_cancelled(self, handle):
        pass  # skipped when it comes due

    def create_future(self):
        return asyncio.Future(loop=self)

    def create_task(self, coro, *, name=None, context=None):
        return asyncio.Task(coro, loop=self, name=name, context=context)

    def call_exception_handler(self, context):
        # An exception nobody retrieved (a task's, a callback's) fails the
        # call, rather than vanishing as a log line.
        if self._exception is None:
            self._exception = context.get("exception") or RuntimeError(context.get("message"))

    def default_exception_handler(self, context):
        self.call_exception_handler(context)

    def get_debug(self):
        return False

    def is_running(self):
        return self._running

    def is_closed(self):
        return False

    def run_until_complete(self, awaitable):
        future = asyncio.ensure_future(awaitable, loop=self)
        self._running = True
        # Inside a shared instance's loop (a `get_var` factory in a run),
        # that loop runs on once this returns.
        previous = _events._get_running_loop()
        _events._set_running_loop(self)
        try:
            while not future.done():
                self._turn()
            if self._exception is not None and future.exception() is None:
                raise self._exception
            return future.result()
        finally:
            self._exception = None
            self._ready.clear()
            self._timers.clear()
            self._running = False
            _events._set_running_loop(previous)

    def _turn(self):
        if self._ready:
            for _ in range(len(self._ready)):
                handle = self._ready.popleft()
                if not handle.cancelled():
                    handle._run()
            return
        while self._timers and self._timers[0].cancelled():
            heapq.heappop(self._timers)
        if not self._timers:
            raise NeverCompletes(
                "awaits something that never completes (a future nobody sets?)"
            )
        wait = self._timers[0].when() - self.time()
        if wait > 0:
            _context.sleep(min(math.ceil(wait * 1000), 2**32 - 1))
        self._ready.append(heapq.heappop(self._timers))


_loop = Loop()


def complete(value):
    """``value`` itself, or what it gives once awaited when it is a coroutine
    or another awaitable (an ``async def`` scenario's result). What cannot be
    run to an end here is an error, never a silent success."""
    if inspect.isawaitable(value):
        value = _loop.run_until_complete(_as_coroutine(value))
        if inspect.isawaitable(value):
            _close(value)
            raise TypeError(
                f"returned {_kind(value)} that was never awaited (add `await`)"
            )
    elif inspect.isgenerator(value) or inspect.isasyncgen(value):
        raise TypeError(
            "returned a generator: write `def` or `async def`, without `yield`"
        )
    return value


def _kind(value) -> str:
    if inspect.iscoroutine(value):
        return f"a coroutine of {value.__qualname__}()"
    return f"an awaitable {type(value).__name__}"


def _close(value) -> None:
    close = getattr(value, "close", None)
    if inspect.iscoroutine(value) and close is not None:
        close()  # no "never awaited" warning: it is reported as a failure


async def _as_coroutine(awaitable):
    return await awaitable


def is_coroutine_caller(depth: int = 2) -> bool:
    """Whether the function ``depth`` frames up runs as a coroutine (an
    ``async def``): there a body is read with ``await resp.json()``."""
    flags = sys._getframe(depth).f_code.co_flags
    return bool(flags & (inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR))
