// A k6 script whose init context throws (tests/e2e/k6.rs).
import http from "k6/http";

const config = JSON.parse(__ENV.CONFIG ?? "not json");

export default function () {
  http.get(config.url);
}
