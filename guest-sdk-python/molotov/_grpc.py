"""gRPC calls through the session (``await session.grpc(method, request)``,
``await session.unary(method, request)``): the messages are protobuf bytes
the scenario encodes; the host frames and sends them, applies the deadline,
reads the status and reports each call (``GRPC /package.Service/Method``).
On a shared instance the other workers run while a call waits."""

from typing import Dict, List, Optional

from componentize_py_types import Err
from wit_world.imports import grpc as _grpc
from wit_world.imports import multiplex_grpc as _mx

from . import _io
from ._session import _header_pairs, _seconds_to_ms, http_error

STATUS_NAMES = (
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
)


def status_name(code: int) -> str:
    """The canonical name of gRPC status ``code`` (``UNAVAILABLE``)."""
    return STATUS_NAMES[code] if code < len(STATUS_NAMES) else "UNKNOWN"


class GrpcError(Exception):
    """A call that ended with a status other than OK."""

    def __init__(self, method: str, reply: "GrpcReply"):
        super().__init__(f"{method}: gRPC status {reply.status} ({status_name(reply.status)}): {reply.message}")
        self.status = reply.status
        self.reply = reply


class GrpcReply:
    """What a call came to: ``status`` (0 is OK, 4 when the deadline passed
    first), ``message``, ``headers``, ``trailers``, ``messages`` (bytes)."""

    def __init__(self, method: str, reply):
        self.method = method
        self.status: int = reply.status
        self.message: str = reply.message
        self.headers: Dict[str, str] = dict(reply.headers)
        self.trailers: Dict[str, str] = dict(reply.trailers)
        self.messages: List[bytes] = list(reply.messages)

    def ok(self) -> "GrpcReply":
        """The reply; raises ``GrpcError`` when its status is not OK."""
        if self.status != 0:
            raise GrpcError(self.method, self)
        return self

    def message_bytes(self) -> bytes:
        """The one message of an OK unary reply."""
        self.ok()
        if len(self.messages) != 1:
            raise ValueError(f"{self.method}: {len(self.messages)} messages where a unary call answers one")
        return self.messages[0]


async def grpc(session, method: str, requests, *, target: str = "", metadata=None,
               timeout: Optional[float] = None, name: Optional[str] = None) -> GrpcReply:
    call = _grpc.Call(target=target, method=method, metadata=_header_pairs(metadata),
                      timeout_ms=_seconds_to_ms(timeout), name=name)
    host = session._handle()
    wire = [bytes(request) for request in requests]
    result = await _io.call(lambda: _mx.start_invoke(host, call, wire),
                            lambda: _grpc.invoke(host, call, wire), kind="grpc")
    if isinstance(result, Err):
        raise http_error(result.value)
    return GrpcReply(method, result.value)
