// The `k6` module: checks, groups, sleep, fail.
import { incr, sleep as pause } from "../molotov.js";
import { matching, submetricsOf } from "./submetrics.js";

/** Runs each of `sets`' tests on `value`: each counts as `check NAME:
 * passed` or `failed`, and in k6's rate `checks` (counters `checks: true`
 * and `checks: false`, and in the sub-metrics `tags` match); true if all
 * passed. A failed check does not fail the iteration, as in k6. */
export function check(value, sets, tags) {
  let all = true;
  const tagged = submetricsOf("checks") !== undefined;
  for (const [name, test] of Object.entries(sets ?? {})) {
    const passed = Boolean(typeof test === "function" ? test(value) : test);
    incr(`check ${name}: ${passed ? "passed" : "failed"}`);
    incr(`checks: ${passed}`);
    if (tagged) for (const key of matching("checks", { ...tags, check: name })) incr(`${key}: ${passed}`);
    all &&= passed;
  }
  return all;
}

/** Runs `fn`, and returns what it returns (a promise when it waits on a
 * shared instance); k6 groups its metrics by name, molotov does not yet. */
export const group = (name, fn) => fn();

/** Suspends the VU for `seconds` (on a shared instance, a promise the
 * build's rewrite of the script awaits). */
export const sleep = (seconds) => pause(Math.max(0, Math.round(Number(seconds) * 1000)));

/** Fails the iteration with `message`. */
export function fail(message) {
  throw new Error(message);
}

/** Makes Math.random repeatable from `seed` (mulberry32). */
export function randomSeed(seed) {
  let state = Number(seed) >>> 0;
  Math.random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default { check, group, sleep, fail, randomSeed };
