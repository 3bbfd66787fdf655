// The k6 script bench/k6.py runs with k6 and with molotov, unchanged: one
// GET to the built-in target per iteration, its status checked.
import http from "k6/http";
import { check } from "k6";

export default function () {
  const res = http.get(__ENV.TARGET);
  check(res, { "status is 200": (r) => r.status === 200 });
}
