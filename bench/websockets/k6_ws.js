// The WebSocket benchmark's k6 script (bench/websockets.py), the same as
// molotov_ws.js: MODE=echo sends a message and answers each echo with the
// next, MESSAGES times on one socket, then closes; MODE=hold keeps a socket
// open for HOLD_MS.
// k6 1.1 names the module k6/experimental/websockets (k6/websockets from 1.2).
import { WebSocket } from "k6/experimental/websockets";
import { setTimeout } from "k6/timers";

const MESSAGES = 100;

export default function () {
  const ws = new WebSocket(`${__ENV.WS_URL}/ws/echo`);
  if (__ENV.MODE === "hold") {
    ws.onopen = () => setTimeout(() => ws.close(), Number(__ENV.HOLD_MS || 3000));
    return;
  }
  let echoed = 0;
  ws.onopen = () => ws.send("x".repeat(32));
  ws.onmessage = (event) => (++echoed < MESSAGES ? ws.send(event.data) : ws.close());
}
