// What the k6 modules share within an instance: the script's options, and
// the session of code that runs outside a VU's iteration (setup, teardown).
import { instanceSession } from "molotov:scenario/http@0.4.7";
import { currentHost } from "../driver.js";
import { Session } from "../molotov.js";

export const k6 = {
  /** The script's `options`, as its init context made them. */
  options: {},
  /** The statuses `http.setResponseCallback` expects, as [min, max] ranges. */
  expectedStatuses: undefined,
  /** Whether requests have their own responseCallback: the layer then
   * records http_req_failed itself (a Rate), as each request's expects. */
  failedPerRequest: false,
  /** The scenario this instance's VUs run (one per process). */
  scenario: "default",
  /** The VU whose init context runs now (where k6 makes custom metrics). */
  initialising: undefined,
};

let ownSession;
/** The session of code outside a VU's iteration: the worker's on an
 * instance of its own, else the run's own (setup, teardown). */
export function session() {
  const host = currentHost();
  if (host !== undefined) return new Session(host);
  ownSession ??= new Session(instanceSession());
  return ownSession;
}
