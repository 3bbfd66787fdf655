// molotov's JavaScript SDK: register scenarios and fixtures; the host runs
// them on its workers and performs and measures every request.
//
//   import { scenario } from "molotov";
//   scenario({ weight: 90 }, function read(session) {
//     session.get("/").expectStatus(200);
//   });
//
// A scenario that throws (a failed check included) is a failed run with the
// error's message. Module-level code runs when the component is built: read
// env() and variables inside scenarios and fixtures.
import * as ctx from "molotov:scenario/context@0.4.7";
import * as logging from "molotov:scenario/log@0.4.7";
import * as metrics from "molotov:scenario/metrics@0.4.7";
import { inAsyncRun, running, scheduler, setOwnHost } from "./driver.js";
import "./fetch.js";
import { grpcCall } from "./grpc.js";
import { WebSocket, openStream } from "./live.js";
export { SocketError, Stream, WebSocket } from "./live.js";
export { GrpcError, statusName } from "./grpc.js";
export { Client as GrpcClient, Stream as GrpcStream } from "./grpc-client.js";

export { driver } from "./driver.js";
import * as vars from "molotov:scenario/vars@0.4.7";

const registry = { scenarios: new Map(), list: null, fixtures: {}, events: [], onEvent: null };

// What registers the scenarios at run time rather than at build time (a k6
// script, evaluated in each instance with the run's environment).
let registerLater = null;
/** Runs `register` (which registers scenarios and fixtures) at the
 * instance's first use of them, when host calls work. */
export const registerAtRunTime = (register) => (registerLater = register);
function registered() {
  if (registerLater) {
    const register = registerLater;
    registerLater = null;
    register();
  }
  return registry;
}

// The scenarios as `describe` lists them: the host runs one by its index.
const scenarioList = () => (registered().list ??= [...registry.scenarios]);
/** The run function of the scenario at `index`, or undefined. */
export const scenarioAt = (index) => scenarioList()[index]?.[1].run;
/** How many scenarios' run functions pass `test`. */
export const scenarioCount = (test) => scenarioList().filter(([, s]) => test(s.run)).length;

/** Registers `run(session)`; `options`: { name, weight = 1, delayMs = 0 }. */
export function scenario(options, run) {
  const name = options.name ?? run.name;
  if (!name) throw new Error("scenario: give a name, or a named function");
  registry.scenarios.set(name, { weight: options.weight ?? 1, delayMs: options.delayMs ?? 0, run });
  registry.list = null;
}

const fixture = (kind) => (fn) => {
  registry.fixtures[kind] = fn;
};
/** `fn(args)`, once before any worker starts. */
export const globalSetup = fixture("globalSetup");
/** `fn(workerId, args)`, may return `{ headers, timeoutMs, maxRedirects }`. */
export const setup = fixture("setup");
/** `fn(workerId, session)`, after the worker's session is created. */
export const setupSession = fixture("setupSession");
/** `fn(workerId, session)`, before the worker's session is closed. */
export const teardownSession = fixture("teardownSession");
/** `fn(workerId)`, once per worker after its last run. */
export const teardown = fixture("teardown");
/** `fn()`, once after every worker has stopped. */
export const globalTeardown = fixture("globalTeardown");
/** `fn(workerId, step)` returns the name of the scenario to run. */
export const picker = fixture("picker");

const EVENT_KINDS = [
  "sendingRequest",
  "responseReceived",
  "currentWorkers",
  "scenarioStart",
  "scenarioSuccess",
  "scenarioFailure",
];

/** Calls `hook({ kind, ... })` for each event of the given kinds (all if none). */
export function events(kinds, hook) {
  const unknown = kinds.filter((k) => !EVENT_KINDS.includes(k));
  if (unknown.length) throw new Error(`events: unknown kinds ${unknown}; known: ${EVENT_KINDS}`);
  registry.events = kinds.length ? kinds : EVENT_KINDS;
  registry.onEvent = hook;
}

/** A request that got no response; `kind` is connect, timeout, … */
export class HttpError extends Error {
  constructor({ tag, val }) {
    super(val === undefined ? tag : `${tag}: ${val}`);
    this.kind = tag;
  }
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

// The host's response handles of the current call, released when it ends
// (each run in a shared instance keeps its own list).
const live = [];

export function release(handles = live) {
  for (const host of handles.splice(0)) host[Symbol.dispose]();
}

/** A complete response, held by the host: each part is copied into the
 * guest only when read. Valid until the scenario (or fixture) returns. */
export class Response {
  #host;
  #body;
  #headers;
  constructor({ status, body, response }, handles = live) {
    this.#host = response;
    this.#body = body;
    this.status = status;
    handles.push(response);
  }
  get headers() {
    // Copied out once: each copy lifts every name and value (tens of µs).
    this.#headers ??= this.#host.headers();
    return this.#headers;
  }
  get body() {
    this.#body ??= this.#host.body();
    return this.#body;
  }
  get url() {
    return this.#host.url();
  }
  get elapsedUs() {
    return Number(this.#host.elapsedUs());
  }
  /** Where the last hop's time went, in microseconds (`connectingUs`,
   * `tlsHandshakingUs`, `sendingUs`, `waitingUs`, `receivingUs`), when the
   * host times it (for a k6 script); else undefined. */
  get timings() {
    const parts = this.#host.timings();
    return parts && Object.fromEntries(Object.entries(parts).map(([part, us]) => [part, Number(us)]));
  }
  header(name) {
    return this.#host.header(name);
  }
  text() {
    return utf8Decoder.decode(this.body);
  }
  json() {
    return JSON.parse(this.text());
  }
  /** Throws unless the status is `expected`; returns the response. */
  expectStatus(expected) {
    if (this.status !== expected) {
      throw new Error(`expected status ${expected} from ${this.url}, got ${this.status}`);
    }
    return this;
  }
}

/** A worker's HTTP session, held by the host: default headers, cookies and
 * timeout persist across the worker's runs. */
export class Session {
  #host;
  #run;
  /** `run`: in a shared instance, the async scenario's run this session is lent to. */
  constructor(host, run = null) {
    this.#host = host;
    this.#run = run;
  }
  /** `{ method, url, headers: {name: value}, body, timeoutMs, name, maxRedirects }`.
   * In an async scenario run on a shared instance, a promise of the
   * response: the other workers run while the host performs it. */
  request({ method = "GET", url, headers = {}, body, timeoutMs, name, maxRedirects }) {
    const bytes = typeof body === "string" ? utf8.encode(body) : body;
    const req = { method, url, headers: Object.entries(headers), body: bytes, timeoutMs, name, maxRedirects };
    if (this.#run) return this.#run.send(this.#host, req);
    try {
      return new Response(this.#host.send(req));
    } catch (e) {
      throw new HttpError(e.payload ?? e);
    }
  }
  /** The host's handle on `session` (for the SDK's other modules). */
  static hostOf(session) {
    return session.#host;
  }
  /** The worker this session belongs to (exact after an `await` too). */
  get workerId() {
    return this.#run ? this.#run.workerId : ctx.workerId();
  }
  get(url, options = {}) {
    return this.request({ ...options, method: "GET", url });
  }
  post(url, body, options = {}) {
    return this.request({ ...options, method: "POST", url, body });
  }
  postJson(url, value, options = {}) {
    const headers = { "content-type": "application/json", ...options.headers };
    return this.request({ ...options, method: "POST", url, body: JSON.stringify(value), headers });
  }
  put(url, body, options = {}) {
    return this.request({ ...options, method: "PUT", url, body });
  }
  delete(url, options = {}) {
    return this.request({ ...options, method: "DELETE", url });
  }
  setHeader(name, value) {
    try {
      this.#host.setHeader(name, value);
    } catch (e) {
      throw new HttpError(e.payload ?? e);
    }
  }
  /** The cookies the session would send to `url`, as an object. */
  cookies(url) {
    return Object.fromEntries(this.#host.cookies(url));
  }
  /** Keeps a cookie as if `url` had set it: `setCookie` is a `set-cookie`
   * header's value (`name=value; Path=/; Max-Age=60`; `Max-Age=0` removes). */
  setCookie(url, setCookie) {
    try {
      this.#host.setCookie(url, setCookie);
    } catch (e) {
      throw new HttpError(e.payload ?? e);
    }
  }
  /** A WebSocket to `url` (absolute, or relative to `--target`), as a
   * browser's: its handshake carries the session's headers and cookies,
   * and `headers` (an object) besides. */
  websocket(url, protocols = [], { headers } = {}) {
    return new WebSocket(this.#host, url, protocols, this.#keep, headers);
  }
  /** A promise of the response to `url` (or `{ method, url, headers, body,
   * timeoutMs, name }`) at its head, its body read as it arrives. */
  stream(req) {
    return openStream(this.#host, typeof req === "string" ? { url: req } : req, this.#keep);
  }
  /** A gRPC call of `{ method, target, metadata, timeoutMs, name }` (the
   * target by default `--target`) with protobuf-encoded `requests`: a
   * promise of its reply, whatever its status. */
  grpc(call, ...requests) {
    return grpcCall(this.#host, call, requests);
  }
  /** A unary call of `method` on `--target`: a promise of the answer's one
   * message; a non-OK status rejects with a `GrpcError`. */
  async unary(method, request) {
    const reply = (await this.grpc({ method }, request)).ok();
    if (reply.messages.length !== 1) throw new Error(`${method}: ${reply.messages.length} messages where a unary call answers one`);
    return reply.messages[0];
  }
  // Drops a socket's or stream's handle when the run ends.
  #keep = (handle) => ((this.#run ? this.#run.handles : live).push(handle), handle);
}

/** Throws `message` unless `condition` holds. */
export function check(condition, message = "check failed") {
  if (!condition) throw new Error(message);
}

/** A variable the operator passed with `--env KEY=VALUE`. */
export const env = (key) => ctx.env(key);
/** This worker's id. In an async scenario on a shared instance, read it
 * before the first `await` (or use `session.workerId`). */
export const workerId = () => (running ? running.workerId : ctx.workerId());
/** This run's shard of a larger one (`--shard I/N`): `{ index, count }`, or null. */
export const shard = () => {
  const [index, count] = [ctx.env("MOLOTOV_SHARD"), ctx.env("MOLOTOV_SHARD_COUNT")];
  return index === undefined || count === undefined ? null : { index: Number(index), count: Number(count) };
};
export const step = () => (running ? Number(running.step) : Number(ctx.step()));
export const args = () => ctx.args();
/** Suspends this worker (not the others) for `ms` milliseconds. In an async
 * scenario on a shared instance, a promise: `await sleep(ms)`. */
export const sleep = (ms) => (inAsyncRun() ? scheduler.sleep(ms) : ctx.sleep(ms));
/** Variables shared by every worker of the run. */
export const getVar = (key) => vars.get(key);
export const setVar = (key, value) => vars.set(key, String(value));
export const print = (message) => logging.print(String(message));
export const log = (level, message) => logging.log(level, String(message));
/** Adds `delta` to the custom counter `name`. */
export const incr = (name, delta = 1) => metrics.incr(name, BigInt(delta));
/** Records `us` microseconds in the custom histogram `name`. */
export const timing = (name, us) => metrics.timing(name, BigInt(Math.round(us)));
/** Sets a custom gauge (reported as its last, lowest and highest value). */
export const gauge = (name, value) => metrics.gauge(name, value);

export const errorMessage = (e) => (e instanceof Error ? e.message || e.name : String(e));

// A thrown value becomes the failure message. An async function (for fetch)
// returns a promise, which the component awaits; a plain one stays
// synchronous, which is much cheaper than a trip through the event loop.
// Either way the call's responses are released when it ends. What cannot be
// run to an end (a generator) fails, never passes as a success.
function outcome(fn, ...a) {
  let result;
  try {
    result = fn(...a);
    if (typeof result?.next === "function" && typeof result?.[Symbol.iterator] === "function") {
      throw new TypeError(`${fn.name || "the function"} returned a generator: write a function or an async function, without yield`);
    }
  } catch (e) {
    release();
    throw errorMessage(e);
  }
  if (typeof result?.then !== "function") {
    release();
    return result;
  }
  // Any thenable, run as a promise: one that never calls back never settles.
  return Promise.resolve(result).then(
    (value) => {
      release();
      return value;
    },
    (e) => {
      release();
      throw errorMessage(e);
    },
  );
}

const toEvent = ({ tag, val }) => {
  const kind = tag.replace(/-(.)/g, (_, c) => c.toUpperCase());
  return kind === "currentWorkers" ? { kind, workers: val } : { kind, ...val };
};

/** The component's exports, as the WIT contract names them. */
export const scenarios = {
  describe() {
    const has = (kind) => kind in registered().fixtures;
    return {
      scenarios: scenarioList().map(([name, s]) => ({ name, weight: s.weight, delayMs: s.delayMs })),
      fixtures: {
        globalSetup: has("globalSetup"),
        setup: has("setup"),
        setupSession: has("setupSession"),
        teardownSession: has("teardownSession"),
        teardown: has("teardown"),
        globalTeardown: has("globalTeardown"),
        picker: has("picker"),
      },
      events: Object.fromEntries(EVENT_KINDS.map((k) => [k, registry.events.includes(k)])),
    };
  },
  run(index, session) {
    const entry = scenarioList()[index];
    if (!entry) throw `no scenario at index ${index}`;
    setOwnHost(session);
    return outcome(entry[1].run, new Session(session));
  },
  globalSetup(runArgs) {
    return outcome(registered().fixtures.globalSetup, runArgs);
  },
  setup(id, runArgs) {
    const toWit = (options) =>
      options
        ? {
            headers: Object.entries(options.headers ?? {}),
            timeoutMs: options.timeoutMs,
            maxRedirects: options.maxRedirects,
          }
        : undefined;
    const options = outcome(registered().fixtures.setup, id, runArgs);
    return typeof options?.then === "function" ? options.then(toWit) : toWit(options);
  },
  setupSession(id, session) {
    setOwnHost(session);
    return outcome(registered().fixtures.setupSession, id, new Session(session));
  },
  teardownSession(id, session) {
    setOwnHost(session);
    return outcome(registered().fixtures.teardownSession, id, new Session(session));
  },
  teardown(id) {
    return outcome(registered().fixtures.teardown, id);
  },
  globalTeardown() {
    return outcome(registered().fixtures.globalTeardown);
  },
  pick(id, stepNumber) {
    return registered().fixtures.picker(id, Number(stepNumber));
  },
  onEvents(list) {
    for (const event of list) registry.onEvent(toEvent(event));
  },
};
