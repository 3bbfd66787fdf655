// gRPC server reflection (v1, else v1alpha): asks a server for the files
// that describe its services, with the host's protobuf schemas doing the
// encoding, and builds the schema those files make.
import { invoke } from "molotov:scenario/grpc@0.4.7";
import { Schema } from "molotov:scenario/protobuf@0.4.7";
import { fromBase64 } from "./bytes.js";

const VERSIONS = ["grpc.reflection.v1", "grpc.reflection.v1alpha"];
const UNIMPLEMENTED = 12;
// Rounds of asking for the files that those already answered import.
const MAX_ROUNDS = 16;

// The reflection messages a client uses, in both packages (fields as in
// grpc/reflection/v1/reflection.proto; those unused here are left out).
const reflectionProto = (pkg) => `syntax = "proto3";
package ${pkg};
service ServerReflection {
  rpc ServerReflectionInfo(stream ServerReflectionRequest) returns (stream ServerReflectionResponse);
}
message ServerReflectionRequest {
  string host = 1;
  oneof message_request {
    string file_by_filename = 3;
    string file_containing_symbol = 4;
    string list_services = 7;
  }
}
message ServerReflectionResponse {
  string valid_host = 1;
  oneof message_response {
    FileDescriptorResponse file_descriptor_response = 4;
    ListServiceResponse list_services_response = 6;
    ErrorResponse error_response = 7;
  }
}
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
message ErrorResponse { int32 error_code = 1; string error_message = 2; }
`;

let tools; // the reflection messages and descriptor.proto, compiled once

function reflectionTools() {
  tools ??= Schema.compile(
    VERSIONS.map((pkg) => ({ path: `${pkg}.proto`, text: reflectionProto(pkg) })),
    [...VERSIONS.map((pkg) => `${pkg}.proto`), "google/protobuf/descriptor.proto"],
  );
  return tools;
}

/** The schema of the services `target` describes by reflection. */
export function reflectedSchema(host, target, metadata, timeoutMs) {
  const schema = reflectionTools();
  for (const pkg of VERSIONS) {
    const ask = (requests) => {
      const call = { target, method: `/${pkg}.ServerReflection/ServerReflectionInfo`, metadata, timeoutMs };
      const encoded = requests.map((r) => schema.encode(`${pkg}.ServerReflectionRequest`, JSON.stringify(r)));
      let reply;
      try {
        reply = invoke(host, call, encoded);
      } catch (e) {
        const { tag, val } = e.payload ?? {};
        throw new Error(`server reflection at ${target}: ${tag ?? e}${val === undefined ? "" : `: ${val}`}`);
      }
      if (reply.status === UNIMPLEMENTED) return null;
      if (reply.status !== 0) throw new Error(`server reflection at ${target}: gRPC status ${reply.status}: ${reply.message}`);
      return reply.messages.map((m) => JSON.parse(schema.decode(`${pkg}.ServerReflectionResponse`, m)));
    };
    const listed = ask([{ listServices: "" }]);
    if (listed === null) continue;
    const services = (listed[0]?.listServicesResponse?.service ?? [])
      .map((s) => s.name)
      .filter((name) => !name.startsWith("grpc.reflection."));
    const files = new Map(); // name -> { bytes, imports }
    let wanted = services.map((name) => ({ fileContainingSymbol: name }));
    for (let round = 0; wanted.length && round < MAX_ROUNDS; round++) {
      for (const answer of ask(wanted)) {
        if (answer.errorResponse) throw new Error(`server reflection at ${target}: ${answer.errorResponse.errorMessage}`);
        for (const base64 of answer.fileDescriptorResponse?.fileDescriptorProto ?? []) {
          const bytes = fromBase64(base64);
          const file = JSON.parse(schema.decode("google.protobuf.FileDescriptorProto", bytes));
          files.set(file.name, { bytes, imports: file.dependency });
        }
      }
      const missing = new Set([...files.values()].flatMap((f) => f.imports).filter((name) => !files.has(name)));
      wanted = [...missing].map((name) => ({ fileByFilename: name }));
    }
    try {
      return Schema.fromDescriptorSet(descriptorSet([...files.values()].map((f) => f.bytes)));
    } catch (e) {
      throw new Error(`server reflection at ${target}: ${e.payload ?? e}`);
    }
  }
  throw new Error(`${target} offers no server reflection (grpc.reflection.v1 or v1alpha)`);
}

/** A `FileDescriptorSet` of encoded `FileDescriptorProto`s: field 1, each. */
function descriptorSet(files) {
  const parts = [];
  for (const file of files) {
    const head = [0x0a];
    for (let n = file.length; ; n >>>= 7) {
      if (n < 0x80) {
        head.push(n);
        break;
      }
      head.push((n & 0x7f) | 0x80);
    }
    parts.push(Uint8Array.from(head), file);
  }
  const set = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    set.set(part, at);
    at += part.length;
  }
  return set;
}
