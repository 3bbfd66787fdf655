// Scenarios whose result the SDK cannot run to an end: each must fail its
// run with a clear message, never count as a success.
import { scenario } from "molotov";

// A promise nothing will ever settle.
scenario({}, function never_settles() {
  return new Promise(() => {});
});

// A thenable that is not a promise and never calls back.
scenario({}, function odd_thenable() {
  return { then() {} };
});

// A generator function: its body would never run.
scenario({}, function* generator() {
  yield 1;
});

// On a shared instance, an async run awaiting what nothing settles: the
// host, with nothing in flight for the instance, fails it.
scenario({}, async function awaits_nothing() {
  await new Promise(() => {});
});

// Not one of them: a run waiting on the runtime's own timers, which only
// turns of its event loop fire.
scenario({}, async function awaits_runtime_timers() {
  await new Promise((resolve) => setTimeout(resolve, 50));
  let ticks = 0;
  await new Promise((resolve) => {
    const id = setInterval(() => ++ticks === 3 && (clearInterval(id), resolve()), 10);
  });
});
