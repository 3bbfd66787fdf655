// The WebSocket benchmark's molotov scenarios (bench/websockets.py), the
// same as k6_ws.js: `echo` sends a message and answers each echo with the
// next, MESSAGES times on one socket, then closes; `hold` keeps a socket
// open for HOLD_MS (memory per open socket).
import { env, scenario, sleep } from "molotov";

const MESSAGES = 100;

/** Resolves when `ws` closes; rejects on its error. */
const closed = (ws) =>
  new Promise((resolve, reject) => {
    ws.onclose = resolve;
    ws.onerror = (event) => reject(event.error);
  });

scenario({ weight: 1 }, async function echo(session) {
  const ws = session.websocket("/ws/echo");
  let echoed = 0;
  ws.onopen = () => ws.send("x".repeat(32));
  ws.onmessage = (event) => (++echoed < MESSAGES ? ws.send(event.data) : ws.close());
  await closed(ws);
});

scenario({ weight: 0 }, async function hold(session) {
  const ws = session.websocket("/ws/echo");
  await new Promise((resolve) => (ws.onopen = resolve));
  await sleep(Number(env("HOLD_MS") ?? 3000));
  ws.close();
  await closed(ws);
});
