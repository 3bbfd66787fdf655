"""molotov's Python SDK: Molotov-style decorators for scenarios and fixtures.

    from molotov import scenario

    @scenario(weight=40)
    def read(session):
        resp = session.get("/")
        assert resp.status == 200

The host performs and measures every request; a scenario that raises (a
failed ``assert`` included) is a failed run with the exception's message.
Code at module level runs when the component is built, not when it runs:
read ``env()`` and variables inside scenarios and fixtures.
"""

import json as _json
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from componentize_py_types import Err
from wit_world.imports import context as _context
from wit_world.imports import http as _http
from wit_world.imports import log as _log
from wit_world.imports import metrics as _metrics
from wit_world.imports import vars as _vars

__all__ = [
    "scenario", "global_setup", "setup", "setup_session", "teardown_session",
    "teardown", "global_teardown", "scenario_picker", "events",
    "Session", "Response", "HttpError",
    "env", "worker_id", "step", "args", "sleep", "get_var", "set_var",
    "print", "log", "incr", "timing",
]

EVENT_KINDS = (
    "sending_request", "response_received", "current_workers",
    "scenario_start", "scenario_success", "scenario_failure",
)


@dataclass
class _Registry:
    scenarios: Dict[str, Tuple[int, int, Callable]] = field(default_factory=dict)
    fixtures: Dict[str, Callable] = field(default_factory=dict)
    events: Tuple[str, ...] = ()
    # The scenarios' functions in describe()'s order (the host runs one by
    # its index), made at the first run.
    in_order: Optional[List[Callable]] = None


_registry = _Registry()


def scenario(weight: int = 1, delay: float = 0.0, name: Optional[str] = None):
    """Registers ``fn(session)`` as a scenario picked with ``weight``;
    ``delay`` (seconds) pauses the worker after each run."""
    def register(fn):
        _registry.scenarios[name or fn.__name__] = (weight, int(delay * 1000), fn)
        _registry.in_order = None
        return fn
    return register


def _fixture(kind: str):
    def decorator():
        def register(fn):
            _registry.fixtures[kind] = fn
            return fn
        return register
    decorator.__name__ = kind
    decorator.__doc__ = f"Registers the {kind.replace('_', '-')} fixture."
    return decorator


global_setup = _fixture("global_setup")     # fn(args)
setup = _fixture("setup")                   # fn(worker_id, args) -> dict | None
setup_session = _fixture("setup_session")   # fn(worker_id, session)
teardown_session = _fixture("teardown_session")  # fn(worker_id, session)
teardown = _fixture("teardown")             # fn(worker_id)
global_teardown = _fixture("global_teardown")  # fn()
scenario_picker = _fixture("picker")        # fn(worker_id, step) -> name


def events(*kinds: str):
    """Registers ``fn(event, **info)`` for the named event kinds (all when
    none are named), as Molotov calls its event hooks."""
    unknown = [k for k in kinds if k not in EVENT_KINDS]
    if unknown:
        raise ValueError(f"unknown event kinds {unknown}; known: {EVENT_KINDS}")

    def register(fn):
        _registry.fixtures["events"] = fn
        _registry.events = kinds or EVENT_KINDS
        return fn
    return register


class HttpError(Exception):
    """A request that got no response: ``kind`` is connect, timeout, …"""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


def _http_error(error) -> HttpError:
    kind = type(error).__name__.split("_", 1)[-1]
    kind = "".join("-" + c.lower() if c.isupper() else c for c in kind).lstrip("-")
    return HttpError(kind, getattr(error, "value", "") or "")


# The host's response handles of the current call, released when it ends.
_live: List[_http.Response] = []


def _release() -> None:
    while _live:
        _live.pop().__exit__(None, None, None)


class Response:
    """A complete response, held by the host: each part is copied into the
    guest only when read. Valid until the scenario (or fixture) returns."""

    def __init__(self, reply: _http.Reply):
        self._host = reply.response
        self._body: Optional[bytes] = reply.body
        self.status = reply.status
        _live.append(reply.response)

    @property
    def headers(self) -> List[Tuple[str, str]]:
        return self._host.headers()

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = self._host.body()
        return self._body

    @property
    def url(self) -> str:
        return self._host.url()

    @property
    def elapsed_us(self) -> int:
        return self._host.elapsed_us()

    def header(self, name: str) -> Optional[str]:
        return self._host.header(name)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return _json.loads(self.body)


class Session:
    """A worker's HTTP session, held by the host: default headers, cookies
    and timeout persist across the worker's runs."""

    def __init__(self, host: _http.Session):
        self._host = host

    def request(self, method: str, url: str, *, data=None, json=None,
                headers: Optional[Dict[str, str]] = None,
                timeout: Optional[float] = None, name: Optional[str] = None) -> Response:
        pairs = list((headers or {}).items())
        body = data.encode() if isinstance(data, str) else data
        if json is not None:
            body = _json.dumps(json).encode()
            pairs.append(("content-type", "application/json"))
        req = _http.Request(
            method=method, url=url, headers=pairs, body=body,
            timeout_ms=None if timeout is None else int(timeout * 1000), name=name,
        )
        try:
            return Response(self._host.send(req))
        except Err as e:
            raise _http_error(e.value) from None

    def get(self, url: str, **kw) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw) -> Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw) -> Response:
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw) -> Response:
        return self.request("DELETE", url, **kw)

    def set_header(self, name: str, value: str) -> None:
        try:
            self._host.set_header(name, value)
        except Err as e:
            raise _http_error(e.value) from None

    def cookies(self, url: str) -> Dict[str, str]:
        return dict(self._host.cookies(url))


def env(key: str, default: Optional[str] = None) -> Optional[str]:
    """A variable the operator passed with ``--env KEY=VALUE``."""
    value = _context.env(key)
    return default if value is None else value


def worker_id() -> int:
    return _context.worker_id()


def step() -> int:
    return _context.step()


def args():
    """The run's settings (workers, duration_s, max_runs, target, single_run)."""
    return _context.args()


def sleep(seconds: float) -> None:
    """Suspends this worker (not the others)."""
    _context.sleep(int(seconds * 1000))


def get_var(key: str) -> Optional[str]:
    """A variable shared by every worker (Molotov's ``get_var``)."""
    return _vars.get(key)


def set_var(key: str, value: str) -> None:
    _vars.set(key, value)


def print(message: str) -> None:  # noqa: A001 - Molotov's name
    _log.print(message)


def log(message: str, level: str = "info") -> None:
    _log.log(_log.Level[level.upper()], message)


def incr(name: str, delta: int = 1) -> None:
    """Adds to the custom counter ``name``."""
    _metrics.incr(name, delta)


def timing(name: str, us: int) -> None:
    """Records microseconds in the custom histogram ``name``."""
    _metrics.timing(name, us)
