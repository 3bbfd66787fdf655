// gRPC calls that a server floods, breaks or drops mid-stream, or that a worker
// makes more of at once than --max-open allows (tests/e2e/grpc.rs): each
// run fails with the call's error.
import { check, scenario } from "molotov";

const hello = Uint8Array.of(0x0a, 1, 0x61);

scenario({ weight: 0 }, async function flood(session) {
  await session.grpc({ method: "/helloworld.Greeter/Flood" }, hello);
});

scenario({ weight: 0 }, async function broken(session) {
  const reply = await session.grpc({ method: "/helloworld.Greeter/Broken" }, hello);
  check(reply.messages.length === 2, `${reply.messages.length} messages before the failure`);
  reply.ok();
});

scenario({ weight: 0 }, async function at_once(session) {
  const calls = [1, 2, 3, 4].map(() => session.unary("/helloworld.Greeter/SayHello", hello));
  await Promise.all(calls);
});

scenario({ weight: 0 }, async function dropped(session) {
  await session.grpc({ method: "/helloworld.Greeter/Dropped" }, hello);
});
