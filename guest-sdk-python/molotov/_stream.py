"""Responses read as they arrive (``session.stream``): the host sends the
request, returns at its head and reads the body in its own time; the
scenario reads it as aiohttp's ``resp.content`` (``iter_any``,
``iter_chunked``, ``readline``, ``async for line``) or as server-sent events
(``resp.events()``), which the host parses."""

from typing import NamedTuple, Optional

from componentize_py_types import Err
from wit_world.imports import http as _http
from wit_world.imports import multiplex_io as _mx
from wit_world.imports import streaming as _streaming

from . import _io
from ._session import Headers, _header_pairs, _seconds_to_ms, _with_params, http_error


class Event(NamedTuple):
    """A server-sent event: its type (``message`` by default), data, id
    and retry (ms)."""

    event: str
    data: str
    id: Optional[str]
    retry: Optional[int]


class StreamReader:
    """The body as it comes, as aiohttp's ``StreamReader`` reads it."""

    def __init__(self, response: "StreamResponse"):
        self._response = response
        self._buffer = b""
        self._ended = False

    async def _more(self) -> bool:
        chunk = await self._response._read(_mx.start_read_chunk, "read_chunk")
        if chunk is None:
            self._ended = True
            return False
        self._buffer += chunk
        return True

    async def readany(self) -> bytes:
        """The next bytes that came (b"" at the end)."""
        if not self._buffer and not self._ended:
            await self._more()
        data, self._buffer = self._buffer, b""
        return data

    async def readline(self) -> bytes:
        """The next line with its b"\\n" (the rest at the end; b"" after)."""
        while b"\n" not in self._buffer and not self._ended:
            await self._more()
        at = self._buffer.find(b"\n")
        cut = len(self._buffer) if at < 0 else at + 1
        line, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return line

    async def read(self) -> bytes:
        while await self._more():
            pass
        data, self._buffer = self._buffer, b""
        return data

    async def iter_any(self):
        while data := await self.readany():
            yield data

    async def iter_chunked(self, n: int):
        while True:
            while len(self._buffer) < n and not self._ended:
                await self._more()
            if not self._buffer:
                return
            data, self._buffer = self._buffer[:n], self._buffer[n:]
            yield data

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


class StreamResponse:
    """A response whose head has arrived; its body is read as it comes."""

    def __init__(self, stream: _streaming.BodyStream, url: str):
        self._stream = stream
        self.url = url
        self.status = stream.status()
        self.headers = Headers(stream.headers())
        self.content = StreamReader(self)

    async def _read(self, start, method: str, timeout_ms: Optional[int] = None):
        stream = self._stream
        result = await _io.call(
            lambda: start(stream, timeout_ms), lambda: getattr(stream, method)(timeout_ms)
        )
        if isinstance(result, Err):
            raise http_error(result.value)
        return result.value

    async def events(self, timeout: Optional[float] = None):
        """Each server-sent event until the body ends."""
        ms = _seconds_to_ms(timeout)
        while (event := await self._read(_mx.start_read_event, "read_event", ms)) is not None:
            yield Event(event.event or "message", event.data, event.id, event.retry_ms)

    def close(self) -> None:
        self._stream.__exit__(None, None, None)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *_):
        self.close()


class _Opening:
    """What ``session.stream`` returns: awaited, or used with ``async with``."""

    def __init__(self, session, request: _http.Request):
        self._session = session
        self._request = request

    async def _open(self) -> StreamResponse:
        host, req = self._session._handle(), self._request
        result = await _io.call(lambda: _mx.start_open(host, req), lambda: _streaming.open(host, req))
        if isinstance(result, Err):
            raise http_error(result.value)
        return StreamResponse(_io.keep(result.value), req.url)

    def __await__(self):
        return self._open().__await__()

    async def __aenter__(self) -> StreamResponse:
        return await self._open()

    async def __aexit__(self, *_):
        return None


def stream(session, method: str, url, *, params=None, headers=None, timeout=None,
           name=None, **unsupported) -> _Opening:
    """``session.stream("GET", url)``: the response at its head."""
    if unsupported:
        raise TypeError(f"session.stream(): unsupported keywords {sorted(unsupported)}")
    request = _http.Request(
        method=method.upper(), url=_with_params(str(url), params), headers=_header_pairs(headers),
        body=None, timeout_ms=_seconds_to_ms(timeout), name=name, max_redirects=0,
    )
    return _Opening(session, request)
