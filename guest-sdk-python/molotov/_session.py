"""The worker's HTTP session as Molotov scenarios know it (aiohttp's API),
over the session the host holds, performs and measures.

``session.get(url)`` sends at once and gives the complete response, which
also works as ``await session.get(url)`` and ``async with session.get(url)
as resp``; in an ``async def``, ``resp.json()``, ``resp.text()`` and
``resp.read()`` are awaited, as in aiohttp.
"""

import contextvars
import inspect
import json as _json
import sys
from asyncio import events as _asyncio_events
from http import HTTPStatus
from types import SimpleNamespace
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlencode

from componentize_py_types import Err
from wit_world.imports import context as _context
from wit_world.imports import http as _http
from wit_world.imports import log as _log
from wit_world.imports import metrics as _metrics

from ._aio import is_coroutine_caller

_COROUTINE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


class ClientError(Exception):
    """What a request can raise (aiohttp's base class of its errors)."""


class HttpError(ClientError):
    """A request that got no response: ``kind`` is connect, timeout, …"""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


class ClientResponseError(ClientError):
    """``raise_for_status()`` on a 4xx or 5xx response (aiohttp's name)."""

    def __init__(self, status: int, message: str, url: str):
        super().__init__(f"{status}, message={message!r}, url={url!r}")
        self.status = status
        self.message = message
        self.url = url


def http_error(error) -> HttpError:
    kind = type(error).__name__.split("_", 1)[-1]
    kind = "".join("-" + c.lower() if c.isupper() else c for c in kind).lstrip("-")
    return HttpError(kind, str(getattr(error, "value", "") or ""))


class Headers:
    """Headers by case-insensitive name, several values per name allowed
    (aiohttp's ``CIMultiDict`` reading API)."""

    def __init__(self, pairs: List[Tuple[str, str]]):
        self._pairs = pairs

    def getall(self, name: str, default=None) -> List[str]:
        name = name.lower()
        values = [v for (n, v) in self._pairs if n.lower() == name]
        if not values and default is None:
            raise KeyError(name)
        return values or default

    def get(self, name: str, default=None) -> Optional[str]:
        name = name.lower()
        return next((v for (n, v) in self._pairs if n.lower() == name), default)

    getone = get

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name) -> bool:
        return self.get(name) is not None

    def __iter__(self):
        return (n for (n, _) in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def keys(self):
        return list(self)

    def values(self):
        return [v for (_, v) in self._pairs]

    def items(self):
        return list(self._pairs)

    def __repr__(self) -> str:
        return f"<Headers {self._pairs!r}>"


class Awaitable:
    """A body read inside an ``async def``: ``await`` gives the value."""

    __slots__ = ("_value", "_what")

    def __init__(self, value, what: str):
        self._value = value
        self._what = what

    def __await__(self):
        return self._value
        yield  # a generator: `await` takes its return value

    def _unawaited(self, *_):
        raise TypeError(f"{self._what} must be awaited in an async scenario: `await {self._what}`")

    __getattr__ = __getitem__ = __iter__ = __len__ = __contains__ = __eq__ = _unawaited
    __str__ = __bool__ = _unawaited

    def __repr__(self) -> str:
        return f"<not awaited: {self._what}>"


def _body(value, what: str):
    return Awaitable(value, what) if is_coroutine_caller(3) else value


# The host's response handles of the current call, released when it ends:
# one list per run in flight when workers share the instance.
_live: contextvars.ContextVar = contextvars.ContextVar("molotov_live", default=[])

# In a shared instance, the worker (id, step) whose run the current task is.
running_as: contextvars.ContextVar = contextvars.ContextVar("molotov_worker", default=None)


def current_worker() -> Tuple[int, int]:
    """The (worker id, step) of the code running now."""
    here = running_as.get()
    return here if here is not None else (_context.worker_id(), _context.step())


def release(live: Optional[List[_http.Response]] = None) -> None:
    live = _live.get() if live is None else live
    while live:
        live.pop().__exit__(None, None, None)


class Response:
    """A complete response, held by the host: each part is copied into the
    guest only when read. Valid until the scenario (or fixture) returns."""

    def __init__(self, reply: _http.Reply, method: str):
        self._host = reply.response
        self._body: Optional[bytes] = reply.body
        self._headers: Optional[Headers] = None
        self.status = reply.status
        self.method = method
        _live.get().append(reply.response)

    # aiohttp's ways of holding a response: `async with`, `await`.
    async def __aenter__(self):
        return self

    async def __aexit__(self, *_):
        return None

    def __await__(self):
        return self
        yield  # a generator: `await` takes its return value

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self._host.headers())
        return self._headers

    def header(self, name: str) -> Optional[str]:
        return self._host.header(name)

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

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "application/octet-stream").split(";")[0].strip()

    def read(self):
        """The body's bytes (awaited in an ``async def``)."""
        return _body(self.body, "resp.read()")

    def text(self, encoding: Optional[str] = None, errors: str = "replace"):
        """The body as text (awaited in an ``async def``)."""
        return _body(self.body.decode(encoding or "utf-8", errors), "resp.text()")

    def json(self, *, loads=_json.loads, content_type=None, encoding=None):
        """The body parsed as JSON (awaited in an ``async def``)."""
        return _body(loads(self.body.decode(encoding or "utf-8")), "resp.json()")

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise ClientResponseError(self.status, self.reason, self.url)

    def release(self) -> None:
        """Nothing to do: the host releases responses when the call ends."""

    close = release


class Pending:
    """A request started by an ``async def`` in a shared instance: ``await``
    (or ``async with``) gives its response once the host has it."""

    __slots__ = ("_future", "_method")

    def __init__(self, future, method: str):
        self._future = future
        self._method = method

    def __await__(self):
        outcome = yield from self._future.__await__()
        if isinstance(outcome, Err):
            raise http_error(outcome.value)
        return Response(outcome.value, self._method)

    async def __aenter__(self):
        return await self

    async def __aexit__(self, *_):
        return None


def start_send(session: _http.Session, request: _http.Request):
    """A future of the request's outcome when it can be started without
    waiting: called from a coroutine on a loop that starts requests (the
    shared instance's). Else ``None``: the request waits in the host."""
    start = getattr(_asyncio_events._get_running_loop(), "start_send", None)
    if start is None:
        return None
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None or not frame.f_code.co_flags & _COROUTINE:
        return None
    return start(session, request)


def _seconds_to_ms(timeout) -> Optional[int]:
    """A timeout in seconds, or an object with ``total`` (``ClientTimeout``)."""
    timeout = getattr(timeout, "total", timeout)
    return None if timeout is None else max(1, int(timeout * 1000))


def _header_pairs(headers) -> List[Tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    return [(str(name), str(value)) for (name, value) in items]


def _with_params(url: str, params) -> str:
    if not params:
        return url
    query = params if isinstance(params, str) else urlencode(
        list(params.items()) if hasattr(params, "items") else list(params), doseq=True
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _encode_body(data, json, pairs: List[Tuple[str, str]]) -> Optional[bytes]:
    has_type = any(name.lower() == "content-type" for (name, _) in pairs)
    if json is not None:
        if not has_type:
            pairs.append(("content-type", "application/json"))
        return _json.dumps(json).encode()
    if data is None or isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if not has_type:
        pairs.append(("content-type", "application/x-www-form-urlencoded"))
    return urlencode(list(data.items()) if hasattr(data, "items") else list(data)).encode()


class Session:
    """A worker's HTTP session, held by the host: default headers, cookies
    and timeout persist across the worker's runs, and so do the attributes
    a fixture sets on it (``session.token = …`` in ``setup_session``)."""

    def __init__(self, worker_id: Optional[int]):
        self._host: Optional[_http.Session] = None
        self._worker_id = worker_id
        self._context: Optional["Context"] = None

    def _handle(self) -> _http.Session:
        # Outside a call that lends the session (an event hook, a fixture
        # given none), the instance's own session is the same session.
        if self._host is None:
            self._host = _http.instance_session()
        return self._host

    def request(self, method: str, url: str, *, params=None, data=None, json=None,
                headers=None, cookies=None, timeout=None, allow_redirects: bool = True,
                max_redirects: Optional[int] = None, name: Optional[str] = None,
                **unsupported) -> Response:
        if unsupported:
            raise TypeError(f"session.{method.lower()}(): unsupported keywords {sorted(unsupported)}")
        pairs = _header_pairs(headers)
        if cookies:
            pairs.append(("cookie", "; ".join(f"{k}={v}" for (k, v) in dict(cookies).items())))
        body = _encode_body(data, json, pairs)
        req = _http.Request(
            method=method.upper(), url=_with_params(str(url), params), headers=pairs, body=body,
            timeout_ms=_seconds_to_ms(timeout), name=name,
            max_redirects=0 if not allow_redirects else max_redirects,
        )
        started = start_send(self._handle(), req)
        if started is not None:
            return Pending(started, req.method)
        try:
            return Response(self._handle().send(req), req.method)
        except Err as e:
            raise http_error(e.value) from None

    def get(self, url, **kw) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url, data=None, **kw) -> Response:
        return self.request("POST", url, data=data, **kw)

    def put(self, url, data=None, **kw) -> Response:
        return self.request("PUT", url, data=data, **kw)

    def patch(self, url, data=None, **kw) -> Response:
        return self.request("PATCH", url, data=data, **kw)

    def delete(self, url, **kw) -> Response:
        return self.request("DELETE", url, **kw)

    def head(self, url, **kw) -> Response:
        return self.request("HEAD", url, **{"allow_redirects": False, **kw})

    def options(self, url, **kw) -> Response:
        return self.request("OPTIONS", url, **kw)

    def ws_connect(self, url, **kw):
        """A WebSocket, as aiohttp opens one (``async with session.ws_connect(url) as ws``)."""
        from ._websocket import ws_connect

        return ws_connect(self, url, **kw)

    def stream(self, method: str, url, **kw):
        """A response read as it arrives (``async with session.stream("GET", url) as resp``)."""
        from ._stream import stream

        return stream(self, method, url, **kw)

    async def grpc(self, method: str, *requests: bytes, **kw):
        """A gRPC call of ``method`` (``/package.Service/Method``) with
        protobuf-encoded ``requests``: its reply, whatever its status."""
        from ._grpc import grpc

        return await grpc(self, method, requests, **kw)

    async def unary(self, method: str, request: bytes, **kw) -> bytes:
        """A unary call: the answer's one message; a non-OK status raises
        ``GrpcError``."""
        from ._grpc import grpc

        return (await grpc(self, method, [request], **kw)).message_bytes()

    def set_header(self, name: str, value: str) -> None:
        try:
            self._handle().set_header(name, str(value))
        except Err as e:
            raise http_error(e.value) from None

    def cookies(self, url: str) -> Dict[str, str]:
        return dict(self._handle().cookies(url))

    def print(self, text) -> None:
        _log.print(str(text))

    @property
    def statsd(self) -> Optional["Statsd"]:
        return context_of(self).statsd


def auth_header(auth) -> Tuple[str, str]:
    """``Authorization`` for ``auth``: ``(login, password)`` or an object
    with ``login`` and ``password`` (aiohttp's ``BasicAuth``)."""
    import base64

    login, password = (auth.login, auth.password) if hasattr(auth, "login") else auth
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return ("authorization", f"Basic {token}")


def session_options_headers(options: dict) -> List[Tuple[str, str]]:
    """The headers of Molotov's session options (``headers``, ``auth``)."""
    headers = _header_pairs(options.get("headers"))
    if options.get("auth") is not None:
        headers.append(auth_header(options["auth"]))
    return headers


class Statsd:
    """Molotov's statsd client (``get_context(session).statsd``): its
    metrics go to the run's custom metrics, and through the host to statsd."""

    def incr(self, name: str, value: int = 1, **_tags) -> None:
        _metrics.incr(name, int(value))

    increment = incr

    def decr(self, name: str, value: int = 1, **_tags) -> None:
        _metrics.incr(name, -int(value))

    decrement = decr

    def timing(self, name: str, value: float, **_tags) -> None:
        """``value`` in milliseconds, as statsd takes timings."""
        _metrics.timing(name, max(0, int(value * 1000)))

    def gauge(self, name: str, value: float, **_tags) -> None:
        _metrics.gauge(name, float(value))


def run_args() -> SimpleNamespace:
    """The run's settings under Molotov's names (its ``args``)."""
    a = _context.args()
    return SimpleNamespace(
        workers=a.workers, duration=a.duration_s, max_runs=a.max_runs,
        single_run=a.single_run, target=a.target, statsd=a.statsd,
        duration_s=a.duration_s,
    )


class Context:
    """What ``molotov.get_context(session)`` gives: the worker, its step, the
    run's arguments, the statsd client (``None`` without ``--statsd``), and
    what the scenario attaches to it."""

    def __init__(self, worker_id: Optional[int]):
        self.worker_id = worker_id
        self.args = run_args()
        self.statsd = Statsd() if self.args.statsd else None

    @property
    def step(self) -> int:
        return current_worker()[1]

    def attach(self, name: str, value) -> None:
        setattr(self, name, value)


def context_of(session: Session) -> Context:
    if session._context is None:
        session._context = Context(session._worker_id)
    return session._context


# Each worker's session, kept across its runs (several when workers share
# an instance).
_sessions: Dict[int, Session] = {}


# The session lent to the code that runs now (a run is a task of its own,
# so each sees its worker's): what a grpc.aio channel made in it calls through.
current_session: contextvars.ContextVar = contextvars.ContextVar("molotov_session", default=None)


def lend(worker_id: int, host: Optional[_http.Session]) -> Session:
    """The worker's session, using ``host`` for this call."""
    session = _sessions.get(worker_id)
    if session is None:
        session = _sessions[worker_id] = Session(worker_id)
    session._host = host
    current_session.set(session)
    return session
