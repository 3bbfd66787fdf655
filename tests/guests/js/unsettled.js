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
