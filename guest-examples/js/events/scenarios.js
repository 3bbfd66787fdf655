// The seed's hello world with Molotov's fixtures and an event hook: the hook
// counts every event kind, and teardown reports the counts as custom metrics
// (events.* in the summary and the JSON).
import { check, events, globalSetup, incr, print, scenario, setup, teardown } from "molotov";

const seen = new Map();

globalSetup((args) => print(`starting ${args.workers} workers`));

// Each worker's requests carry its id.
setup((workerId) => ({ headers: { "x-worker": String(workerId) } }));

events(
  ["sendingRequest", "responseReceived", "scenarioStart", "scenarioSuccess", "scenarioFailure"],
  (event) => seen.set(event.kind, (seen.get(event.kind) ?? 0) + 1),
);

scenario({}, function hello(session) {
  const res = session.get("/").expectStatus(200);
  check(res.json().result === "OK", `unexpected body: ${res.text()}`);
});

teardown(() => {
  for (const kind of ["sendingRequest", "responseReceived", "scenarioStart", "scenarioSuccess", "scenarioFailure"]) {
    incr(`events.${kind.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`, seen.get(kind) ?? 0);
  }
});
