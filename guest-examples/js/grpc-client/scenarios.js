// gRPC calls with plain objects, as k6's gRPC client makes them: the
// methods are described once by protos/hello.proto (bundled at build time),
// the host encodes each request from its object and decodes each answer.
// `client.invoke` waits in place as k6's does; in an async scenario
// `await client.asyncInvoke(…)` lets an instance's other workers run.
import { check, scenario, workerId } from "molotov";
import grpc from "molotov/grpc";

const client = new grpc.Client();
client.load(["protos"], "hello.proto");

scenario({ weight: 70 }, async function say_hello() {
  client.connect(); // --target; or client.connect("host:port", { plaintext: true })
  const name = `worker ${workerId()}`;
  const res = await client.asyncInvoke("helloworld.Greeter/SayHello", { name });
  check(res.status === grpc.StatusOK, `status ${res.status}: ${res.error?.message}`);
  check(res.message.message === `Hello, ${name}!`, `got ${JSON.stringify(res.message)}`);
});

scenario({ weight: 30 }, async function stream_hellos() {
  client.connect();
  const stream = new grpc.Stream(client, "helloworld.Greeter/SayHelloStream", {
    metadata: { "x-caller": "molotov" },
    timeout: "5s",
  });
  const greetings = [];
  stream.on("data", (reply) => greetings.push(reply.message));
  stream.on("error", (error) => greetings.push(`error ${error.code}: ${error.message}`));
  stream.write({ name: "stream" });
  await stream.end();
  check(greetings.length === 3, `${greetings.length} greetings`);
  check(greetings.every((g) => g.startsWith("Hello, stream")), greetings.join("; "));
});
