// k6's WebSocket modules, unchanged (tests/e2e/k6.rs), against a
// `websockets` echo server: the browser-like k6/websockets with k6/timers
// on even iterations, k6/ws's callbacks on odd ones. An iteration lasts
// until its sockets close and its timers end, as in k6.
import { WebSocket } from "k6/websockets";
import ws from "k6/ws";
import { clearInterval, setInterval, setTimeout } from "k6/timers";
import { check } from "k6";
import { Counter } from "k6/metrics";

export const options = { vus: 2, iterations: 6 };

const echoes = new Counter("echoes");

function browserLike() {
  const socket = new WebSocket(__ENV.WS_URL);
  let got = 0;
  socket.onopen = () => {
    let sent = 0;
    const ticking = setInterval(() => {
      socket.send(`tick ${sent}`);
      if (++sent === 3) clearInterval(ticking);
    }, 5);
  };
  socket.addEventListener("message", (event) => {
    echoes.add(1);
    check(event.data, { "an echo of a tick": (data) => data.startsWith("tick ") });
    if (++got === 3) setTimeout(() => socket.close(), 5);
  });
  socket.onclose = () => check(got, { "three echoes (k6/websockets)": (n) => n === 3 });
}

function callbacks() {
  let got = 0;
  const res = ws.connect(__ENV.WS_URL, {}, (socket) => {
    socket.on("open", () => {
      socket.send("one");
      socket.send("two");
    });
    socket.on("message", (data) => {
      echoes.add(1);
      if (++got === 2) socket.close();
    });
    // Cleared when the socket closes: the iteration does not wait for it.
    socket.setTimeout(() => socket.close(), 30000);
  });
  check(res, { "status is 101": (r) => r.status === 101 });
  check(got, { "two echoes (k6/ws)": (n) => n === 2 });
}

export default function () {
  if (__ITER % 2 === 0) browserLike();
  else callbacks();
}
