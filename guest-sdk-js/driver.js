// Many workers in one instance: the host's run orders become promises on
// one event loop. An async scenario's requests start without waiting
// (multiplex.startSend) and its `await` lets the other workers run while
// the host performs them; a plain function's requests wait in place, so a
// component with one reports a capacity of 1 and keeps an instance per worker.
import * as mx from "molotov:scenario/multiplex@0.4.7";
import { completed as grpcCompleted } from "molotov:scenario/multiplex-grpc@0.4.7";
import { completed } from "molotov:scenario/multiplex-io@0.4.7";
import { HttpError, Response, Session, errorMessage, release, scenarioAt, scenarioCount } from "./molotov.js";

/** Workers per instance when every scenario is an async function: the
 * host's ceiling. At 200 workers, 128 per SpiderMonkey did as many requests
 * per CPU-second as 64 (9,612 and 8,773, noisy) in 129 KiB per worker
 * against 210. */
const SHARED_CAPACITY = 128;
const AsyncFunction = (async () => {}).constructor;

// The run whose synchronous part runs now (set around the scenario's first
// call): what workerId() and step() answer. Code after an `await` runs with
// it unset, and can only be an async run's.
export let running = null;
export let driving = false;

// On an instance of its own, the host's handle on its one worker's session.
let ownHost;
/** Records the session of the one worker of an instance of its own. */
export const setOwnHost = (host) => (ownHost = host);
/** The host's handle on the session of the worker whose code runs now,
 * if that is known: a shared instance knows it in a run's synchronous part. */
export const currentHost = () => (driving ? (running ? sessions.get(running.workerId) : undefined) : ownHost);

/** Whether the caller is an async run's code on a shared instance. */
export const inAsyncRun = () => driving && (running === null || running.async);

const replies = new Map(); // ticket -> what gets its outcome
const ioWaiting = new Map(); // socket and stream tickets -> resolve
const unawaited = new Map(); // socket tickets nothing awaits -> what to call if they failed
const grpcWaiting = new Map(); // gRPC tickets -> resolve
const sessions = new Map(); // worker id -> the host's handle on its session
const timers = []; // [{ at, resolve }], soonest first
let fetches = 0; // fetch() calls waiting for their response's head
let reading = 0; // fetch() responses whose body is being read whole
let live = 0; // runs started and not finished
let waits = 0; // sends and sleeps of runs that the host's turns will end

// The runtime's own timers (setTimeout, setInterval) not yet fired or
// cleared: a run may wait on one, which needs turns of the event loop.
const runtimeTimers = new Set();
const { setTimeout: setRuntimeTimeout, setInterval: setRuntimeInterval } = globalThis;
const { clearTimeout: clearRuntimeTimeout, clearInterval: clearRuntimeInterval } = globalThis;
if (setRuntimeTimeout) {
  globalThis.setTimeout = (callback, ...rest) => {
    if (typeof callback !== "function") return setRuntimeTimeout(callback, ...rest);
    const id = setRuntimeTimeout((...args) => {
      runtimeTimers.delete(id);
      callback(...args);
    }, ...rest);
    runtimeTimers.add(id);
    return id;
  };
  globalThis.setInterval = (...args) => {
    const id = setRuntimeInterval(...args);
    runtimeTimers.add(id);
    return id;
  };
  // Either clears either kind, as on the web.
  globalThis.clearTimeout = (id) => {
    runtimeTimers.delete(id);
    clearRuntimeTimeout(id);
  };
  globalThis.clearInterval = (id) => {
    runtimeTimers.delete(id);
    clearRuntimeInterval(id);
  };
}

/** One run of a scenario on a shared instance. */
class Run {
  constructor({ job, workerId, step, index }) {
    this.job = job;
    this.workerId = workerId;
    this.step = step;
    this.index = index;
    this.handles = [];
    this.async = false;
  }

  send(host, req) {
    return new Promise((resolve, reject) =>
      startSend(host, req, (outcome) => {
        if (outcome.tag === "err") reject(new HttpError(outcome.val));
        else resolve(new Response(outcome.val, this.handles));
      }),
    );
  }

  start() {
    live++;
    const run = scenarioAt(this.index);
    if (!run) return this.finish({ tag: "err", val: `no scenario at index ${this.index}` });
    this.async = run instanceof AsyncFunction;
    let host = sessions.get(this.workerId);
    if (host === undefined) sessions.set(this.workerId, (host = mx.sessionOf(this.workerId)));
    running = this;
    let result;
    try {
      result = run(new Session(host, this.async ? this : null));
    } catch (e) {
      return this.finish({ tag: "err", val: errorMessage(e) });
    } finally {
      running = null;
    }
    Promise.resolve(result).then(
      () => this.finish({ tag: "ok" }),
      (e) => this.finish({ tag: "err", val: errorMessage(e) }),
    );
  }

  finish(outcome) {
    live--;
    release(this.handles);
    mx.finished(this.job, outcome);
  }
}

/** Starts `req` on the session `host` of a shared instance: `replied` gets
 * its outcome at the turn that brings it. */
export function startSend(host, req, replied) {
  replies.set(mx.startSend(host, req), replied);
  waits++;
}

/** A socket's or stream's call: on a shared instance a ticket (`start()`)
 * whose outcome a later turn brings, else `inPlace()`, waiting in the host.
 * A promise of `{ tag: "ok" | "err", val }` either way. */
export const io = (start, inPlace) => ticketed(ioWaiting, start, inPlace);

/** The same for a gRPC call. */
export const grpcIo = (start, inPlace) => ticketed(grpcWaiting, start, inPlace);

function ticketed(waiting, start, inPlace) {
  if (driving) {
    const ticket = start();
    waits++;
    return new Promise((resolve) =>
      waiting.set(ticket, (result) => {
        waits--;
        resolve(result);
      }),
    );
  }
  try {
    return Promise.resolve({ tag: "ok", val: inPlace() });
  } catch (e) {
    return Promise.resolve({ tag: "err", val: e.payload ?? e });
  }
}

/** Hands each completed ticket's result to what waits for it. */
function answer(waiting, completions, resultOf) {
  for (const { ticket, outcome } of completions) {
    const resolve = waiting.get(ticket);
    if (resolve) {
      waiting.delete(ticket);
      resolve(resultOf(outcome));
      continue;
    }
    const failed = unawaited.get(ticket);
    unawaited.delete(ticket);
    if (outcome.val.tag === "err") failed?.(outcome.val.val);
  }
}

/** A socket's call whose outcome matters only if it failed (a send): on a
 * shared instance a ticket that no promise waits for, `failed` called with
 * its error when its turn brings one; else done in place. */
export function ioUnawaited(start, inPlace, failed) {
  if (driving) {
    unawaited.set(start(), failed);
    return;
  }
  try {
    inPlace();
  } catch (e) {
    failed(e.payload ?? e);
  }
}

/** Before a call that waits in place (not on a shared instance): lets the
 * promise jobs already queued (a handler's `send`) run first, or the wait
 * would hold them up until it ends. */
export const beforeWaitingInPlace = () => (driving ? undefined : new Promise((resolve) => setTimeout(resolve, 0)));

export const scheduler = {
  sleep: (ms) => cancellableSleep(ms).fired,
};

/** A sleep of an async run on a shared instance that `cancel()` ends at
 * once: `fired` resolves with true when it elapsed, false when cancelled. */
export function cancellableSleep(ms) {
  waits++;
  let settle;
  const fired = new Promise((resolve) => (settle = resolve));
  const timer = { at: Date.now() + ms, resolve: () => settle(true) };
  const i = timers.findIndex((t) => t.at > timer.at);
  timers.splice(i < 0 ? timers.length : i, 0, timer);
  function cancel() {
    const at = timers.indexOf(timer);
    if (at < 0) return;
    timers.splice(at, 1);
    waits--;
    settle(false);
  }
  return { fired, cancel };
}

// fetch() on a shared instance: its response and each read of its body come
// through the runtime's own event loop, which runs only between host calls.
// A run waiting for a response waits on the host, which ends its wait when
// the exchange ends; a body being read needs turns of the event loop (the
// host has it whole by then). Counted for `settle` and `timeoutMs`.
const nativeFetch = globalThis.fetch;
if (nativeFetch) {
  globalThis.fetch = (...args) => {
    if (!driving) return nativeFetch(...args);
    fetches++;
    waits++;
    return nativeFetch(...args).finally(() => {
      fetches--;
      waits--;
    });
  };
  const body = globalThis.Response?.prototype ?? {};
  for (const read of ["arrayBuffer", "blob", "bytes", "formData", "json", "text"]) {
    const native = body[read];
    if (typeof native !== "function") continue;
    body[read] = function (...args) {
      if (!driving) return native.apply(this, args);
      reading++;
      return native.apply(this, args).finally(() => reading--);
    };
  }
}

// Everything the last wakeups made runnable runs before the next host call.
// Promise jobs run between awaits, so a few turns of `await null` let the
// runs reach their next request, sleep or end: then there are as many waits
// as runs. A run waiting on something else (fetch, a promise of its own)
// gets turns of the runtime's event loop, each through a timer that fires
// once the jobs queued before it have run: one per host turn, and more while
// fetch() bodies are read (each read takes one; the host has the body whole).
// Only then: StarlingMonkey's timers slow down as they pile up (the hello
// example, 200 workers on one core against `molotov serve`: 9,400 requests
// per second falling to 3,600 in 10 s with a timer per turn; a steady 10,000
// without).
const JOB_ROUNDS = 64;
const BODY_READ_TURNS = 16;
async function runJobs() {
  for (let round = 0; round < JOB_ROUNDS && waits < live; round++) await null;
}
async function settle() {
  await runJobs();
  if (waits >= live && fetches === 0) return;
  for (let turn = 0; turn === 0 || (turn < BODY_READ_TURNS && reading > 0); turn++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await runJobs();
  }
}

// A run waiting on neither the host nor a timer of ours (a fetch() body
// still being read, a timer of the runtime's) waits on the runtime's event
// loop, which runs only between host calls: keep the host's waits short.
// One waiting for a fetch() response needs none: the host ends the wait.
// Nor does one waiting on a promise that nothing will settle (`settle` gave
// it a turn of the event loop): the host, with nothing in flight for the
// instance either, fails it rather than wait for ever.
function timeoutMs() {
  if (reading > 0 || (waits < live && runtimeTimers.size > 0)) return 1;
  return timers.length ? Math.max(0, timers[0].at - Date.now()) : undefined;
}

function fireDueTimers() {
  const now = Date.now();
  while (timers.length && timers[0].at <= now) {
    waits--;
    timers.shift().resolve();
  }
}

/** The component's `driver` export. */
export const driver = {
  capacity() {
    return scenarioCount((run) => !(run instanceof AsyncFunction)) === 0 ? SHARED_CAPACITY : 1;
  },
  async drive() {
    driving = true;
    try {
      for (;;) {
        await settle();
        const turn = mx.next(timeoutMs());
        if (turn.tag === "hand-back") return;
        for (const wakeup of turn.val) {
          if (wakeup.tag === "run") {
            new Run(wakeup.val).start();
          } else {
            const replied = replies.get(wakeup.val.ticket);
            if (!replied) continue;
            replies.delete(wakeup.val.ticket);
            waits--;
            replied(wakeup.val.outcome);
          }
        }
        // A socket's or stream's outcome is a variant around its result.
        if (ioWaiting.size || unawaited.size) answer(ioWaiting, completed(), (outcome) => outcome.val);
        if (grpcWaiting.size) answer(grpcWaiting, grpcCompleted(), (outcome) => outcome);
        fireDueTimers();
      }
    } catch (e) {
      throw `the scheduler broke: ${errorMessage(e)}`;
    } finally {
      driving = false;
    }
  },
};
