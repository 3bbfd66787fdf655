// The standard fetch() API: the host performs, measures and reports these
// requests exactly like session requests.
import { check, env, scenario } from "molotov";

scenario({}, async function with_fetch() {
  // fetch() needs an absolute URL.
  const res = await fetch(`${env("SERVER_URL")}/`);
  check(res.status === 200, `status ${res.status}`);
  const body = await res.json();
  check(body.result === "OK", `unexpected body: ${JSON.stringify(body)}`);
});
