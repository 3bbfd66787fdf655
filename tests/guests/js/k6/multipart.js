// A k6 script for httpbin.org (tests/e2e/k6.rs runs it against a local
// httpbin): a multipart body with a file and a field, the userAgent option
// on every request, a 404 the script expects, and cookies the script sets
// and deletes in the VU's jar.
import http from "k6/http";
import { check } from "k6";

export const options = { iterations: 2, userAgent: "molotov-k6-test/1.0" };

const report = open("./multipart.txt");

http.setResponseCallback(http.expectedStatuses({ min: 200, max: 299 }, 404));

export default function () {
  const res = http.post("http://httpbin.org/post", {
    field: "a value",
    upload: http.file(report, "report.txt", "text/plain"),
  });
  const echoed = res.json();
  check(res, {
    "file received": () => echoed.files.upload === report,
    "field received": () => echoed.form.field === "a value",
    "multipart": () => echoed.headers["Content-Type"].startsWith("multipart/form-data; boundary="),
    "user agent": () => echoed.headers["User-Agent"] === "molotov-k6-test/1.0",
  });
  const own = http.get("http://httpbin.org/user-agent", { headers: { "User-Agent": "mine" } });
  check(own, { "own user agent wins": (r) => r.json("user-agent") === "mine" });
  http.get("http://httpbin.org/status/404");
  const jar = http.cookieJar();
  jar.set("http://httpbin.org/cookies", "flavour", "oat", { path: "/" });
  const kept = http.get("http://httpbin.org/cookies").json("cookies");
  jar.delete("http://httpbin.org/cookies", "flavour");
  const left = http.get("http://httpbin.org/cookies").json("cookies");
  check(null, {
    "cookie set": () => kept.flavour === "oat",
    "cookie deleted": () => left.flavour === undefined,
  });
}
