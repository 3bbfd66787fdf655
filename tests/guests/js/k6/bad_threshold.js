// A k6 script with a typo in a threshold (tests/e2e/k6.rs).
import http from "k6/http";

export const options = { thresholds: { http_req_duration: ["p(95) 500"] } };

export default function () {
  http.get(__ENV.BASE_URL);
}
