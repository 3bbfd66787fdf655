"""WebSockets and server-sent events against the built-in target, written
as aiohttp scenarios are: an echo socket, a socket the server pushes to,
and an event stream. The host reports the handshakes and stream heads as
requests (``WS /ws/echo``, ``GET /sse``) and messages, events and gaps as
metrics under their names. ``aiohttp``'s names (``WSMsgType``,
``ClientTimeout``) work as in a Molotov file; its client does not run here."""

import aiohttp
from molotov import scenario


@scenario(weight=40)
async def echo(session):
    async with session.ws_connect("/ws/echo", timeout=aiohttp.ClientTimeout(total=5)) as ws:
        for n in range(3):
            await ws.send_str(f"hello {n}")
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, f"got {msg.type}"
            assert msg.data == f"hello {n}", f"got {msg.data!r}"


@scenario(weight=30)
async def push(session):
    texts = 0
    async with session.ws_connect("/ws/push?rate=1000&count=5") as ws:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                texts += 1
        assert ws.close_code == 1000, f"closed with {ws.close_code}"
    assert texts == 5, f"the server pushed 5 messages, {texts} came"


@scenario(weight=30)
async def events(session):
    async with session.stream("GET", "/sse?count=4&every_ms=1") as resp:
        assert resp.status == 200, f"status {resp.status}"
        count = 0
        async for event in resp.events():
            assert event.data, "an event without data"
            count += 1
    assert count == 4, f"the server sent 4 events, {count} came"
