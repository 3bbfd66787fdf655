// k6 scripts, run unchanged. The build bundles the script as a function;
// each VU calls it at its first iteration (k6's per-VU init context, at run
// time, with the run's environment in __ENV), with k6 modules of its own
// (its `k6/http` sends through its session). One more evaluation, as VU 0,
// gives the options and runs `setup` and `teardown`. The script's `default`
// (or its scenario's `exec`) becomes a molotov scenario whose runs are the
// VU's iterations: on a shared instance when the build could make its
// waiting calls awaited (k6/asyncify.mjs), else a VU per instance.
import * as ctx from "molotov:scenario/context@0.4.7";
import * as vars from "molotov:scenario/vars@0.4.7";
import { fromBase64 } from "../bytes.js";
import { errorMessage, globalSetup, globalTeardown, registerAtRunTime, scenario } from "../molotov.js";
import { createExecution } from "./execution.js";
import { createHttp, useHtmlParser } from "./http.js";
import { createK6 } from "./k6.js";
import { k6, session } from "./state.js";
import { createTimers } from "./timers.js";
import { createWebsockets } from "./websockets.js";
import { createWs } from "./ws.js";

const SETUP_DATA = "k6 setup data";

let build; // { compile, shared, modules }

/** A VU: its number, iterations, session, and the script's exports as its
 * own init context made them. */
class VU {
  constructor(id) {
    this.id = id;
    this.iteration = 0;
    this.session = null;
    this.scenario = { name: "default", executor: "shared-iterations" };
    this.group = ""; // the group the VU is in (k6's `::a::b`)
    this.tags = {}; // exec.vu.tags: added to what the VU measures
    this.metadata = {}; // exec.vu.metrics.metadata
    this.setIteration = () => {};
    this.pending = new Set(); // what the iteration waits for: sockets, timers
    this.timers = createTimers(this);
    const websockets = createWebsockets(this);
    const modules = {
      ...build.modules,
      k6: createK6(this),
      "k6/http": createHttp(this),
      "k6/execution": createExecution(this),
      "k6/timers": this.timers,
      "k6/websockets": websockets,
      "k6/experimental/websockets": websockets,
      "k6/ws": createWs(this, this.timers),
    };
    k6.initialising = this;
    try {
      this.exports = build.compile((id) => modules[id], this);
    } catch (e) {
      throw new Error(`the script failed in its init context: ${errorMessage(e)}`);
    } finally {
      k6.initialising = undefined;
    }
  }

  currentSession() {
    return this.session ?? session();
  }

  /** Keeps the iteration open until `promise` settles (a socket closing, a
   * timer ending), as k6's event loop does. */
  track(promise) {
    if (!build.shared) {
      throw new Error("sockets and timers need VUs that share an instance, and this script runs a VU per instance (`-v` says why)");
    }
    this.pending.add(promise);
    promise.then(
      () => this.pending.delete(promise),
      () => this.pending.delete(promise),
    );
  }

  /** Keeps the iteration open until `promise` settles, where it can be left
   * open (a VU per instance has waited for it in place). */
  keepOpenUntil(promise) {
    if (build.shared) this.track(promise);
  }

  /** Waits for what the iteration left open; its first failure fails it. */
  async settle() {
    while (this.pending.size) {
      for (const outcome of await Promise.allSettled([...this.pending])) {
        if (outcome.status === "rejected") throw outcome.reason;
      }
    }
  }

  /** Starts the VU's next iteration of `scenario`, with `session`. */
  next(scenario, session) {
    this.scenario = scenario;
    k6.scenario = scenario.name;
    this.group = "";
    this.session = session;
    this.iteration++;
    this.setIteration(this.iteration - 1);
  }
}

let initVu; // VU 0: options, setup, teardown
let initError;
const vus = new Map(); // worker id -> VU

function initExports() {
  if (initError) throw initError;
  if (!initVu) {
    try {
      initVu = new VU(0);
    } catch (e) {
      initError = e;
      throw e;
    }
    k6.options = initVu.exports.options ?? {};
  }
  return initVu.exports;
}

function vuOf(workerId) {
  let vu = vus.get(workerId);
  if (!vu) vus.set(workerId, (vu = new VU(workerId + 1)));
  return vu;
}

let setupData;
function dataOfSetup() {
  if (setupData === undefined) {
    const json = vars.get(SETUP_DATA);
    setupData = { value: json === undefined ? undefined : JSON.parse(json) };
  }
  return setupData.value;
}

/** One scenario's iterations: the VU's `exec` function, with setup's data. */
function iterations(name, executor, exec) {
  const planned = { name, executor };
  // On a shared instance an async function, which the driver runs many of
  // at once; else a plain one, whose instance is its VU's own.
  const run = build.shared
    ? async (session) => {
        const vu = vuOf(session.workerId);
        vu.next(planned, session);
        await vu.exports[exec](dataOfSetup());
        if (vu.pending.size) await vu.settle();
      }
    : (session) => {
        const vu = vuOf(ctx.workerId());
        vu.next(planned, session);
        return vu.exports[exec](dataOfSetup());
      };
  Object.defineProperty(run, "name", { value: name });
  return run;
}

function register() {
  const exports = initExports();
  const planned = Object.entries(k6.options.scenarios ?? { default: { executor: "shared-iterations" } });
  for (const [name, { exec = "default", executor = "shared-iterations" }] of planned) {
    if (typeof exports[exec] !== "function") {
      throw new Error(exec === "default" ? "the script exports no default function" : `scenario ${name}: the script exports no function ${exec}`);
    }
    scenario({ name }, iterations(name, executor, exec));
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

/** Makes the bundled script the component's scenarios: `compile(require,
 * vu)` evaluates it for a VU, `modules` are k6's shared modules, `shared`
 * says whether its waiting calls are awaited, `files` are what `open()`
 * may read, `failedPerRequest` whether requests have their own
 * responseCallback. */
export function runK6Script({ compile, shared, modules, files, failedPerRequest }) {
  build = { compile, shared, modules };
  k6.failedPerRequest = failedPerRequest;
  if (modules["k6/html"]) useHtmlParser(modules["k6/html"].parseHTML);
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
    const bytes = fromBase64(file);
    return mode === "b" ? bytes.buffer : new TextDecoder().decode(bytes);
  };
  registerAtRunTime(register);
}

/** Text from what `handleSummary` put under a destination. */
function outputText(value) {
  if (typeof value === "string") return value;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return new TextDecoder().decode(value);
  return String(value);
}

/** The component's `script` export: the script's `options` (JSON), and
 * what its `handleSummary` makes of the run's results. */
export const script = {
  options() {
    try {
      const options = initExports().options ?? {};
      const judged = {
        ...(k6.expectedStatuses ? { "molotov:expectedStatuses": k6.expectedStatuses } : {}),
        ...(k6.failedPerRequest ? { "molotov:failedPerRequest": true } : {}),
      };
      return JSON.stringify({ ...options, ...judged });
    } catch (e) {
      throw errorMessage(e);
    }
  },
  handleSummary(results) {
    try {
      const { handleSummary } = initExports();
      if (typeof handleSummary !== "function") return undefined;
      const outputs = handleSummary(JSON.parse(results));
      if (typeof outputs?.then === "function") throw new Error("it returned a promise: handleSummary may not wait");
      return Object.entries(outputs ?? {}).map(([to, value]) => [to, outputText(value)]);
    } catch (e) {
      throw errorMessage(e);
    }
  },
};
