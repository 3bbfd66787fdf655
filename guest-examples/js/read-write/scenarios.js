// The seed's pair: 90% of reads, 10% of writes.
import { check, env, scenario } from "molotov";

const api = () => (env("SERVER_URL") ?? "") + "/";

scenario({ weight: 90 }, function my_scenario_one(session) {
  const res = session.get(api()).expectStatus(200);
  check(res.json().result === "OK", `unexpected body: ${res.text()}`);
});

scenario({ weight: 10 }, function scenario_two(session) {
  session.postJson(api(), { OK: 1 }).expectStatus(200);
});
