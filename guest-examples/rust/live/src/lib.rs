//! WebSockets and server-sent events against the built-in target: an echo
//! socket, a socket the server pushes to, and an event stream. The host
//! reports the handshakes and stream heads as requests (`WS /ws/echo`,
//! `GET /sse`) and the messages, events and gaps as metrics under their names.
//! `async fn`s: workers share an instance, and wait on their sockets and
//! streams without holding up the others.

#[molotov::scenarios]
mod live {
    use molotov::prelude::*;

    /// Sends three messages and checks that each comes back.
    #[scenario(weight = 40)]
    async fn echo(s: &AsyncSession) -> Result {
        let ws = s.websocket("/ws/echo").await?;
        for n in 0..3 {
            let sent = format!("hello {n}");
            ws.send_text(&sent).await?;
            let echoed = ws.receive_text().await?;
            ensure!(echoed == sent, "sent {sent:?}, got {echoed:?}");
        }
        ws.close().await?;
        Ok(())
    }

    /// Reads what the server pushes until it closes.
    #[scenario(weight = 30)]
    async fn push(s: &AsyncSession) -> Result {
        let ws = s.websocket("/ws/push?rate=1000&count=5").await?;
        let mut texts = 0;
        loop {
            match ws.receive().await? {
                Message::Text(_) => texts += 1,
                Message::Close(_) => break,
                _ => {}
            }
        }
        ensure!(texts == 5, "the server pushed 5 messages, {texts} came");
        Ok(())
    }

    /// Reads a stream of server-sent events to its end. With `--env
    /// SSE_DELAY_MS=N` the server waits N ms before its first event, which
    /// shows in the `GET /sse first-event` timing.
    #[scenario(weight = 30)]
    async fn events(s: &AsyncSession) -> Result {
        let delay = molotov::env("SSE_DELAY_MS").unwrap_or_else(|| "0".into());
        let url = format!("/sse?count=4&every_ms=1&delay_ms={delay}");
        let stream = s.stream(Request::new("GET", &url)).await?;
        ensure!(stream.status() == 200, "status {}", stream.status());
        let mut events = 0;
        while let Some(event) = stream.next_event().await? {
            ensure!(!event.data.is_empty(), "an event without data");
            events += 1;
        }
        ensure!(events == 4, "the server sent 4 events, {events} came");
        Ok(())
    }
}
