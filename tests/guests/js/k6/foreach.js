// A k6 script whose requests are made in a callback that forEach calls
// (tests/e2e/k6.rs): the build cannot await them, so each VU runs on an
// instance of its own, and the script still runs unchanged.
import http from "k6/http";
import { check } from "k6";

export const options = { vus: 2, iterations: 4 };

export default function () {
  ["/", "/echo"].forEach((path) => {
    const res = http.get(`${__ENV.BASE_URL}${path}`);
    check(res, { "status is 200": (r) => r.status === 200 });
  });
}
