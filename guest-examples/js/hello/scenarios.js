// The seed's hello world: one scenario that reads / and checks the answer.
// An async function: workers then share an instance (see the README).
import { check, env, scenario } from "molotov";

// SERVER_URL (from --env) wins, Molotov-style; otherwise the relative path
// resolves against --target.
const api = () => (env("SERVER_URL") ?? "") + "/";

scenario({}, async function my_scenario_one(session) {
  const res = (await session.get(api())).expectStatus(200);
  check(res.json().result === "OK", `unexpected body: ${res.text()}`);
});
