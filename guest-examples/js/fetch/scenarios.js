// The standard fetch() API: the host performs, measures and reports these
// requests exactly like session requests.
import { env, scenario } from "molotov";

const api = () => `${env("SERVER_URL")}/`;

scenario({}, async function with_fetch() {
  // fetch() needs an absolute URL.
  const res = await fetch(api());
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  // The message is made only on failure, as in the hello example.
  const body = await res.json();
  if (body.result !== "OK") throw new Error(`unexpected body: ${JSON.stringify(body)}`);
});
