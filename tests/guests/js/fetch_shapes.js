// The standard fetch() in the shapes scenarios use, each checked against
// what the web gives: bodies and their content types, headers, redirects,
// a body-less status, HEAD, cookies and a refused connection. The same on
// a shared instance (sent as the instance session's request, SHARED set)
// and on an instance of its own (the runtime's client).
import { check, env, scenario } from "molotov";

const same = (got, want, what) => check(got === want, `${what}: ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);

scenario({}, async function fetch_shapes() {
  const base = env("SERVER_URL");

  let res = await fetch(`${base}/echo`, { method: "POST", body: "plain text" });
  same(res.status, 200, "echo status");
  same(res.ok, true, "ok");
  same(res.headers.get("content-type"), "text/plain;charset=UTF-8", "a string's type");
  same(await res.text(), "plain text", "a string's echo");

  res = await fetch(new URL(`${base}/echo`), { method: "post", body: new URLSearchParams({ a: "1", b: "2" }) });
  same(res.headers.get("content-type"), "application/x-www-form-urlencoded;charset=UTF-8", "a form's type");
  same(await res.text(), "a=1&b=2", "a form's echo");

  const bytes = new Uint8Array([0, 1, 2, 254, 255]);
  res = await fetch(`${base}/echo`, { method: "PUT", body: bytes.subarray(1), headers: { "content-type": "application/x-bytes" } });
  same(res.headers.get("content-type"), "application/x-bytes", "the type given");
  same([...new Uint8Array(await res.arrayBuffer())].join(), "1,2,254,255", "bytes' echo");

  res = await fetch(`${base}/echo`, { method: "POST", body: "read twice" });
  // The runtime's Response has no clone().
  if (env("SHARED")) {
    same(await res.clone().text(), "read twice", "a clone's text");
    same((await res.clone().blob()).size, 10, "a blob's size");
  }
  const reader = res.body.getReader();
  let streamed = "";
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    streamed += new TextDecoder().decode(part.value);
  }
  same(streamed, "read twice", "the body's stream");
  // The runtime's Response does not count a read through its stream.
  if (env("SHARED")) {
    same(res.bodyUsed, true, "used once read");
    let twice = null;
    await res.text().catch((error) => (twice = error));
    check(twice instanceof TypeError, `a second read: ${twice}`);
  }

  res = await fetch(`${base}/headers`, { headers: new Headers([["X-Team", "checkout"]]) });
  same((await res.json())["x-team"], "checkout", "a header sent");

  res = await fetch(`${base}/redirect?to=/headers`);
  same(res.status, 200, "redirected status");
  // The runtime's client sees only the last hop's answer (the host follows).
  if (env("SHARED")) {
    same(res.redirected, true, "redirected");
    same(res.url, `${base}/headers`, "the final URL");
  }

  res = await fetch(`${base}/status/204`);
  same(res.status, 204, "no content");
  same(res.body, null, "no body");
  same(await res.text(), "", "no text");

  res = await fetch(`${base}/`, { method: "HEAD" });
  same(res.status, 200, "HEAD");
  same(await res.text(), "", "HEAD has no body");

  await fetch(`${base}/cookies/set?flavour=oat`);
  res = await fetch(`${base}/cookies`);
  same((await res.json()).flavour, "oat", "a cookie kept");

  let refused = null;
  try {
    await fetch("http://127.0.0.1:1/");
  } catch (error) {
    refused = error;
  }
  check(refused instanceof TypeError, `a refused connection: ${refused}`);
});
