// gRPC calls through the session (`session.grpc`, `session.unary`): the
// messages are encoded protobuf bytes (Uint8Arrays, from protobufjs's
// `encode(…).finish()` or any encoder); the host frames and sends them,
// applies the deadline, reads the status, and reports each call
// (`GRPC /package.Service/Method`). On a shared instance the other workers
// run while a call waits.
import { invoke } from "molotov:scenario/grpc@0.4.7";
import { startInvoke } from "molotov:scenario/multiplex-grpc@0.4.7";
import { grpcIo } from "./driver.js";
import { HttpError } from "./molotov.js";

const STATUS_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

/** The canonical name of gRPC status `code` (`UNAVAILABLE`). */
export const statusName = (code) => STATUS_NAMES[code] ?? "UNKNOWN";

/** A call that ended with a status other than OK: `status`, `reply`. */
export class GrpcError extends Error {
  constructor(method, reply) {
    super(`${method}: gRPC status ${reply.status} (${statusName(reply.status)}): ${reply.message}`);
    this.status = reply.status;
    this.reply = reply;
  }
}

/** Calls as the contract's `call` says with encoded `requests`: a promise
 * of the host's reply, whatever its status; an `HttpError` if none came. */
export async function grpcInvoke(host, call, requests) {
  const done = await grpcIo(
    () => startInvoke(host, call, requests),
    () => invoke(host, call, requests),
  );
  if (done.tag === "err") throw new HttpError(done.val);
  return done.val;
}

/** Calls as `{ method, target, metadata, timeoutMs, name }` says with
 * `requests`: a promise of the reply (`status`, `message`, `headers`,
 * `trailers`, `messages`), whatever its status (`ok()` rejects a non-OK one). */
export async function grpcCall(host, { method, target = "", metadata = {}, timeoutMs, name }, requests) {
  const call = { target, method, metadata: Object.entries(metadata), timeoutMs, name };
  const reply = await grpcInvoke(host, call, requests.map((request) => new Uint8Array(request)));
  return {
    status: reply.status,
    message: reply.message,
    headers: Object.fromEntries(reply.headers),
    trailers: Object.fromEntries(reply.trailers),
    messages: reply.messages,
    ok() {
      if (reply.status !== 0) throw new GrpcError(method, reply);
      return this;
    },
  };
}
