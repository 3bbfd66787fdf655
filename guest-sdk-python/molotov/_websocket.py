"""WebSockets as aiohttp has them (``session.ws_connect``): the host opens,
bounds and measures the socket; ``send_str``, ``receive``, ``async for msg
in ws`` and ``close`` are awaited as in aiohttp, and ``WSMsgType`` has
aiohttp's values."""

import asyncio
import enum
import json as _json
from typing import NamedTuple, Optional

from componentize_py_types import Err
from wit_world.imports import multiplex_io as _mx
from wit_world.imports import websocket as _ws

from . import _io
from ._session import _header_pairs, _seconds_to_ms, http_error


class WSMsgType(enum.IntEnum):
    """aiohttp's message types, with its values."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102


class WSMessage(NamedTuple):
    """aiohttp's message: its type, its data (text, bytes, or the close
    code) and ``extra`` (the close reason)."""

    type: WSMsgType
    data: object
    extra: Optional[str]

    def json(self, *, loads=_json.loads):
        return loads(self.data)


class WebSocketError(Exception):
    """A socket's failure: a breach of the host's limits, a protocol error,
    a broken connection."""


def _error(url: str, error) -> Exception:
    if isinstance(error, _ws.WsError_Http):
        return http_error(error.value)
    if isinstance(error, _ws.WsError_Timeout):
        return asyncio.TimeoutError(f"{url}: timed out")
    what = {
        _ws.WsError_TooManyOpen: "the worker already holds {} open sockets and streams (--max-open)",
        _ws.WsError_MessageTooLarge: "message over the limit of {} bytes",
        _ws.WsError_FrameRate: "the server sent over {} frames in a second",
        _ws.WsError_InvalidRequest: "invalid request: {}",
        _ws.WsError_Protocol: "websocket: {}",
    }[type(error)]
    return WebSocketError(f"{url}: {what.format(error.value)}")


def _message(message) -> WSMessage:
    if isinstance(message, _ws.Message_Text):
        return WSMessage(WSMsgType.TEXT, message.value, None)
    if isinstance(message, _ws.Message_Binary):
        return WSMessage(WSMsgType.BINARY, message.value, None)
    if isinstance(message, _ws.Message_Pong):
        return WSMessage(WSMsgType.PONG, message.value, None)
    close = message.value
    return WSMessage(WSMsgType.CLOSE, close.code if close else 1005, close.reason if close else "")


class ClientWebSocketResponse:
    """An open socket, as aiohttp's ``ClientWebSocketResponse``."""

    def __init__(self, socket: _ws.Socket, url: str):
        self._socket = socket
        self._url = url
        self.closed = False
        self.close_code: Optional[int] = None
        self.protocol = socket.protocol()

    async def _call(self, op, in_place):
        result = await _io.call(lambda: _mx.start_socket(self._socket, op), in_place)
        if isinstance(result, Err):
            raise _error(self._url, result.value)
        return result.value

    async def send_str(self, data: str) -> None:
        s = self._socket
        await self._call(_mx.SocketOp_SendText(data), lambda: s.send_text(data))

    async def send_bytes(self, data: bytes) -> None:
        s = self._socket
        await self._call(_mx.SocketOp_SendBinary(bytes(data)), lambda: s.send_binary(bytes(data)))

    async def send_json(self, data, *, dumps=_json.dumps) -> None:
        await self.send_str(dumps(data))

    async def ping(self, message: bytes = b"") -> None:
        s = self._socket
        await self._call(_mx.SocketOp_Ping(bytes(message)), lambda: s.ping(bytes(message)))

    async def receive(self, timeout: Optional[float] = None) -> WSMessage:
        """The next message; after the server's close, ``CLOSED``."""
        if self.closed:
            return WSMessage(WSMsgType.CLOSED, None, None)
        ms = _seconds_to_ms(timeout)
        s = self._socket
        done = await self._call(_mx.SocketOp_Receive(ms), lambda: s.receive(ms))
        message = _message(done.value if isinstance(done, _mx.SocketDone_Received) else done)
        if message.type == WSMsgType.CLOSE:
            self.closed = True
            self.close_code = message.data
        return message

    async def receive_str(self, *, timeout: Optional[float] = None) -> str:
        message = await self.receive(timeout)
        if message.type != WSMsgType.TEXT:
            raise TypeError(f"{self._url}: received {message.type.name}, not TEXT")
        return message.data

    async def receive_bytes(self, *, timeout: Optional[float] = None) -> bytes:
        message = await self.receive(timeout)
        if message.type != WSMsgType.BINARY:
            raise TypeError(f"{self._url}: received {message.type.name}, not BINARY")
        return message.data

    async def receive_json(self, *, loads=_json.loads, timeout: Optional[float] = None):
        return loads(await self.receive_str(timeout=timeout))

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        """Closes (once) and waits for the server's close; False if closed already."""
        if self.closed:
            return False
        self.closed = True
        reason = bytes(message).decode()
        s = self._socket
        done = await self._call(
            _mx.SocketOp_Close(_ws.CloseFrame(code, reason)), lambda: s.close(code, reason)
        )
        close = done.value if isinstance(done, _mx.SocketDone_Closed) else done
        self.close_code = close.code if close else code
        return True

    def __aiter__(self):
        return self

    async def __anext__(self) -> WSMessage:
        message = await self.receive()
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return message

    async def __aenter__(self):
        return self

    async def __aexit__(self, *_):
        await self.close()


class _Connecting:
    """What ``ws_connect`` returns: awaited, or used with ``async with``."""

    def __init__(self, session, request: _ws.ConnectRequest):
        self._session = session
        self._request = request

    async def _open(self) -> ClientWebSocketResponse:
        host, req = self._session._handle(), self._request
        result = await _io.call(lambda: _mx.start_connect(host, req), lambda: _ws.connect(host, req))
        if isinstance(result, Err):
            raise _error(req.url, result.value)
        return ClientWebSocketResponse(_io.keep(result.value), req.url)

    def __await__(self):
        return self._open().__await__()

    async def __aenter__(self) -> ClientWebSocketResponse:
        self._socket = await self._open()
        return self._socket

    async def __aexit__(self, *_):
        await self._socket.close()


def ws_connect(session, url, *, protocols=(), headers=None, timeout=None, name=None,
               **unsupported) -> _Connecting:
    """``session.ws_connect(url)``, as in aiohttp."""
    if unsupported:
        raise TypeError(f"session.ws_connect(): unsupported keywords {sorted(unsupported)}")
    request = _ws.ConnectRequest(
        url=str(url), headers=_header_pairs(headers), protocols=list(protocols),
        timeout_ms=_seconds_to_ms(timeout), name=name,
    )
    return _Connecting(session, request)
