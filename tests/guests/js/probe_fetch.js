// Fetches each URL of PROBES (space-separated) with the standard fetch()
// (wasi:http), as a scenario looking for what it can reach would, and
// prints what came back.
import { env, print, scenario } from "molotov";

scenario({}, async function probe_fetch() {
  for (const url of (env("PROBES") || "").split(" ").filter(Boolean)) {
    try {
      const res = await fetch(url);
      print(`PROBE ${url} -> ${res.status} ${await res.text()}`);
    } catch (error) {
      print(`PROBE ${url} -> error ${error}`);
    }
  }
});
