// k6 scripts, run unchanged. The build bundles the script as a function;
// each instance calls it at its first use, at run time (k6's init context,
// with the run's environment in __ENV). The script's `default` function (or
// its scenario's `exec`) becomes a molotov scenario whose runs are the
// VU's iterations, each VU on an instance of its own; `setup` runs once
// before the VUs and `teardown` once after, the data `setup` returns
// reaching both and every iteration through the run's shared variables.
import * as ctx from "molotov:scenario/context@0.4.4";
import * as vars from "molotov:scenario/vars@0.4.4";
import { errorMessage, globalSetup, globalTeardown, registerAtRunTime, scenario } from "../molotov.js";
import { k6, vuNumber } from "./state.js";

const SETUP_DATA = "k6 setup data";

let compiled;
let script; // { exports } or { error }

/** The script's exports: its init context runs once per instance. */
function exportsOf() {
  if (!script) {
    try {
      script = { exports: compiled() };
      k6.options = script.exports.options ?? {};
    } catch (e) {
      script = { error: `the script failed in its init context: ${errorMessage(e)}` };
    }
  }
  if (script.error) throw new Error(script.error);
  return script.exports;
}

let setupData;
function dataOfSetup() {
  if (setupData === undefined) {
    const json = vars.get(SETUP_DATA);
    setupData = { value: json === undefined ? undefined : JSON.parse(json) };
  }
  return setupData.value;
}

/** One scenario's iterations: `fn(data)` as the VU's next iteration. */
function iterations(name, executor, fn) {
  const run = () => {
    k6.scenario = { name, executor };
    k6.iteration++;
    k6.inIteration = true;
    let result;
    try {
      result = fn(dataOfSetup());
    } catch (e) {
      k6.inIteration = false;
      throw e;
    }
    if (typeof result?.then !== "function") {
      k6.inIteration = false;
      return result;
    }
    return result.finally(() => (k6.inIteration = false));
  };
  // A plain function even for an async `default`: each VU keeps an instance
  // of its own, as k6's VUs have their own runtime.
  Object.defineProperty(run, "name", { value: name });
  return run;
}

function register() {
  const exports = exportsOf();
  const planned = Object.entries(k6.options.scenarios ?? { default: { executor: "shared-iterations" } });
  for (const [name, { exec = "default", executor = "shared-iterations" }] of planned) {
    const fn = exports[exec];
    if (typeof fn !== "function") {
      throw new Error(exec === "default" ? "the script exports no default function" : `scenario ${name}: the script exports no function ${exec}`);
    }
    scenario({ name }, iterations(name, executor, fn));
  }
  if (typeof exports.setup === "function") {
    globalSetup(() => {
      const data = exports.setup();
      const keep = (value) => vars.set(SETUP_DATA, JSON.stringify(value ?? null));
      return typeof data?.then === "function" ? data.then(keep) : keep(data);
    });
  }
  if (typeof exports.teardown === "function") globalTeardown(() => exports.teardown(dataOfSetup()));
}

/** Makes `compile` (the bundled script: a function returning its exports)
 * the component's scenarios; `files` are those `open()` may read. */
export function runK6Script(compile, files) {
  compiled = compile;
  Object.defineProperty(globalThis, "__VU", { get: vuNumber, configurable: true });
  Object.defineProperty(globalThis, "__ITER", { get: () => Math.max(0, k6.iteration - 1), configurable: true });
  globalThis.__ENV = new Proxy(
    {},
    {
      get: (_, key) => (typeof key === "string" ? ctx.env(key) : undefined),
      has: (_, key) => typeof key === "string" && ctx.env(key) !== undefined,
    },
  );
  globalThis.open = (path, mode) => {
    const name = String(path).replace(/^\.\//, "");
    const file = files[name];
    if (file === undefined) throw new Error(`open(${JSON.stringify(path)}): not bundled: the build bundles the files that open() names with a literal path beside the script`);
    const bytes = Uint8Array.from(atob(file), (c) => c.charCodeAt(0));
    return mode === "b" ? bytes.buffer : new TextDecoder().decode(bytes);
  };
  registerAtRunTime(register);
}

/** The component's `run-options` export: the script's `options`, as JSON. */
export const runOptions = {
  options() {
    try {
      return JSON.stringify(exportsOf().options ?? {});
    } catch (e) {
      throw errorMessage(e);
    }
  },
};
