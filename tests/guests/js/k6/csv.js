// Test data from a CSV file beside the script, as k6's users load it
// (tests/e2e/k6.rs runs it unchanged): open() in the init context,
// jslib's papaparse by its URL, a SharedArray, one user per iteration.
import http from "k6/http";
import { check } from "k6";
import { SharedArray } from "k6/data";
import papaparse from "https://jslib.k6.io/papaparse/5.1.1/index.js";

export const options = { vus: 2, iterations: 4 };

const users = new SharedArray("users", () => papaparse.parse(open("./users.csv"), { header: true, skipEmptyLines: true }).data);

export default function () {
  const user = users[__ITER % users.length];
  const res = http.post(`${__ENV.BASE_URL}/echo`, { name: user.name, password: user.password });
  check(res, {
    "two users": () => users.length === 2 && users[1].password === "se,cret" && users[0].age === "36",
    "the user is posted": (r) => r.body === `name=${encodeURIComponent(user.name)}&password=${encodeURIComponent(user.password)}`,
  });
}
