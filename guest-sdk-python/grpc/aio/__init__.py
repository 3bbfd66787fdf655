"""``grpc.aio`` as scenarios use it: a channel whose calls the worker's
session makes. A call sends every request message, then reads the whole
answer (the host frames, sends, measures and limits it); a stream's
answer is iterated once it has come."""

from typing import List, Optional

from molotov._grpc import grpc as _call
from molotov._session import HttpError, current_session

from .. import RpcError, StatusCode

__all__ = ["AioRpcError", "Channel", "EOF", "insecure_channel", "secure_channel"]

# What `read()` returns at the end of an answer's messages.
EOF = object()


class AioRpcError(RpcError):
    """A call that ended with ``code()`` other than OK, or got no answer."""

    def __init__(self, code: StatusCode, details: str, initial_metadata=(), trailing_metadata=()):
        super().__init__(f"<AioRpcError of RPC that terminated with: status = {code}, details = \"{details}\">")
        self._code = code
        self._details = details
        self._initial = tuple(initial_metadata)
        self._trailing = tuple(trailing_metadata)

    def code(self) -> StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def initial_metadata(self):
        return self._initial

    def trailing_metadata(self):
        return self._trailing

    def debug_error_string(self) -> str:
        return str(self)


def _address(target: str, secure: bool) -> str:
    """A gRPC target name (``ipv4:///127.0.0.1:50051``, ``dns:///host:443``,
    ``host:port``) as the URL the host calls; empty: the run's --target."""
    if not target or target.startswith(("http://", "https://")):
        return target
    scheme, _, rest = target.partition(":")
    if scheme in ("unix", "unix-abstract", "vsock"):
        raise ValueError(f"{target}: molotov calls gRPC servers over TCP only")
    if scheme in ("ipv4", "ipv6", "dns"):
        target = rest.lstrip("/")
    return f"{'https' if secure else 'http'}://{target}"


class _Call:
    """One call: its requests, then (once awaited) the host's reply."""

    def __init__(self, channel: "Channel", method: str, serializer, deserializer,
                 requests, timeout: Optional[float], metadata):
        self._channel = channel
        self._method = method
        self._serialize = serializer or bytes
        self._deserialize = deserializer or (lambda data: data)
        self._requests = requests  # None: written with write() until done_writing()
        self._written: List = []
        self._timeout = timeout
        self._metadata = list(metadata or ())
        self._reply = None

    async def _replied(self):
        if self._reply is None:
            requests = self._written if self._requests is None else self._requests
            if hasattr(requests, "__aiter__"):
                requests = [r async for r in requests]
            wire = [self._serialize(r) for r in requests]
            try:
                self._reply = await _call(self._channel._session(), self._method, wire,
                                          target=self._channel._target, metadata=self._metadata,
                                          timeout=self._timeout)
            except HttpError as e:
                if e.kind in ("invalid-url", "host-not-allowed", "invalid-request"):
                    raise
                code = StatusCode.DEADLINE_EXCEEDED if e.kind == "timeout" else StatusCode.UNAVAILABLE
                raise AioRpcError(code, str(e)) from None
        return self._reply

    def _failure(self) -> AioRpcError:
        reply = self._reply
        return AioRpcError(StatusCode.of(reply.status), reply.message,
                           tuple(reply.headers.items()), tuple(reply.trailers.items()))

    async def _messages(self):
        reply = await self._replied()
        return [self._deserialize(m) for m in reply.messages]

    async def code(self) -> StatusCode:
        return StatusCode.of((await self._replied()).status)

    async def details(self) -> str:
        return (await self._replied()).message

    async def initial_metadata(self):
        return tuple((await self._replied()).headers.items())

    async def trailing_metadata(self):
        return tuple((await self._replied()).trailers.items())

    def cancel(self) -> bool:
        return False

    def done(self) -> bool:
        return self._reply is not None

    async def write(self, request) -> None:
        if self._requests is not None:
            raise RuntimeError(f"{self._method}: the call was given a request iterator")
        self._written.append(request)

    async def done_writing(self) -> None:
        pass


class _UnaryAnswer(_Call):
    """A call answered by one message: ``await call`` is the response."""

    def __await__(self):
        return self._response().__await__()

    async def _response(self):
        messages = await self._messages()
        if self._reply.status != 0:
            raise self._failure()
        if len(messages) != 1:
            raise AioRpcError(StatusCode.INTERNAL, f"{self._method}: {len(messages)} messages where one was due")
        return messages[0]


class _StreamAnswer(_Call):
    """A call answered by a stream: ``async for response in call``, or
    ``await call.read()`` until ``grpc.aio.EOF``; a status other than OK
    raises after the messages that came before it."""

    _read = None

    def __aiter__(self):
        return self._each()

    async def _each(self):
        for message in await self._messages():
            yield message
        if self._reply.status != 0:
            raise self._failure()

    async def read(self):
        if self._read is None:
            self._read = self._each()
        try:
            return await self._read.__anext__()
        except StopAsyncIteration:
            return EOF


class _MultiCallable:
    def __init__(self, channel, method, serializer, deserializer, answer, streams_requests):
        self._made = (channel, method, serializer, deserializer)
        self._answer = answer
        self._streams_requests = streams_requests

    def __call__(self, request=None, *, timeout=None, metadata=None, credentials=None,
                 wait_for_ready=None, compression=None):
        if compression is not None:
            raise NotImplementedError("compressed calls: molotov's host sends messages uncompressed")
        requests = request if self._streams_requests else [request]
        return self._answer(*self._made, requests, timeout, metadata)


class Channel:
    """Calls to ``target`` through the worker's session."""

    def __init__(self, target: str, secure: bool = False, session=None):
        self._target = _address(target, secure)
        self._bound = session

    def _session(self):
        session = self._bound or current_session.get()
        if session is None:
            raise RuntimeError("a grpc.aio channel calls through a scenario's session: make it in a scenario")
        return session

    def unary_unary(self, method, request_serializer=None, response_deserializer=None, _registered_method=False):
        return _MultiCallable(self, method, request_serializer, response_deserializer, _UnaryAnswer, False)

    def unary_stream(self, method, request_serializer=None, response_deserializer=None, _registered_method=False):
        return _MultiCallable(self, method, request_serializer, response_deserializer, _StreamAnswer, False)

    def stream_unary(self, method, request_serializer=None, response_deserializer=None, _registered_method=False):
        return _MultiCallable(self, method, request_serializer, response_deserializer, _UnaryAnswer, True)

    def stream_stream(self, method, request_serializer=None, response_deserializer=None, _registered_method=False):
        return _MultiCallable(self, method, request_serializer, response_deserializer, _StreamAnswer, True)

    async def channel_ready(self) -> None:
        pass

    async def close(self, grace=None) -> None:
        pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()


def insecure_channel(target, options=None, compression=None, interceptors=None) -> Channel:
    return Channel(target)


def secure_channel(target, credentials=None, options=None, compression=None, interceptors=None) -> Channel:
    return Channel(target, secure=True)
