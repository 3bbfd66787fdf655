// A k6 script against httpbin.org, as k6's users write them (tests/e2e/k6.rs
// runs it unchanged against a local httpbin, with --connect-to): verbs,
// forms and JSON, basic auth, cookies, headers, statuses, a batch, tags,
// thresholds on a request's URL, on checks and on custom metrics.
import http from "k6/http";
import { check, group } from "k6";
import encoding from "k6/encoding";
import { Counter, Trend } from "k6/metrics";

export const options = {
  vus: 2,
  iterations: 6,
  thresholds: {
    "http_req_duration{name:http://httpbin.org/post}": ["max<2000"],
    // A 418 of 14 requests per iteration (the 401 is expected by its own
    // responseCallback): 7.14% failed, as k6 counts them.
    http_req_failed: ["rate<0.15"],
    checks: ["rate==1.0"],
    verbs_checked: ["count==30"],
    json_size: ["avg>0"],
  },
};

const verbsChecked = new Counter("verbs_checked");
const jsonSize = new Trend("json_size");

export default function () {
  group("verbs", () => {
    const got = http.get("http://httpbin.org/get?verb=get");
    const posted = http.post("http://httpbin.org/post", { verb: "post" });
    const json = { headers: { "Content-Type": "application/json" } };
    const put = http.put("http://httpbin.org/put", JSON.stringify({ verb: "put" }), json);
    const patched = http.patch("http://httpbin.org/patch", JSON.stringify({ verb: "patch" }), json);
    const deleted = http.del("http://httpbin.org/delete?verb=delete");
    for (const [res, verb, where] of [
      [got, "get", "args"], [posted, "post", "form"], [put, "put", "json"],
      [patched, "patch", "json"], [deleted, "delete", "args"],
    ]) {
      const ok = check(res, {
        [`${verb} is 200`]: (r) => r.status === 200,
        [`${verb} echoes its verb`]: (r) => r.json(`${where}.verb`) === verb,
      });
      if (ok) verbsChecked.add(1);
      jsonSize.add(res.body.length);
    }
  });

  group("auth", () => {
    const inUrl = http.get("http://user:passwd@httpbin.org/basic-auth/user/passwd");
    const inHeader = http.get("http://httpbin.org/basic-auth/user/passwd", {
      headers: { Authorization: `Basic ${encoding.b64encode("user:passwd")}` },
    });
    const wrong = http.get("http://user:nope@httpbin.org/basic-auth/user/passwd", {
      responseCallback: http.expectedStatuses(401),
    });
    check(inUrl, { "auth in the URL": (r) => r.status === 200 && r.json().user === "user" });
    check(inHeader, { "auth in a header": (r) => r.json().authenticated === true });
    check(wrong, { "wrong password is 401": (r) => r.status === 401 });
  });

  group("cookies and headers", () => {
    const sent = http.get("http://httpbin.org/cookies", { cookies: { flavour: "oat" } });
    check(sent, { "request cookie arrives": (r) => r.json().cookies.flavour === "oat" });
    http.get("http://httpbin.org/response-headers?Set-Cookie=session%3Dabc");
    const jar = http.cookieJar().cookiesForURL("http://httpbin.org/");
    check(jar, { "jar keeps the session": (j) => j.session !== undefined && j.session[0] === "abc" });
    const headers = http.get("http://httpbin.org/headers", { headers: { "X-Test": "k6" }, tags: { name: "headers" } });
    check(headers, { "custom header arrives": (r) => r.json().headers["X-Test"] === "k6" });
  });

  const [teapot, bytes, uuid] = http.batch([
    ["GET", "http://httpbin.org/status/418"],
    ["GET", "http://httpbin.org/bytes/16", null, { responseType: "binary" }],
    { method: "GET", url: "http://httpbin.org/uuid" },
  ]);
  check(teapot, { "teapot": (r) => r.status === 418 });
  check(bytes, { "binary body": (r) => r.body.byteLength === 16 });
  check(uuid, { "uuid": (r) => /^[0-9a-f-]{36}$/.test(r.json("uuid")) });
}
