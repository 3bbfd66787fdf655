// The gRPC benchmark's k6 scenario (bench/grpc.py), the same as molotov's
// `say_hello` (guest-examples/rust/grpc): one unary SayHello per iteration
// on a connection each VU keeps, its greeting checked.
import grpc from "k6/net/grpc";
import { check } from "k6";

const client = new grpc.Client();
client.load(["../../guest-examples/js/grpc-client/protos"], "hello.proto");

export default () => {
  if (__ITER === 0) client.connect(__ENV.GRPC_ADDRESS, { plaintext: true });
  const name = `VU ${__VU}`;
  const reply = client.invoke("helloworld.Greeter/SayHello", { name });
  check(reply, {
    ok: (r) => r && r.status === grpc.StatusOK && r.message.message === `Hello, ${name}!`,
  });
};
