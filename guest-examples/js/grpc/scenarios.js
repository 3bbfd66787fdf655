// gRPC calls to the classic greeter (helloworld.Greeter) on --target: a
// unary call and a server-streaming one. Messages are protobuf bytes: here
// a few lines encode the one string field of HelloRequest and HelloReply
// (protobufjs's `encode(…).finish()` and `decode` work the same). The host
// frames, sends and measures the calls (GRPC /helloworld.Greeter/SayHello).
import { check, scenario, workerId } from "molotov";

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A message whose field 1 is the string `value` (shorter than 128 bytes). */
const withName = (value) => {
  const bytes = utf8.encode(value);
  return Uint8Array.of(0x0a, bytes.length, ...bytes);
};

/** Field 1 of such a message. */
const nameOf = (message) => text.decode(message.subarray(2, 2 + message[1]));

scenario({ weight: 70 }, async function say_hello(session) {
  const name = `worker ${workerId()}`;
  const answer = await session.unary("/helloworld.Greeter/SayHello", withName(name));
  check(nameOf(answer) === `Hello, ${name}!`, `got ${nameOf(answer)}`);
});

scenario({ weight: 30 }, async function stream_hellos(session) {
  const call = {
    method: "/helloworld.Greeter/SayHelloStream",
    metadata: { "x-caller": "molotov" },
    timeoutMs: 5000,
  };
  const reply = (await session.grpc(call, withName("stream"))).ok();
  check(reply.messages.length === 3, `${reply.messages.length} greetings`);
  for (const message of reply.messages) {
    check(nameOf(message).startsWith("Hello, stream"), `got ${nameOf(message)}`);
  }
});
