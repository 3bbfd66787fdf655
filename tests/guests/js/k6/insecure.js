// A k6 script for a target with a self-signed certificate
// (tests/e2e/k6.rs): insecureSkipTLSVerify lets it through.
import http from "k6/http";
import { check } from "k6";

export const options = { iterations: 2, insecureSkipTLSVerify: true };

export default function () {
  check(http.get(__ENV.URL), { "answered over TLS": (r) => r.status === 200 });
}
