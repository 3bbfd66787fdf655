//! The built-in target's long-lived routes, checked with clients no one here
//! wrote: Python's `websockets` for the sockets, the standard library's
//! HTTP client for server-sent events.

use std::process::Command;

use serde_json::Value;

use crate::support::{Server, count};

/// Runs `script` (Python) with the target's `host:port` as its argument;
/// returns what it printed.
fn python(server: &Server, script: &str) -> String {
    let address = server.url.trim_start_matches("http://");
    let out = Command::new("timeout")
        .args(["30", "python3", "-c", script, address])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn stats(server: &Server) -> Value {
    let body = python(
        server,
        "import sys, urllib.request; print(urllib.request.urlopen(f'http://{sys.argv[1]}/stats').read().decode())",
    );
    serde_json::from_str(&body).expect("JSON")
}

#[test]
fn the_echo_socket_returns_every_message_and_counts_them() {
    let server = Server::start();
    let printed = python(
        &server,
        r#"
import asyncio, sys
from websockets.asyncio.client import connect
async def main():
    async with connect(f"ws://{sys.argv[1]}/ws/echo", subprotocols=["chat"]) as ws:
        print(ws.subprotocol)
        for i in range(20):
            await ws.send(f"text {i}")
            assert await ws.recv() == f"text {i}"
        await ws.send(bytes(range(256)))
        assert await ws.recv() == bytes(range(256))
    print(ws.close_code)
asyncio.run(main())
"#,
    );
    assert_eq!(printed, "chat\n1000\n");
    let stats = stats(&server);
    assert_eq!(count(&stats["ws_received"]), 21);
    assert_eq!(count(&stats["ws_sent"]), 21);
}

#[test]
fn the_push_socket_sends_its_count_then_closes_normally() {
    let server = Server::start();
    let printed = python(
        &server,
        r#"
import asyncio, sys, time
from websockets.asyncio.client import connect
async def main():
    started = time.monotonic()
    async with connect(f"ws://{sys.argv[1]}/ws/push?rate=50&count=25") as ws:
        seqs = [int(m.split(":")[1].rstrip("}")) async for m in ws]
    print(seqs == list(range(25)), ws.close_code, ws.close_reason, time.monotonic() - started >= 0.45)
asyncio.run(main())
"#,
    );
    assert_eq!(printed, "True 1000 done True\n");
    assert_eq!(count(&stats(&server)["ws_sent"]), 25);
}

#[test]
fn the_event_stream_waits_then_sends_its_events_as_they_come() {
    let server = Server::start();
    let printed = python(
        &server,
        r#"
import sys, time, urllib.request
started = time.monotonic()
stream = urllib.request.urlopen(f"http://{sys.argv[1]}/sse?count=4&every_ms=50&delay_ms=300")
assert stream.headers["content-type"] == "text/event-stream"
first, ids = None, []
for line in stream:
    if line.startswith(b"id: "):
        first = first or time.monotonic() - started
        ids.append(int(line[4:]))
print(ids, first >= 0.3)
"#,
    );
    assert_eq!(printed, "[0, 1, 2, 3] True\n");
    assert_eq!(count(&stats(&server)["sse_events"]), 4);
}
