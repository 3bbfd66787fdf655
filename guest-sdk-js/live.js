// WebSockets as browsers have them (`session.websocket(url)`: `onopen`,
// `onmessage`, `onclose`, `onerror` or `addEventListener`, `send`, `close`)
// and streamed responses (`session.stream(url)`: `for await` over its
// server-sent events or chunks). The host opens, bounds and measures them.
// On a shared instance each call is a ticket and the other workers run
// while it waits; otherwise it waits in place.
import * as mxio from "molotov:scenario/multiplex-io@0.4.7";
import { connect } from "molotov:scenario/websocket@0.4.7";
import { open } from "molotov:scenario/streaming@0.4.7";
import { beforeWaitingInPlace, io, ioUnawaited } from "./driver.js";

const utf8 = new TextEncoder();

/** An error of a socket's or stream's call, with its kind (`timeout`, `protocol`, …). */
export class SocketError extends Error {
  constructor(url, { tag, val }) {
    const detail = val?.tag ? `${val.tag}: ${val.val ?? ""}` : val;
    super(detail === undefined ? `${url}: ${tag}` : `${url}: ${tag}: ${detail}`);
    this.kind = tag;
  }
}

/** A socket as a browser's `WebSocket`. Events: `open`, `message` (`data`:
 * a string, or an ArrayBuffer for binary), `error`, `close` (`code`,
 * `reason`, `wasClean`). Sends go out in order (the host takes a socket's
 * sends in the order they were started), while a receive waits. */
export class WebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  #host;
  #listeners = new Map();
  binaryType = "arraybuffer";
  protocol = "";

  constructor(session, url, protocols, keep, headers = {}) {
    this.url = url;
    this.readyState = WebSocket.CONNECTING;
    const req = { url, headers: Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]), protocols: [].concat(protocols ?? []) };
    io(
      () => mxio.startConnect(session, req),
      () => connect(session, req),
    ).then((opened) => {
      if (opened.tag === "err") return this.#fail(opened.val);
      this.#host = keep(opened.val);
      this.protocol = this.#host.protocol() ?? "";
      this.readyState = WebSocket.OPEN;
      this.#dispatch({ type: "open" });
      this.#receive();
    });
  }

  addEventListener(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
  }

  removeEventListener(type, listener) {
    this.#listeners.get(type)?.delete(listener);
  }

  /** Queues `data` (a string, an ArrayBuffer or a typed array). */
  send(data) {
    if (this.readyState !== WebSocket.OPEN) throw new Error(`${this.url}: send on a socket that is not open`);
    const op =
      typeof data === "string"
        ? { tag: "send-text", val: data }
        : { tag: "send-binary", val: new Uint8Array(ArrayBuffer.isView(data) ? data.buffer : data) };
    // Nothing waits for a send (a browser's does not either): only its
    // failure is told, as the socket's error.
    const host = this.#host;
    ioUnawaited(
      () => mxio.startSocket(host, op),
      () => inPlace(host, op),
      (error) => this.#fail(error),
    );
  }

  /** Closes (1000 by default) after what was queued; `close` follows the server's answer. */
  close(code = 1000, reason = "") {
    if (this.readyState >= WebSocket.CLOSING) return;
    this.readyState = WebSocket.CLOSING;
    this.#call({ tag: "close", val: { code, reason } }).then((done) => {
      if (done.tag === "err") return this.#fail(done.val);
      const frame = done.val.val;
      this.#closed(frame?.code ?? 1005, frame?.reason ?? "");
    });
  }

  #call(op) {
    const host = this.#host;
    return io(
      () => mxio.startSocket(host, op),
      () => inPlace(host, op),
    );
  }

  // Receives while the socket is open; a quiet socket's timeouts are no
  // events. Once `close` was called, its answer ends the socket instead.
  async #receive() {
    while (this.readyState === WebSocket.OPEN) {
      const pause = beforeWaitingInPlace();
      if (pause) await pause;
      if (this.readyState !== WebSocket.OPEN) return;
      const got = await this.#call({ tag: "receive", val: undefined });
      if (this.readyState !== WebSocket.OPEN) return;
      if (got.tag === "err") {
        if (got.val.tag === "timeout") continue;
        return this.#fail(got.val);
      }
      const message = got.val.val;
      if (message.tag === "close") return this.#closed(message.val?.code ?? 1005, message.val?.reason ?? "");
      if (message.tag === "text") this.#dispatch({ type: "message", data: message.val });
      else if (message.tag === "binary") this.#dispatch({ type: "message", data: message.val.slice().buffer });
    }
  }

  #closed(code, reason) {
    if (this.readyState === WebSocket.CLOSED) return;
    this.readyState = WebSocket.CLOSED;
    this.#dispatch({ type: "close", code, reason, wasClean: true });
  }

  // As browsers do: `error`, then `close` with 1006 (closed abnormally).
  #fail(error) {
    if (this.readyState === WebSocket.CLOSED) return;
    this.#dispatch({ type: "error", error: new SocketError(this.url, error) });
    this.readyState = WebSocket.CLOSED;
    this.#dispatch({ type: "close", code: 1006, reason: "", wasClean: false });
  }

  #dispatch(event) {
    event.target = this;
    this[`on${event.type}`]?.(event);
    for (const listener of this.#listeners.get(event.type) ?? []) listener.call(this, event);
  }
}

/** What a socket call does in place, shaped as its ticket's outcome. */
function inPlace(host, { tag, val }) {
  if (tag === "send-text") return host.sendText(val), { tag: "sent" };
  if (tag === "send-binary") return host.sendBinary(val), { tag: "sent" };
  if (tag === "receive") return { tag: "received", val: host.receive(val) };
  return { tag: "closed", val: host.close(val.code, val.reason) };
}

/** A response read as it arrives: `status`, `header(name)`, and async
 * iterators over its server-sent events and its chunks. */
export class Stream {
  #host;
  constructor(host, url) {
    this.#host = host;
    this.url = url;
    this.status = host.status();
  }
  header(name) {
    return this.#host.header(name);
  }
  /** Each event (`{ event, data, id, retryMs }`) until the body ends. */
  async *events() {
    for (;;) {
      const event = await this.#read("event");
      if (event === undefined) return;
      yield { event: event.event ?? "message", data: event.data, id: event.id, retryMs: event.retryMs };
    }
  }
  /** Each piece of the body (a Uint8Array) as it came. */
  async *chunks() {
    for (;;) {
      const chunk = await this.#read("chunk");
      if (chunk === undefined) return;
      yield chunk;
    }
  }
  async #read(what) {
    const host = this.#host;
    const start = what === "event" ? mxio.startReadEvent : mxio.startReadChunk;
    const got = await io(
      () => start(host, undefined),
      () => (what === "event" ? host.readEvent(undefined) : host.readChunk(undefined)),
    );
    if (got.tag === "err") throw new SocketError(this.url, got.val);
    return got.val;
  }
}

/** Opens a stream on `session` (the host's handle): a promise of a `Stream`. */
export async function openStream(session, req, keep) {
  const body = typeof req.body === "string" ? utf8.encode(req.body) : req.body;
  const wire = { method: "GET", headers: [], ...req, body, maxRedirects: 0 };
  const opened = await io(
    () => mxio.startOpen(session, wire),
    () => open(session, wire),
  );
  if (opened.tag === "err") throw new SocketError(req.url, opened.val);
  return new Stream(keep(opened.val), req.url);
}
