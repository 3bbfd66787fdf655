// k6's promises, as newer k6 scripts use them (tests/e2e/k6.rs runs it
// unchanged): an async default function, http.asyncRequest awaited alone
// and at once, http.url naming requests by their template, and a waiting
// call in the async function all the same; the VU's own tags.
import http from "k6/http";
import { check } from "k6";
import exec from "k6/execution";

export const options = { vus: 2, iterations: 4, thresholds: { "http_reqs{kind:async}": ["count==20"] } };

export default async function () {
  exec.vu.tags.kind = "async";
  const base = __ENV.BASE_URL;
  const res = await http.asyncRequest("GET", http.url`${base}/?id=${__ITER}`);
  const [a, b] = await Promise.all([
    http.asyncRequest("POST", `${base}/echo`, "x"),
    http.asyncRequest("POST", `${base}/echo`, "y", null),
  ]);
  const plain = http.get(`${base}/`, null);
  // Not awaited: the iteration still waits for it, as k6's event loop does.
  http.asyncRequest("GET", `${base}/`).then((r) => check(r, { "then, unawaited": () => r.status === 200 }));
  check(res, {
    "asyncRequest": (r) => r.status === 200 && r.json("result") === "OK",
    "at once": () => a.body === "x" && b.body === "y",
    "a waiting call": () => plain.status === 200,
  });
}
