// k6/websockets (and k6/experimental/websockets): browser-like sockets on
// the VU's session, which the VU's iteration waits for until they close,
// as k6's event loop does. One module per VU.

/** k6/websockets for `vu`. */
export function createWebsockets(vu) {
  class WebSocket {
    constructor(url, protocols, params = {}) {
      const socket = vu.currentSession().websocket(url, protocols, { headers: params.headers });
      vu.track(new Promise((resolve) => socket.addEventListener("close", resolve)));
      return socket;
    }
  }
  return { WebSocket };
}
