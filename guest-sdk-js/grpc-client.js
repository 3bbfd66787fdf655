// A gRPC client shaped like k6's (`k6/net/grpc`): methods described once by
// `.proto` files bundled at build time (`load`), a protoset
// (`loadProtoset`) or server reflection (`connect(…, { reflect: true })`),
// and called with plain objects that the host encodes and decodes
// (protobuf's JSON mapping). The calls are the session's gRPC calls:
// measured, reported and limited the same way.
//
//   import grpc from "molotov/grpc";
//   const client = new grpc.Client();
//   client.load(["protos"], "hello.proto");
//   scenario(function greet() {
//     client.connect("127.0.0.1:50051", { plaintext: true });
//     const res = client.invoke("helloworld.Greeter/SayHello", { name: "Bert" });
//     check(res.status === grpc.StatusOK);
//   });
import { invoke } from "molotov:scenario/grpc@0.4.7";
import { Schema } from "molotov:scenario/protobuf@0.4.7";
import { protos, protosets } from "molotov-bundled-files";
import { currentHost } from "./driver.js";
import { fromBase64 } from "./bytes.js";
import { milliseconds } from "./duration.js";
import { grpcInvoke } from "./grpc.js";
import { HttpError, Session } from "./molotov.js";
import { reflectedSchema } from "./reflection.js";

const STATUS = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
  "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
  "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
];
const CALL = Symbol("call");

/** `a/./b/../c` as `a/c`; paths are the script directory's, `/`-separated. */
function normalize(path) {
  const parts = [];
  for (const part of String(path).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length && parts.at(-1) !== "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

/** What the host said, as an Error: `e.payload` is the contract's error value. */
const hostError = (e) => (typeof e?.payload === "string" ? new Error(e.payload) : e);

export class Client {
  #definition = null; // how to build the schema: { sources, files } or { set }
  #schema = null;
  #methods = null; // "/pkg.Svc/Method" -> method info
  #target = null;
  #reflected = new Map(); // target -> schema, for a client that reflects at each connect

  /** Describes the methods of `files` (paths in `importPaths`, which are
   * relative to the script's directory; by default the directory itself).
   * Every `.proto` file under the script's directory is bundled at build
   * time: these are found among them. */
  load(importPaths, ...files) {
    const roots = (importPaths?.length ? importPaths : ["."]).map(normalize);
    const sources = new Map();
    for (const root of roots) {
      for (const [path, text] of Object.entries(protos)) {
        const name = root === "" ? path : path.startsWith(`${root}/`) ? path.slice(root.length + 1) : null;
        if (name !== null && !sources.has(name)) sources.set(name, text);
      }
    }
    const names = files.map(normalize);
    for (const [i, name] of names.entries()) {
      if (!sources.has(name)) {
        throw new Error(`${files[i]}: no such .proto file in ${roots.map((r) => r || ".").join(", ")} (the build bundles the .proto files under the script's directory)`);
      }
    }
    this.#describe({ sources: [...sources].map(([path, text]) => ({ path, text })), files: names });
  }

  /** Describes the methods of a protoset (an encoded `FileDescriptorSet`,
   * as `protoc --descriptor_set_out` writes it) under the script's directory. */
  loadProtoset(path) {
    const base64 = protosets[normalize(path)];
    if (base64 === undefined) throw new Error(`${path}: no such protoset under the script's directory (the build bundles *.protoset and *.pb files)`);
    this.#describe({ set: fromBase64(base64) });
  }

  /** Makes `address` (`host:port`, TLS unless `plaintext`; a URL; by
   * default the run's `--target`) the server of the next calls. With `reflect`, describes its methods by
   * asking it (gRPC server reflection, v1 or v1alpha). */
  connect(address, params = {}) {
    const { plaintext = false, reflect = false, reflectMetadata = {}, timeout } = params;
    this.#target = !address
      ? "" // the run's --target
      : /^[a-z][a-z0-9+.-]*:\/\//i.test(address)
        ? address
        : `${plaintext ? "http" : "https"}://${address}`;
    if (reflect) {
      let schema = this.#reflected.get(this.#target);
      if (!schema) {
        const host = hostOf(params);
        schema = reflectedSchema(host, this.#target, Object.entries(reflectMetadata), milliseconds(timeout));
        this.#reflected.set(this.#target, schema);
      }
      this.#use(schema);
    } else {
      this.#methodsNow();
    }
    return true;
  }

  /** A unary call: waits in place for its response (`status`, `message`,
   * `headers`, `trailers`, `error`), as k6's does. In an async scenario on a
   * shared instance, `await client.asyncInvoke(…)` lets the other workers run. */
  invoke(url, request, params = {}) {
    const { method, call, requests } = this[CALL](url, [request], params);
    let reply;
    try {
      reply = invoke(hostOf(params), call, requests);
    } catch (e) {
      return failed(new HttpError(e.payload ?? e));
    }
    return this.#response(method, reply, reply.messages[0]);
  }

  /** `invoke` as a promise. */
  asyncInvoke(url, request, params = {}) {
    const { method, call, requests } = this[CALL](url, [request], params);
    return grpcInvoke(hostOf(params), call, requests).then(
      (reply) => this.#response(method, reply, reply.messages[0]),
      (e) => failed(e),
    );
  }

  close() {
    this.#target = null;
  }

  /** The call of `url` with `messages`, encoded: for `invoke` and `Stream`. */
  [CALL](url, messages, params) {
    if (this.#target === null) throw new Error(`${url}: connect() the client first`);
    const path = url.startsWith("/") ? url : `/${url}`;
    const method = this.#methodsNow().get(path);
    if (!method) throw new Error(`method "${url}" not found in the file descriptors`);
    const requests = messages.map((message) => {
      try {
        return this.#schema.encode(method.input, JSON.stringify(message ?? {}));
      } catch (e) {
        throw hostError(e);
      }
    });
    const call = {
      target: this.#target,
      method: path,
      metadata: Object.entries(params.metadata ?? {}).map(([k, v]) => [k, String(v)]),
      timeoutMs: milliseconds(params.timeout),
      name: params.tags?.name,
    };
    return { method, call, requests };
  }

  /** The decoded answer `bytes` of `method`. */
  decode(method, bytes) {
    try {
      return JSON.parse(this.#schema.decode(method.output, bytes));
    } catch (e) {
      throw hostError(e);
    }
  }

  #response(method, reply, first) {
    return {
      status: reply.status,
      message: reply.status === 0 && first ? this.decode(method, first) : null,
      headers: grouped(reply.headers),
      trailers: grouped(reply.trailers),
      error: reply.status === 0 ? null : { code: reply.status, message: reply.message, details: [] },
    };
  }

  #describe(definition) {
    this.#definition = definition;
    this.#schema = null;
    this.#methods = null;
  }

  #use(schema) {
    this.#schema = schema;
    this.#methods = new Map(schema.methods().map((m) => [m.path, m]));
  }

  // The host compiles at the first connect: module-level code runs at build
  // time, when there is no host to ask.
  #methodsNow() {
    if (this.#methods) return this.#methods;
    if (!this.#definition) throw new Error("no methods described: load() .proto files, loadProtoset(), or connect with { reflect: true }");
    const { sources, files, set } = this.#definition;
    try {
      this.#use(set ? Schema.fromDescriptorSet(set) : Schema.compile(sources, files));
    } catch (e) {
      throw hostError(e);
    }
    return this.#methods;
  }
}

/** A streaming call, as k6's: `write` messages, then `end()`; `data`
 * events bring the answer's messages, then `error` (a non-OK status) and
 * `end`. The host sends the written messages when the stream ends and
 * reads the whole answer: both sides stream, one after the other. */
export class Stream {
  #client;
  #url;
  #params;
  #host;
  #written = [];
  #handlers = new Map();
  #ended = false;

  constructor(client, url, params = {}) {
    this.#client = client;
    this.#url = url;
    this.#params = params;
    this.#host = hostOf(params);
    client[CALL](url, [], params);
  }

  on(event, handler) {
    if (!this.#handlers.has(event)) this.#handlers.set(event, []);
    this.#handlers.get(event).push(handler);
    return this;
  }

  write(message) {
    if (this.#ended) throw new Error(`${this.#url}: write after end()`);
    this.#written.push(message);
  }

  /** Sends what was written and delivers the answer: a promise of the end. */
  end() {
    if (this.#ended) return Promise.resolve();
    this.#ended = true;
    const { method, call, requests } = this.#client[CALL](this.#url, this.#written, this.#params);
    return grpcInvoke(this.#host, call, requests).then(
      (reply) => {
        for (const bytes of reply.messages) this.#emit("data", this.#client.decode(method, bytes));
        if (reply.status !== 0) this.#emit("error", { code: reply.status, message: reply.message, details: [] });
        this.#emit("end");
      },
      (e) => {
        this.#emit("error", failed(e).error);
        this.#emit("end");
      },
    );
  }

  #emit(event, value) {
    for (const handler of this.#handlers.get(event) ?? []) handler(value);
  }
}

/** The host's session for a call: `params.session` (a scenario's
 * session), else the worker's whose code runs now. */
function hostOf(params) {
  if (params.session) return Session.hostOf(params.session);
  const host = currentHost();
  if (host === undefined) {
    throw new Error("which worker's call is this? After an await on a shared instance, pass the scenario's session: { session }");
  }
  return host;
}

/** Header pairs as k6 gives them: each name with its values. */
function grouped(pairs) {
  const headers = {};
  for (const [name, value] of pairs) (headers[name] ??= []).push(value);
  return headers;
}

/** A call that got no answer, as a response with the status gRPC clients
 * give it: DEADLINE_EXCEEDED for a timeout, else UNAVAILABLE. An error in
 * the script's or operator's terms (a bad URL, a host not allowed) throws. */
function failed(error) {
  if (!(error instanceof HttpError) || ["invalid-url", "host-not-allowed", "invalid-request"].includes(error.kind)) throw error;
  const code = error.kind === "timeout" ? 4 : 14;
  return { status: code, message: null, headers: {}, trailers: {}, error: { code, message: error.message, details: [] } };
}

/** The module as k6 scripts use it: `grpc.Client`, `grpc.StatusOK`, … */
export default { Client, Stream, ...Object.fromEntries(STATUS.map((name, code) => [`Status${name}`, code])) };
