// The seed's hello world: one scenario that reads / and checks the answer.
import { check, env, scenario } from "molotov";

// SERVER_URL (from --env) wins, Molotov-style; otherwise the relative path
// resolves against --target.
const api = () => (env("SERVER_URL") ?? "") + "/";

scenario({}, function my_scenario_one(session) {
  const res = session.get(api()).expectStatus(200);
  check(res.json().result === "OK", `unexpected body: ${res.text()}`);
});
