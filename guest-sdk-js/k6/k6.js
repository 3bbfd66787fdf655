// The `k6` module, one per VU: checks and groups (which know the VU's
// current group), sleep, fail.
import { incr, timing, sleep as pause } from "../molotov.js";
import { matching, submetricsOf } from "./submetrics.js";

/** Suspends the VU for `seconds` (on a shared instance, a promise the
 * build's rewrite of the script awaits). */
const sleep = (seconds) => pause(Math.max(0, Math.round(Number(seconds) * 1000)));

/** Fails the iteration with `message`. */
function fail(message) {
  throw new Error(message);
}

/** Makes Math.random repeatable from `seed` (mulberry32). */
function randomSeed(seed) {
  let state = Number(seed) >>> 0;
  Math.random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `k6` for `vu`, whose `group` is the path of the group it is in (k6's
 * `::outer::inner`, "" outside any). */
export function createK6(vu) {
  /** Runs each of `sets`' tests on `value`: each counts as `check NAME:
   * passed` or `failed`, and in k6's rate `checks` (counters `checks: true`
   * and `checks: false`, and in the sub-metrics its tags match); true if all
   * passed. A failed check does not fail the iteration, as in k6. */
  function check(value, sets, tags) {
    let all = true;
    const tagged = submetricsOf("checks") !== undefined;
    for (const [name, test] of Object.entries(sets ?? {})) {
      if (name.includes("::")) throw new Error(`check ${JSON.stringify(name)}: a check's name may not contain "::" (it separates groups)`);
      const passed = Boolean(typeof test === "function" ? test(value) : test);
      // Within a group, the check is named by its path (`::a::b::NAME`).
      incr(`check ${vu.group && `${vu.group}::`}${name}: ${passed ? "passed" : "failed"}`);
      incr(`checks: ${passed}`);
      if (tagged) for (const key of matching("checks", { ...vu.tags, ...tags, check: name, group: vu.group })) incr(`${key}: ${passed}`);
      all &&= passed;
    }
    return all;
  }

  /** Runs `fn` in group `name` and returns what it returns (a promise when
   * it waits on a shared instance); its time is a `group_duration`. */
  function group(name, fn) {
    if (String(name).includes("::")) throw new Error(`group ${JSON.stringify(name)}: a group's name may not contain "::" (it separates groups)`);
    const outer = vu.group;
    const path = `${outer}::${name}`;
    const started = performance.now();
    const end = () => {
      vu.group = outer;
      const us = (performance.now() - started) * 1000;
      timing("group_duration", us);
      for (const key of matching("group_duration", { ...vu.tags, group: path })) timing(key, us);
    };
    vu.group = path;
    let result;
    try {
      result = fn();
    } catch (e) {
      end();
      throw e;
    }
    if (typeof result?.then !== "function") {
      end();
      return result;
    }
    return result.finally(end);
  }

  return { check, group, sleep, fail, randomSeed };
}
