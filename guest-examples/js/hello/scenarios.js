// The seed's hello world: one scenario that reads / and checks the answer.
// An async function: workers then share an instance (see the README).
import { env, scenario } from "molotov";

// SERVER_URL (from --env) wins, Molotov-style; otherwise the relative path
// resolves against --target.
const api = () => (env("SERVER_URL") ?? "") + "/";

scenario({}, async function my_scenario_one(session) {
  const res = (await session.get(api())).expectStatus(200);
  // The message is made only on failure (a template literal in `check`
  // would decode the body again at every run).
  if (res.json().result !== "OK") throw new Error(`unexpected body: ${res.text()}`);
});
