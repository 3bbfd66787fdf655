// A handleSummary that asks to write outside the current directory: the
// host refuses it (tests/e2e/k6.rs).
import http from "k6/http";

export const options = { iterations: 1 };

export default function () {
  http.get(`${__ENV.BASE_URL}/`);
}

export function handleSummary() {
  return { "../escaped.txt": "out" };
}
