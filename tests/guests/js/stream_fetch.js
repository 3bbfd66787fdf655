// Reads server-sent events with the standard fetch(): a request that
// accepts `text/event-stream` gets its body as it comes, so a stream that
// would not end for an hour is read three events in, then dropped.
import { check, env, scenario } from "molotov";

scenario({}, async function stream_fetch() {
  const url = `${env("SERVER_URL")}/sse?count=200000&every_ms=20`;
  const res = await fetch(url, { headers: { accept: "text/event-stream" } });
  check(res.status === 200, `status ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (text.split("\n\n").length <= 3) {
    const { value, done } = await reader.read();
    check(!done, `the stream ended after ${JSON.stringify(text)}`);
    text += decoder.decode(value, { stream: true });
  }
  check(text.startsWith("id: "), `not events: ${JSON.stringify(text)}`);
  await reader.cancel();
});
