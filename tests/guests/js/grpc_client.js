// The k6-shaped gRPC client against tests/e2e/grpc.rs's grpcio greeter:
// methods from protos/greeter.proto or from server reflection, calls with
// plain objects, statuses as k6 gives them, and the script's mistakes as
// one-line errors. Each scenario is run on its own with -s.
import { check, scenario } from "molotov";
import grpc from "molotov/grpc";

const loaded = new grpc.Client();
loaded.load(["protos"], "greeter.proto");
const reflected = new grpc.Client();
// protos/greeter.protoset: SayHello's file and Google's Timestamp, as
// `protoc --include_imports --descriptor_set_out` writes them.
const fromSet = new grpc.Client();
fromSet.loadProtoset("protos/greeter.protoset");

function expectHello(res, name) {
  check(res.status === grpc.StatusOK, `status ${res.status}: ${res.error?.message}`);
  check(res.message.message === `Hello, ${name}!`, `got ${JSON.stringify(res.message)}`);
  // Every field is there, an unset one at its default, as k6 gives it.
  check(res.message.at === undefined || res.message.at === null || typeof res.message.at === "string", "at");
  check(res.headers["content-type"]?.[0] === "application/grpc", JSON.stringify(res.headers));
}

scenario({ weight: 0 }, function from_proto() {
  loaded.connect();
  expectHello(loaded.invoke("helloworld.Greeter/SayHello", { name: "proto" }), "proto");
});

scenario({ weight: 0 }, function by_reflection() {
  reflected.connect(undefined, { reflect: true });
  expectHello(reflected.invoke("/helloworld.Greeter/SayHello", { name: "reflection" }), "reflection");
});

scenario({ weight: 0 }, function from_protoset() {
  fromSet.connect();
  expectHello(fromSet.invoke("helloworld.Greeter/SayHello", { name: "protoset" }), "protoset");
});

scenario({ weight: 0 }, async function streamed() {
  loaded.connect();
  const stream = new grpc.Stream(loaded, "helloworld.Greeter/SayHelloStream", {
    metadata: { "x-caller": "molotov" },
  });
  const messages = [];
  let ended = false;
  stream.on("data", (reply) => messages.push(reply.message));
  stream.on("end", () => (ended = true));
  stream.write({ name: "stream" });
  await stream.end();
  check(ended && messages.join("|") === "Hello, stream 0!|Hello, stream 1!|Hello, stream 2!", messages.join("|"));
});

scenario({ weight: 0 }, function refused_and_late() {
  loaded.connect();
  const refused = loaded.invoke("helloworld.Greeter/Refuse", { name: "x" });
  check(refused.status === grpc.StatusUnavailable && refused.error.message === "try again later", JSON.stringify(refused));
  check(refused.message === null, "no message");
  const late = loaded.invoke("helloworld.Greeter/Slow", { name: "x" }, { timeout: "200ms" });
  check(late.status === grpc.StatusDeadlineExceeded, JSON.stringify(late));
});

scenario({ weight: 0 }, function unknown_method() {
  loaded.connect();
  loaded.invoke("helloworld.Greeter/Nope", {});
});

scenario({ weight: 0 }, function unknown_field() {
  loaded.connect();
  loaded.invoke("helloworld.Greeter/SayHello", { nam: "typo" });
});

scenario({ weight: 0 }, function not_connected() {
  new grpc.Client().invoke("helloworld.Greeter/SayHello", {});
});

// A guest that holds more schemas than the host keeps for an instance.
const many = Array.from({ length: 17 }, () => {
  const client = new grpc.Client();
  client.load(["protos"], "greeter.proto");
  return client;
});

scenario({ weight: 0 }, function too_many_schemas() {
  for (const client of many) client.connect();
});
