// k6/ws: `connect(url, params, callback)`, k6's older socket API of
// callbacks, on the VU's session. The callback sets its handlers (`open`,
// `message`, `binaryMessage`, `error`, `close`) and timers; `connect`
// returns once the socket has closed (the build awaits it), with the
// handshake's status. One module per VU.

/** k6/ws for `vu`, whose timers (`createTimers`) the socket's use. */
export function createWs(vu, timers) {
  function connect(url, params, callback) {
    if (typeof params === "function") [params, callback] = [{}, params];
    const socket = vu.currentSession().websocket(url, params?.protocols, { headers: params?.headers });
    const handlers = new Map();
    const emit = (event, ...args) => {
      for (const handler of handlers.get(event) ?? []) handler(...args);
    };
    const socketTimers = new Set();
    const timer = (set) => (fn, ms) => {
      const id = set(fn, ms);
      socketTimers.add(id);
      return id;
    };
    let opened = false;
    let error = "";
    const closed = new Promise((resolve) => {
      socket.onopen = () => {
        opened = true;
        emit("open");
      };
      socket.onmessage = ({ data }) => (typeof data === "string" ? emit("message", data) : emit("binaryMessage", data));
      socket.onerror = (event) => {
        error = String(event.error?.message ?? event.error);
        emit("error", { error: () => error });
      };
      socket.onclose = ({ code }) => {
        for (const id of socketTimers) timers.clearTimeout(id);
        emit("close", code);
        resolve({ url, status: opened ? 101 : 0, error, headers: {}, body: null });
      };
    });
    callback?.({
      on: (event, handler) => {
        if (!handlers.has(event)) handlers.set(event, []);
        handlers.get(event).push(handler);
      },
      send: (data) => socket.send(data),
      sendBinary: (data) => socket.send(data),
      close: (code) => socket.close(code),
      ping: () => {},
      setTimeout: timer(timers.setTimeout),
      setInterval: timer(timers.setInterval),
      clearTimeout: timers.clearTimeout,
      clearInterval: timers.clearInterval,
    });
    return closed;
  }
  return { connect };
}
