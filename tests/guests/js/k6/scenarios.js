// A k6 script with two scenarios at once (tests/e2e/k6.rs): each runs in a
// process of its own with its executor, the second from its startTime; its
// setup and teardown run once, and setup's data reaches both; the
// thresholds judge the whole run. VUs are numbered over the whole test, as
// in k6: browse's are 1 and 2, buy's is 3.
import http from "k6/http";
import { check, fail } from "k6";
import exec from "k6/execution";

export const options = {
  scenarios: {
    browse: { executor: "per-vu-iterations", vus: 2, iterations: 3, exec: "browse" },
    buy: { executor: "shared-iterations", vus: 1, iterations: 4, exec: "buy", startTime: "1s" },
  },
  thresholds: {
    "http_req_duration{name:buy}": ["max<10000"],
    checks: ["rate==1"],
  },
};

export function setup() {
  const res = http.get(`${__ENV.BASE_URL}/`, { tags: { name: "setup" } });
  return { token: `t-${res.status}` };
}

export function browse(data) {
  if (__VU < 1 || __VU > 2) fail(`browse on VU ${__VU}`);
  const res = http.get(`${__ENV.BASE_URL}/`, { tags: { name: "browse" } });
  check(res, { "browsed": (r) => r.status === 200 && data.token === "t-200" });
}

export function buy(data) {
  if (exec.scenario.name !== "buy") fail(`scenario ${exec.scenario.name}`);
  if (__VU !== 3 || exec.vu.idInTest !== 3) fail(`buy on VU ${__VU}`);
  const res = http.post(`${__ENV.BASE_URL}/echo`, "one item", { tags: { name: "buy" } });
  check(res, { "bought": (r) => r.body === "one item" && data.token === "t-200" });
}

export function teardown(data) {
  if (data.token !== "t-200") throw new Error(`teardown data: ${JSON.stringify(data)}`);
  http.get(`${__ENV.BASE_URL}/`, { tags: { name: "teardown" } });
}
