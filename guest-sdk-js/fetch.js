// fetch() on a shared instance, sent as the instance session's request
// (`multiplex.startSend`) rather than through the runtime's own HTTP client:
// its reply comes with the host's turn like a session request's, its body
// whole, so neither the response nor its body needs turns of the runtime's
// event loop (which cost four times a session request's CPU at 200
// workers). The host performs, measures and limits it exactly as it does
// the runtime's requests, on the same session. What this path cannot give
// as the web does (a `Request` object, an `AbortSignal`, a redirect mode
// other than "follow", a body that is not a string, bytes or
// `URLSearchParams`, an event stream read as it comes) goes to the
// runtime's client, as on an instance of its own.
import { instanceSession } from "molotov:scenario/http@0.4.7";
import { driving, startSend } from "./driver.js";
import { HttpError } from "./molotov.js";

const runtimeFetch = globalThis.fetch;
const StandardResponse = globalThis.Response;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
// The methods fetch() upper-cases; any other keeps its case.
const NORMALIZED = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
// Statuses whose response has no body.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

let session; // the instance's, asked for at the first fetch()

if (runtimeFetch && StandardResponse) {
  globalThis.fetch = (input, init) => {
    const req = driving ? sessionRequest(input, init ?? {}) : null;
    if (!req) return runtimeFetch(input, init);
    session ??= instanceSession();
    return new Promise((resolve, reject) =>
      startSend(session, req, (outcome) => {
        if (outcome.tag === "err") {
          reject(new TypeError(`fetch failed: ${new HttpError(outcome.val).message}`));
          return;
        }
        try {
          resolve(standardResponse(outcome.val, req));
        } catch (e) {
          reject(e);
        }
      }),
    );
  };
}

/** The session request for `fetch(input, init)`, or null when it needs the
 * runtime's client. */
function sessionRequest(input, init) {
  if (typeof input !== "string" && !(input instanceof URL)) return null;
  const url = String(input);
  // Relative URLs are the runtime's to refuse, as the web does.
  if (!/^https?:\/\//i.test(url)) return null;
  if (init.signal || (init.redirect ?? "follow") !== "follow") return null;
  const method = init.method === undefined ? "GET" : String(init.method);
  const upper = method.toUpperCase();
  const headers = init.headers === undefined ? [] : [...new Headers(init.headers)];
  const named = (name) => headers.some(([key]) => key === name);
  if (headers.some(([key, value]) => key === "accept" && value.includes("text/event-stream"))) return null;
  let body;
  const given = init.body;
  if (given !== undefined && given !== null) {
    if (upper === "GET" || upper === "HEAD") return null;
    let type = null;
    if (typeof given === "string") {
      body = utf8.encode(given);
      type = "text/plain;charset=UTF-8";
    } else if (given instanceof URLSearchParams) {
      body = utf8.encode(given.toString());
      type = "application/x-www-form-urlencoded;charset=UTF-8";
    } else if (given instanceof ArrayBuffer) {
      body = new Uint8Array(given);
    } else if (ArrayBuffer.isView(given)) {
      body = new Uint8Array(given.buffer, given.byteOffset, given.byteLength);
    } else {
      return null;
    }
    if (type && !named("content-type")) headers.push(["content-type", type]);
  }
  return { method: NORMALIZED.has(upper) ? upper : method, url, headers, body };
}

/** The web's Response for a session's reply, its host handle released: the
 * body is copied whole. */
function standardResponse({ status, body, response }, req) {
  let bytes;
  let headers;
  let url;
  try {
    bytes = body ?? response.body();
    headers = response.headers();
    url = response.url();
  } finally {
    response[Symbol.dispose]();
  }
  const empty = NULL_BODY.has(status) || req.method === "HEAD";
  return new FetchedResponse(empty ? null : bytes, status, headers, url, req.url);
}

/** A fetch() response whose body is already whole. The runtime's own
 * Response would wrap it in a stream and its headers in a `Headers` at
 * once, which costs more than the request: this one reads the bytes
 * directly, and makes the stream and the `Headers` only when asked. */
class FetchedResponse extends StandardResponse {
  #bytes;
  #pairs;
  #headers = null;
  #stream = null;
  #used = false;
  #url;
  #requested;
  /** `bytes`: null for a response without a body. */
  constructor(bytes, status, pairs, url, requested) {
    super(null, { status });
    this.#bytes = bytes;
    this.#pairs = pairs;
    this.#url = url;
    this.#requested = requested;
  }
  get url() {
    return this.#url;
  }
  get redirected() {
    return new URL(this.#requested).href !== this.#url;
  }
  get headers() {
    return (this.#headers ??= new Headers(this.#pairs));
  }
  get body() {
    if (this.#bytes === null) return null;
    return (this.#stream ??= new StandardResponse(this.#bytes).body);
  }
  get bodyUsed() {
    return this.#used || (this.#stream?.locked ?? false);
  }
  #read(as) {
    try {
      if (this.bodyUsed) throw new TypeError("the response's body has already been read");
      this.#used = true;
      return Promise.resolve(as(this.#bytes ?? EMPTY));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  text() {
    return this.#read((bytes) => utf8Decoder.decode(bytes));
  }
  json() {
    return this.#read((bytes) => JSON.parse(utf8Decoder.decode(bytes)));
  }
  arrayBuffer() {
    return this.#read((bytes) => bytes.slice().buffer);
  }
  bytes() {
    return this.#read((bytes) => bytes.slice());
  }
  blob() {
    return this.#read((bytes) => new Blob([bytes], { type: this.headers.get("content-type") ?? "" }));
  }
  formData() {
    return this.#read((bytes) => new StandardResponse(bytes, { headers: this.headers })).then((res) => res.formData());
  }
  clone() {
    if (this.bodyUsed) throw new TypeError("a response whose body has been read cannot be cloned");
    return new FetchedResponse(this.#bytes?.slice() ?? null, this.status, this.#pairs, this.#url, this.#requested);
  }
}
