//! The WebSocket benchmark's scenarios in Rust (bench/websockets.py), the
//! same as `molotov_ws.js` and `k6_ws.js`: `echo` sends a message and
//! answers each echo with the next, 100 times on one socket, then closes;
//! `hold` keeps a socket open for HOLD_MS (memory per open socket).

#[molotov::scenarios]
mod bench {
    use molotov::prelude::*;

    const MESSAGES: usize = 100;

    #[scenario(weight = 1)]
    async fn echo(s: &AsyncSession) -> Result {
        let ws = s.websocket("/ws/echo").await?;
        let mut message = "x".repeat(32);
        for _ in 0..MESSAGES {
            ws.send_text(&message).await?;
            message = ws.receive_text().await?;
        }
        ws.close().await?;
        Ok(())
    }

    #[scenario(weight = 0)]
    async fn hold(s: &AsyncSession) -> Result {
        let ws = s.websocket("/ws/echo").await?;
        let hold_ms = molotov::env("HOLD_MS").and_then(|ms| ms.parse().ok());
        molotov::sleep_async(hold_ms.unwrap_or(3000)).await;
        ws.close().await?;
        Ok(())
    }
}
