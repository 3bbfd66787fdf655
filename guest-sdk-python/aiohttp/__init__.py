"""The names of aiohttp that Molotov scenarios use beside the session they
are given (``aiohttp.WSMsgType``, ``aiohttp.ClientTimeout``, its
exceptions), so that such files run unchanged.

The host performs every request, so aiohttp's own client cannot run in the
sandbox: ``ClientSession``, ``TCPConnector`` and ``request`` say so in one
line when called, and name what to use instead.
"""

from typing import NamedTuple, Optional

from molotov._session import ClientError, ClientResponseError, HttpError
from molotov._websocket import ClientWebSocketResponse, WebSocketError, WSMessage, WSMsgType

__all__ = [
    "BasicAuth", "ClientConnectionError", "ClientError", "ClientResponseError",
    "ClientSession", "ClientTimeout", "ClientWebSocketResponse", "TCPConnector",
    "WSMessage", "WSMsgType", "WebSocketError", "request",
]

# A request that got no response (refused, timed out, an invalid URL): the
# session raises molotov's HttpError, whose `kind` says which.
ClientConnectionError = HttpError


class ClientTimeout(NamedTuple):
    """aiohttp's timeouts: the session takes ``total`` as the request's
    timeout (the host bounds connecting and reading within it)."""

    total: Optional[float] = None
    connect: Optional[float] = None
    sock_read: Optional[float] = None
    sock_connect: Optional[float] = None
    ceil_threshold: float = 5


class BasicAuth(NamedTuple):
    """``auth=BasicAuth(login, password)``, as the session's ``auth`` takes it."""

    login: str
    password: str = ""
    encoding: str = "latin1"


def _no_client(name: str):
    def refuse(*_args, **_kwargs):
        raise RuntimeError(
            f"aiohttp.{name} cannot run in molotov's sandbox: the host performs every request; "
            "use the session each scenario is given (`await session.get(url)`)"
        )

    refuse.__name__ = name
    return refuse


ClientSession = _no_client("ClientSession")
TCPConnector = _no_client("TCPConnector")
request = _no_client("request")
