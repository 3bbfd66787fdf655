// Load-test scenarios for molotov. Build with `npm install && molotov build .`,
// then run a test of molotov.json: `molotov run --config molotov.json smoke`.
//
// The scenarios are async functions: the workers of an instance then run
// together, each awaiting its own requests (a plain function works too, but
// gets an instance per worker).
import { check, scenario, setup } from "molotov";

// Once per worker, before its first run: headers for every request.
setup((workerId) => ({ headers: { "x-worker": String(workerId) } }));

// 90% of the runs: read, and check the answer.
scenario({ weight: 90 }, async function read(session) {
  const res = (await session.get("/")).expectStatus(200);
  check(res.json().result === "OK", `unexpected body: ${res.text()}`);
});

// 10% of the runs: write.
scenario({ weight: 10 }, async function write(session) {
  (await session.postJson("/echo", { OK: 1 })).expectStatus(200);
});
