// The seed's hello world with Molotov's fixtures and an event hook: the hook
// counts every event kind, and teardown reports the counts as custom metrics
// (events.* in the summary and the JSON). The global setup shares a variable
// that every run checks; teardown also reports the worker's steps.
import { check, events, getVar, globalSetup, incr, print, scenario, setup, setVar, step, teardown } from "molotov";

const seen = new Map();

globalSetup((args) => {
  print(`starting ${args.workers} workers`);
  setVar("run", "started");
});

// Each worker's requests carry its id.
setup((workerId) => ({ headers: { "x-worker": String(workerId) } }));

events(
  ["sendingRequest", "responseReceived", "scenarioStart", "scenarioSuccess", "scenarioFailure"],
  (event) => seen.set(event.kind, (seen.get(event.kind) ?? 0) + 1),
);

scenario({}, function hello(session) {
  check(getVar("run") === "started", "the shared variable is missing");
  const res = session.get("/").expectStatus(200);
  check(res.json().result === "OK", `unexpected body: ${res.text()}`);
});

teardown(() => {
  for (const kind of ["sendingRequest", "responseReceived", "scenarioStart", "scenarioSuccess", "scenarioFailure"]) {
    incr(`events.${kind.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`, seen.get(kind) ?? 0);
  }
  incr("steps", step());
});
