"""Many workers in one instance: the host's run orders become asyncio tasks
on one loop, and an ``async def`` scenario's requests are started without
waiting (``multiplex.start-send``), so the other workers' tasks run while
the host performs them.

A plain ``def`` scenario still works: its requests wait in the host, and
the instance's other workers wait with it.
"""

import heapq
import inspect
import math
import sys
from asyncio import events as _events

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import multiplex as _multiplex
from wit_world.imports import multiplex_grpc as _multiplex_grpc
from wit_world.imports import multiplex_io as _multiplex_io

from . import _registry
from ._aio import Loop
from ._component import _message
from ._session import _live, lend, release, running_as


class DriverLoop(Loop):
    """The loop that runs the instance's workers between two host calls."""

    def __init__(self):
        super().__init__()
        self._replies = {}  # ticket -> future of its outcome
        self._sessions = {}  # worker id -> the host's handle on its session
        self._io = {}  # socket and stream tickets -> future of their result
        self._grpc = {}  # gRPC tickets -> future of their result

    def start_send(self, session, request):
        """Starts ``request``: a future of ``Ok(reply)`` or ``Err(http-error)``."""
        future = self.create_future()
        self._replies[_multiplex.start_send(session, request)] = future
        return future

    def start_io(self, ticket: int):
        """A future of what a socket's or stream's ticket comes to."""
        return self._ticket(self._io, ticket)

    def start_grpc(self, ticket: int):
        """A future of what a gRPC call's ticket comes to."""
        return self._ticket(self._grpc, ticket)

    def _ticket(self, waiting, ticket: int):
        future = self.create_future()
        waiting[ticket] = future
        return future

    @staticmethod
    def _answer(waiting, ticket: int, result) -> None:
        future = waiting.pop(ticket, None)
        if future is not None and not future.cancelled():
            future.set_result(result)

    def drive(self) -> None:
        self._running = True
        previous = _events._get_running_loop()
        _events._set_running_loop(self)
        try:
            while True:
                self._run_ready()
                turn = _multiplex.next(self._timeout_ms())
                if isinstance(turn, _multiplex.Turn_HandBack):
                    return
                for wakeup in turn.value:
                    if isinstance(wakeup, _multiplex.Wakeup_Run):
                        self.create_task(_run(wakeup.value, self._session_of(wakeup.value.worker_id)))
                    else:
                        reply = wakeup.value
                        future = self._replies.pop(reply.ticket, None)
                        if future is not None and not future.cancelled():
                            future.set_result(reply.outcome)
                if self._io:
                    # A socket's or stream's outcome is a variant around its result.
                    for done in _multiplex_io.completed():
                        self._answer(self._io, done.ticket, done.outcome.value)
                if self._grpc:
                    for done in _multiplex_grpc.completed():
                        self._answer(self._grpc, done.ticket, done.outcome)
                self._due_timers()
        finally:
            self._running = False
            _events._set_running_loop(previous)

    def _session_of(self, worker_id: int):
        host = self._sessions.get(worker_id)
        if host is None:
            host = self._sessions[worker_id] = _multiplex.session_of(worker_id)
        return host

    def _run_ready(self) -> None:
        while self._ready:
            for _ in range(len(self._ready)):
                handle = self._ready.popleft()
                if not handle.cancelled():
                    handle._run()
        # A task's exception nobody retrieved: its run already failed with it.
        self._exception = None

    def _timeout_ms(self):
        """Until the earliest timer (``asyncio.sleep``), or ``None``."""
        while self._timers and self._timers[0].cancelled():
            heapq.heappop(self._timers)
        if not self._timers:
            return None
        wait = self._timers[0].when() - self.time()
        return min(max(0, math.ceil(wait * 1000)), 2**32 - 1)

    def _due_timers(self) -> None:
        now = self.time()
        while self._timers and self._timers[0].when() <= now:
            handle = heapq.heappop(self._timers)
            if not handle.cancelled():
                self._ready.append(handle)


driver_loop = DriverLoop()


async def _run(order, host) -> None:
    """One worker's run, as a task: its outcome goes to the host."""
    running_as.set((order.worker_id, order.step))
    live = []
    _live.set(live)
    try:
        scenario = _registry.scenario_at(order.index)
        session = lend(order.worker_id, host)
        result = scenario(session)
        if hasattr(result, "__await__"):
            result = await result
        outcome = Ok(None)
    except Exception as e:  # the run fails with the message, as in `_call`
        outcome = Err(_message(e))
    finally:
        release(live)
        sys.stdout.flush()
    _multiplex.finished(order.job, outcome)


# Workers per instance when every scenario is an `async def`.
SHARED_CAPACITY = 128


class Driver(exports.Driver):
    def capacity(self) -> int:
        """1 if a scenario is a plain ``def``: its requests wait in place."""
        scenarios = [fn for (_, _, fn, _) in _registry.scenarios.values()]
        return SHARED_CAPACITY if all(map(inspect.iscoroutinefunction, scenarios)) else 1

    def drive(self) -> None:
        try:
            driver_loop.drive()
        except Exception as e:
            raise Err(f"the scheduler broke: {_message(e)}")
