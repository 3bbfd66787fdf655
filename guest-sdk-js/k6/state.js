// What the k6 modules share within an instance: the script's options, the
// VU (this instance's one worker) and its iteration, and the session its
// requests go through.
import * as ctx from "molotov:scenario/context@0.4.4";
import { instanceSession } from "molotov:scenario/http@0.4.4";
import { currentHost } from "../driver.js";
import { Session } from "../molotov.js";

export const k6 = {
  options: {},
  /** The scenario (k6's) whose iteration runs now. */
  scenario: { name: "default", executor: "shared-iterations" },
  /** Iterations this VU started. */
  iteration: 0,
  /** Whether a VU's code runs now (not the init context, setup or teardown). */
  inIteration: false,
};

/** The VU number, from 1 (0 outside an iteration, as in k6's init context). */
export const vuNumber = () => (k6.inIteration ? ctx.workerId() + 1 : 0);

let setupSession;
/** The session of the code that runs now: the VU's, else (setup, teardown)
 * the run's own. */
export function session() {
  const host = currentHost();
  if (host !== undefined) return new Session(host);
  setupSession ??= new Session(instanceSession());
  return setupSession;
}
