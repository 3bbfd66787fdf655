// A k6 script, as k6's users write them (tests/e2e/k6.rs runs it
// unchanged): modules, options with thresholds, setup data, __VU, __ITER,
// __ENV, checks, groups and custom metrics, thresholds filtered by tags,
// against the built-in target.
import http from "k6/http";
import { check, group, sleep } from "k6";
import { Counter, Gauge, Rate, Trend } from "k6/metrics";
import exec from "k6/execution";
import encoding from "k6/encoding";
import { SharedArray } from "k6/data";

const BASE = __ENV.BASE_URL;

export const options = {
  vus: 2,
  iterations: 8,
  thresholds: {
    http_req_duration: ["p(95)<5000"],
    "http_req_duration{name:hello}": [{ threshold: "max<10000", abortOnFail: true }],
    items: ["count>=8"],
    // Sub-metrics: only the samples whose tags match.
    "http_req_duration{status:200}": ["p(95)<5000"],
    "http_reqs{type:api}": ["count==8"],
    "http_req_failed{method:GET,name:refused}": ["rate==1"],
    "hello latency{kind:hello}": ["max<10000"],
    "checks{kind:echo}": ["rate==1"],
    "http_req_duration{group:::hello}": ["p(95)<5000"],
    "group_duration{group:::hello}": ["max<10000"],
    http_req_waiting: ["p(95)<5000"],
    http_req_blocked: ["p(95)<5000"],
    // Sub-metrics that no sample matches: a count and a rate of 0, as k6.
    "http_reqs{status:500}": ["count<1"],
    "http_req_failed{name:nothing}": ["rate<0.01"],
    "items{kind:none}": ["count==0"],
  },
};

const names = new SharedArray("names", () => ["ada", "bob"]);
const items = new Counter("items");
const latency = new Trend("hello latency");
const fine = new Rate("fine");
const last = new Gauge("last status");

export function setup() {
  const res = http.get(`${BASE}/`);
  return { token: `t-${res.status}` };
}

export default function (data) {
  if (data.token !== "t-200") throw new Error(`setup data: ${JSON.stringify(data)}`);
  if (__VU < 1 || __VU > 2 || exec.vu.idInTest !== __VU) throw new Error(`VU ${__VU}`);
  group("hello", () => {
    const res = http.get(`${BASE}/`, { tags: { name: "hello" } });
    check(res, {
      "status is 200": (r) => r.status === 200,
      "result is OK": (r) => r.json("result") === "OK",
      "content type": (r) => r.headers === r.headers && r.headers["Content-Type"].startsWith("application/json"),
      // The host's parts of the last hop; k6's duration leaves the
      // connection's opening out.
      "timings add up": ({ timings: t }) =>
        t.sending > 0 && t.waiting > 0 && t.connecting >= 0 && t.tls_handshaking === 0 &&
        Math.abs(t.sending + t.waiting + t.receiving - t.duration) < 1e-9,
    });
    items.add(1);
    latency.add(res.timings.duration, { kind: "hello" });
    latency.add(0, { kind: "other" });
    fine.add(res.status === 200);
    last.add(res.status);
  });
  const body = { name: names[__ITER % names.length], iter: __ITER, text: encoding.b64encode("hé") };
  const echoed = http.post(`${BASE}/echo`, JSON.stringify(body), {
    headers: { "Content-Type": "application/json" },
    tags: { type: "api" },
  });
  const back = echoed.json();
  check(back, {
    "echo": (b) => b.iter === __ITER && encoding.b64decode(b.text, "std", "s") === "hé",
  }, { kind: "echo" });
  const form = http.post(`${BASE}/echo`, { a: "1 2", b: "x&y" });
  check(form, { "form": (r) => r.body === "a=1%202&b=x%26y" });
  const refused = http.get("http://127.0.0.1:1/", { tags: { name: "refused" }, timeout: "2s" });
  check(refused, {
    "refused is status 0": (r) => r.status === 0 && r.error !== "" && r.error_code > 0,
    "refused has no JSON": (r) => {
      try {
        r.json();
        return false;
      } catch (e) {
        return e.message.startsWith("the body is null");
      }
    },
  });
  sleep(0.01);
}

export function teardown(data) {
  if (data.token !== "t-200") throw new Error(`teardown data: ${JSON.stringify(data)}`);
}
