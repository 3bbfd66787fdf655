// A k6 script with its own end-of-test summary (tests/e2e/k6.rs): jslib's
// k6-summary and k6-utils, imported by their URLs as k6 scripts do, a
// handleSummary that prints and writes files, and exec.test.abort.
import http from "k6/http";
import { check } from "k6";
import exec from "k6/execution";
import { Trend } from "k6/metrics";
import { jUnit, textSummary } from "https://jslib.k6.io/k6-summary/0.0.2/index.js";
import { findBetween, randomIntBetween, randomItem, uuidv4 } from "https://jslib.k6.io/k6-utils/1.4.0/index.js";

export const options = {
  vus: 2,
  iterations: 10,
  summaryTrendStats: ["avg", "p(99)", "max", "count"],
  thresholds: {
    checks: ["rate>0.99"],
    http_reqs: ["count>1000"],
    "http_req_duration{name:home}": ["p(95)<5000"],
  },
};

const waited = new Trend("waited");

export default function () {
  const res = http.get(`${__ENV.BASE_URL}/`, { tags: { name: "home" } });
  waited.add(res.timings.duration);
  check(res, {
    "status is 200": (r) => r.status === 200,
    "utils": () =>
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuidv4()) &&
      findBetween("<b>x</b><b>y</b>", "<b>", "</b>", true).join() === "x,y" &&
      findBetween(res.body, '"result":"', '"') === "OK" &&
      randomIntBetween(3, 3) === 3 &&
      randomItem(["z"]) === "z",
  });
  const abortAt = Number(__ENV.ABORT_AT ?? 0);
  if (abortAt && exec.vu.idInTest === 1 && exec.vu.iterationInInstance + 1 === abortAt) {
    exec.test.abort("enough for today");
  }
}

export function handleSummary(data) {
  return {
    stdout: textSummary(data, { indent: " ", enableColors: true }),
    "summary.json": JSON.stringify(data),
    "junit.xml": jUnit(data),
  };
}
