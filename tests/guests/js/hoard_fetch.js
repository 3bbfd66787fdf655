// Keeps every response of its own fetch() (wasi:http) unread: the bodies the
// host holds for it count against --max-memory, as a session's do.
import { env, scenario } from "molotov";

scenario({}, async function hoard_fetch() {
  const body = "x".repeat(1 << 20);
  const kept = [];
  for (let i = 0; i < 300; i++) {
    kept.push(await fetch(`${env("SERVER_URL")}/echo`, { method: "POST", body }));
  }
});
