"""molotov's Python SDK: Molotov's scenario API, unchanged.

    from molotov import scenario

    @scenario(weight=40)
    async def read(session):
        async with session.get("/") as resp:
            assert resp.status == 200
            assert (await resp.json())["result"] == "OK"

Scenarios, fixtures and event handlers may be ``async def`` (as Molotov
requires) or plain ``def`` (``resp = session.get("/")``, ``resp.json()``).
The host performs and measures every request; a scenario that raises (a
failed ``assert`` included) is a failed run with the exception's message.
Code at module level runs when the component is built, not when it runs:
read ``env()`` and variables inside scenarios and fixtures.
"""

import base64 as _base64
import functools as _functools
import inspect as _inspect
import pickle as _pickle
import sys as _sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from wit_world.imports import context as _context
from wit_world.imports import log as _log
from wit_world.imports import metrics as _metrics
from wit_world.imports import vars as _vars

from ._aio import complete as _complete
from ._session import (
    ClientError, ClientResponseError, Headers, HttpError, Response, Session, Statsd,
    context_of as _context_of, current_worker as _current_worker, session_options_headers,
)
from ._grpc import GrpcError, GrpcReply, status_name
from ._stream import Event, StreamResponse
from ._websocket import ClientWebSocketResponse, WebSocketError, WSMessage, WSMsgType

__all__ = [
    "scenario", "global_setup", "setup", "setup_session", "teardown_session",
    "teardown", "global_teardown", "scenario_picker", "events",
    "Session", "Response", "Headers", "HttpError", "ClientError", "ClientResponseError", "Statsd",
    "ClientWebSocketResponse", "WSMessage", "WSMsgType", "WebSocketError",
    "StreamResponse", "Event", "GrpcError", "GrpcReply", "status_name",
    "get_context", "request", "json_request",
    "env", "shard", "worker_id", "step", "args", "sleep", "get_var", "set_var",
    "print", "log", "incr", "timing", "gauge",
]

EVENT_KINDS = (
    "sending_request", "response_received", "current_workers",
    "scenario_start", "scenario_success", "scenario_failure",
)


@dataclass
class _Registry:
    # name -> (weight, delay in ms, function, delay in seconds)
    scenarios: Dict[str, Tuple[int, int, Callable, float]] = field(default_factory=dict)
    fixtures: Dict[str, Callable] = field(default_factory=dict)
    # Event handlers, each with the kinds it receives.
    handlers: List[Tuple[Tuple[str, ...], Callable]] = field(default_factory=list)
    # The scenarios' functions in describe()'s order (the host runs one by
    # its index), made at the first run.
    in_order: Optional[List[Callable]] = None

    def scenario_at(self, index: int) -> Callable:
        """The scenario at ``index`` in the order ``describe`` listed them."""
        if self.in_order is None:
            self.in_order = [fn for (_, _, fn, _) in self.scenarios.values()]
        if index >= len(self.in_order):
            raise LookupError(f"no scenario at index {index}")
        return self.in_order[index]


_registry = _Registry()


def scenario(weight: int = 1, delay: float = 0.0, name: Optional[str] = None):
    """Registers ``[async] fn(session)`` as a scenario picked with ``weight``
    (0: only a picker runs it); ``delay`` (seconds) pauses the worker after
    each run."""
    def register(fn):
        run = _with_session_factory(fn)
        _registry.scenarios[name or fn.__name__] = (weight, int(delay * 1000), run, delay)
        _registry.in_order = None
        return fn
    return register


def _with_session_factory(fn):
    """Molotov 2.7's ``session_factory="grpc"`` (with ``grpc_url=``) in a
    scenario's signature: the scenario is given a ``grpc.aio`` channel to
    that server (by default ``--target``) through its worker's session."""
    parameters = _inspect.signature(fn).parameters
    factory = parameters.get("session_factory")
    if factory is None:
        return fn
    if factory.default != "grpc":
        raise ValueError(f"{fn.__name__}: session_factory={factory.default!r}: molotov has the 'grpc' factory only")
    if not _inspect.iscoroutinefunction(fn):
        raise ValueError(f"{fn.__name__}: a scenario with session_factory='grpc' is an async def (its channel is grpc.aio's)")
    url = parameters.get("grpc_url")
    target = "" if url is None or url.default is _inspect.Parameter.empty else url.default

    @_functools.wraps(fn)
    async def with_channel(session):
        from grpc.aio import Channel
        return await fn(Channel(target, session=session))
    return with_channel


def _fixture(kind: str):
    def decorator():
        def register(fn):
            if kind in _registry.fixtures:
                raise ValueError(f"You can't have two {kind!r} functions")
            _registry.fixtures[kind] = fn
            return fn
        return register
    decorator.__name__ = kind
    decorator.__doc__ = f"Registers the {kind.replace('_', '-')} fixture (def or async def)."
    return decorator


global_setup = _fixture("global_setup")     # fn(args)
setup = _fixture("setup")                   # fn(worker_id, args) -> dict | None
setup_session = _fixture("setup_session")   # fn(worker_id, session)
teardown_session = _fixture("teardown_session")  # fn(worker_id, session)
teardown = _fixture("teardown")             # fn(worker_id)
global_teardown = _fixture("global_teardown")  # fn()
scenario_picker = _fixture("picker")        # fn(worker_id, step) -> name


def events(*kinds: str):
    """Registers ``[async] fn(event, **info)`` for the named event kinds (all
    when none are named, as Molotov's ``@events()``); several may coexist."""
    unknown = [k for k in kinds if k not in EVENT_KINDS]
    if unknown:
        raise ValueError(f"unknown event kinds {unknown}; known: {EVENT_KINDS}")

    def register(fn):
        _registry.handlers.append((kinds or EVENT_KINDS, fn))
        return fn
    return register


def get_context(session: Session):
    """The worker's context: ``worker_id``, ``step``, ``args``, ``statsd``
    (``None`` without ``--statsd``), and ``attach(name, value)``."""
    return _context_of(session)


def request(endpoint: str, verb: str = "GET", session_options=None, json: bool = False, **options):
    """A one-off request for fixtures (``global_setup`` included), sent on the
    instance's session: ``{"content", "status", "headers"}``."""
    session = Session(None)
    headers = session_options_headers(session_options or {})
    headers += list((options.pop("headers", None) or {}).items())
    resp = session.request(verb, endpoint, headers=headers, **options)
    content = resp.json() if json else resp.text()
    return {"content": content, "status": resp.status, "headers": resp.headers}


def json_request(endpoint: str, verb: str = "GET", session_options=None, **options):
    """Like ``request``, with the content parsed as JSON."""
    return request(endpoint, verb, session_options, json=True, **options)


def env(key: str, default: Optional[str] = None) -> Optional[str]:
    """A variable the operator passed with ``--env KEY=VALUE``."""
    value = _context.env(key)
    return default if value is None else value


def shard():
    """This run's shard of a larger one (``--shard I/N``): ``(index, count)``,
    or ``None``."""
    index, count = _context.env("MOLOTOV_SHARD"), _context.env("MOLOTOV_SHARD_COUNT")
    return None if index is None or count is None else (int(index), int(count))


def worker_id() -> int:
    return _current_worker()[0]


def step() -> int:
    return _current_worker()[1]


def args():
    """The run's settings (workers, duration_s, max_runs, target, single_run, statsd)."""
    return _context.args()


def sleep(seconds: float) -> None:
    """Suspends this worker (not the others); in ``async def``, ``await
    asyncio.sleep(seconds)`` does the same."""
    _context.sleep(int(seconds * 1000))


def set_var(name: str, value) -> None:
    """Sets a variable shared by every worker (Molotov's ``set_var``): any
    value pickle takes, held by the host (each worker has its own memory)."""
    _vars.set(name, _base64.b64encode(_pickle.dumps(value)).decode())


def get_var(name: str, factory: Optional[Callable] = None):
    """A shared variable, or ``None``; when unset and ``factory`` is given,
    ``factory()`` sets it."""
    held = _vars.get(name)
    if held is None:
        if factory is None:
            return None
        value = _complete(factory())
        set_var(name, value)
        return value
    return _pickle.loads(_base64.b64decode(held))


def print(message) -> None:  # noqa: A001 - Molotov's name
    _log.print(str(message))


def log(message: str, level: str = "info") -> None:
    _log.log(_log.Level[level.upper()], message)


def incr(name: str, delta: int = 1) -> None:
    """Adds to the custom counter ``name``."""
    _metrics.incr(name, delta)


def timing(name: str, us: int) -> None:
    """Records microseconds in the custom histogram ``name``."""
    _metrics.timing(name, us)


def gauge(name: str, value: float) -> None:
    """Sets the custom gauge ``name``."""
    _metrics.gauge(name, float(value))


class _Console:
    """``sys.stdout``: the builtin ``print`` of a scenario shows on the
    host's console, a line at a time, as it does under Molotov."""

    def __init__(self):
        self._line = ""

    def write(self, text: str) -> int:
        self._line += text
        *lines, self._line = self._line.split("\n")
        for line in lines:
            _log.print(line)
        return len(text)

    def flush(self) -> None:
        if self._line:
            _log.print(self._line)
            self._line = ""


_sys.stdout = _Console()
