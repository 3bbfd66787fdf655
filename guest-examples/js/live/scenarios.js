// WebSockets and server-sent events against the built-in target, as a
// browser has them: an echo socket, a socket the server pushes to, and an
// event stream. The host reports the handshakes and stream heads as
// requests (WS /ws/echo, GET /sse) and messages, events and gaps as metrics
// under their names. Async functions: workers share an instance, and one
// waiting on its socket lets the others run.
import { check, scenario } from "molotov";

/** Resolves when `ws` closes; rejects on its error. */
const closed = (ws) =>
  new Promise((resolve, reject) => {
    ws.onclose = resolve;
    ws.onerror = (event) => reject(event.error);
  });

scenario({ weight: 40 }, async function echo(session) {
  const ws = session.websocket("/ws/echo");
  const echoes = [];
  ws.onopen = () => ws.send("hello 0");
  ws.onmessage = (event) => {
    echoes.push(event.data);
    if (echoes.length < 3) ws.send(`hello ${echoes.length}`);
    else ws.close();
  };
  await closed(ws);
  check(echoes.join() === "hello 0,hello 1,hello 2", `echoes: ${echoes}`);
});

scenario({ weight: 30 }, async function push(session) {
  const ws = session.websocket("/ws/push?rate=1000&count=5");
  let texts = 0;
  ws.addEventListener("message", () => texts++);
  const { code } = await closed(ws);
  check(code === 1000, `closed with ${code}`);
  check(texts === 5, `the server pushed 5 messages, ${texts} came`);
});

scenario({ weight: 30 }, async function events(session) {
  const stream = await session.stream("/sse?count=4&every_ms=1");
  check(stream.status === 200, `status ${stream.status}`);
  let count = 0;
  for await (const event of stream.events()) {
    check(event.data, "an event without data");
    count++;
  }
  check(count === 4, `the server sent 4 events, ${count} came`);
});
