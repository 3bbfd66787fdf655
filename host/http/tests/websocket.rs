//! WebSockets through `HttpClient::websocket`, against servers on 127.0.0.1:
//! a tokio-tungstenite echo server, and raw-socket servers that break the
//! protocol or the client's limits. Every exchange is bounded in time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use http::Method;
use molotov_http::{
    Cidr, EgressPolicy, Error, HopOutcome, HttpClient, Observer, Session, WebSocket, WsClose,
    WsConnect, WsLimits, WsMessage,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use url::Url;

mod common;
use common::{bounded, read_head};

/// The limits of the tests' clients: small, so that breaches come fast.
const LIMITS: WsLimits = WsLimits {
    max_message: common::MAX_BODY,
    max_frame: common::MAX_BODY / 2,
    max_frames_per_second: 2_000,
};

/// Each handshake the client reported: its name, its URL and its outcome.
#[derive(Default)]
struct Handshakes(Mutex<Vec<(String, Option<String>, HopOutcome)>>);

impl Observer for Handshakes {
    fn hop(&self, name: &str, wire: Option<(&Method, &Url)>, outcome: HopOutcome, _: Duration) {
        let url = wire.map(|(_, url)| url.to_string());
        self.0.lock().unwrap().push((name.into(), url, outcome));
    }
}

impl Handshakes {
    fn outcomes(&self) -> Vec<HopOutcome> {
        self.0.lock().unwrap().iter().map(|(_, _, o)| *o).collect()
    }
}

fn client(target: &Url, allowed: &[&str]) -> HttpClient {
    common::client(target, allowed).with_websocket_limits(LIMITS)
}

fn connect(url: &str) -> WsConnect<'_> {
    WsConnect {
        url,
        headers: &[],
        protocols: &[],
        timeout: None,
        name: None,
    }
}

/// An echo server (tokio-tungstenite) that sets a cookie in its handshake
/// response, picks the subprotocol `chat` when offered, and keeps each
/// handshake's request headers.
async fn echo_server() -> (Url, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                #[expect(clippy::result_large_err, reason = "tungstenite's callback type")]
                let callback = |request: &Request, mut response: Response| {
                    let head: Vec<String> = (request.headers().iter())
                        .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap_or_default()))
                        .collect();
                    let offered = request.headers().get("sec-websocket-protocol");
                    if offered.is_some_and(|p| p.to_str().unwrap_or_default().contains("chat")) {
                        let chosen = HeaderValue::from_static("chat");
                        response
                            .headers_mut()
                            .insert("sec-websocket-protocol", chosen);
                    }
                    let cookie = HeaderValue::from_static("ticket=7; Path=/");
                    response.headers_mut().insert("set-cookie", cookie);
                    seen.lock()
                        .unwrap()
                        .push(format!("{} {}", request.uri(), head.join("\n")));
                    Ok(response)
                };
                let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await
                else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    if message.is_text() || message.is_binary() {
                        let _ = socket.send(message).await;
                    }
                }
            });
        }
    });
    (url, heads)
}

#[tokio::test]
async fn an_echo_goes_through_the_session_and_closes_cleanly() {
    let (target, heads) = echo_server().await;
    let (client, handshakes) = (client(&target, &[]), Handshakes::default());
    let mut session = Session::default();
    session.set_header("x-team", "checkout").unwrap();
    let protocols = vec!["v2".to_string(), "chat".to_string()];
    let headers = vec![("x-trace".to_string(), "1".to_string())];
    let request = WsConnect {
        protocols: &protocols,
        headers: &headers,
        ..connect("/echo?room=1")
    };
    let socket = bounded(client.websocket(&mut session, &request, &handshakes))
        .await
        .unwrap();
    assert_eq!(
        (socket.name(), socket.protocol()),
        ("WS /echo", Some("chat"))
    );
    let wait = Duration::from_secs(5);
    bounded(async {
        socket.send_text("hello").await.unwrap();
        assert_eq!(
            socket.receive(wait).await,
            Ok(WsMessage::Text("hello".into()))
        );
        socket.send_binary(&[0, 1, 2]).await.unwrap();
        assert_eq!(
            socket.receive(wait).await,
            Ok(WsMessage::Binary(vec![0, 1, 2].into()))
        );
        socket.ping(b"are you there").await.unwrap();
        assert_eq!(
            socket.receive(wait).await,
            Ok(WsMessage::Pong("are you there".into()))
        );
        let reply = socket.close(1000, "done", wait).await;
        assert_eq!(
            reply,
            Ok(Some(WsClose {
                code: 1000,
                reason: "done".into()
            }))
        );
    })
    .await;
    assert_eq!((socket.messages_sent(), socket.messages_received()), (2, 2));
    assert!(socket.send_text("after").await.is_err());
    // The handshake is a hop; its cookie is kept and goes with the next one.
    let ws_url = format!("ws://{}/echo?room=1", target.authority());
    assert_eq!(
        handshakes.0.lock().unwrap()[0],
        ("WS /echo".into(), Some(ws_url), HopOutcome::Status(101))
    );
    let again = bounded(client.websocket(&mut session, &connect("/echo"), &handshakes)).await;
    drop(again.unwrap());
    let heads = heads.lock().unwrap().clone();
    assert!(heads[0].starts_with("/echo?room=1 "), "{}", heads[0]);
    for sent in ["x-team: checkout", "x-trace: 1", "v2, chat"] {
        assert!(heads[0].contains(sent), "{sent}: {}", heads[0]);
    }
    assert!(!heads[0].contains("ticket=7"), "{}", heads[0]);
    assert!(heads[1].contains("cookie: ticket=7"), "{}", heads[1]);
}

/// A send goes out while a receive waits on the same socket (a browser's
/// `WebSocket` is used so): the echo of the send ends the receive.
#[tokio::test]
async fn a_send_goes_out_while_a_receive_waits() {
    let (target, _) = echo_server().await;
    let client = client(&target, &[]);
    let mut session = Session::default();
    let socket = bounded(client.websocket(&mut session, &connect("/"), &Handshakes::default()))
        .await
        .unwrap();
    let wait = Duration::from_secs(5);
    let (received, sent) = bounded(async {
        tokio::join!(socket.receive(wait), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            socket.send_text("while waiting").await
        })
    })
    .await;
    assert_eq!(sent, Ok(()));
    assert_eq!(received, Ok(WsMessage::Text("while waiting".into())));
}

/// A server that answers the handshake, then writes `frames`, then `again`
/// over and over until the client goes; it never reads past the handshake.
async fn raw_server(frames: Vec<u8>, again: Vec<u8>) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("ws://{}/raw", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let Some(head) = read_head(&mut stream).await else {
            return;
        };
        let key = (head.lines())
            .find_map(|line| {
                line.split_once(": ")
                    .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
            })
            .map(|(_, key)| key)
            .unwrap();
        let accept = derive_accept_key(key.as_bytes());
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
        );
        stream.write_all(answer.as_bytes()).await.unwrap();
        if stream.write_all(&frames).await.is_err() {
            return;
        }
        while !again.is_empty() && stream.write_all(&again).await.is_ok() {}
        std::future::pending::<()>().await;
    });
    url
}

/// Opens a socket to `url` with the tests' limits.
async fn open(url: &Url) -> WebSocket {
    let (client, handshakes) = (client(url, &[]), Handshakes::default());
    let (mut session, request) = (Session::default(), connect(url.as_str()));
    let connecting = client.websocket(&mut session, &request, &handshakes);
    bounded(connecting).await.unwrap()
}

/// What the socket to a server sending `frames` then `again` ends with, and
/// how long it took.
async fn first_error(frames: Vec<u8>, again: Vec<u8>) -> (Error, Duration) {
    let socket = open(&raw_server(frames, again).await).await;
    let started = Instant::now();
    let error = bounded(async {
        loop {
            if let Err(error) = socket.receive(Duration::from_secs(5)).await {
                return error;
            }
        }
    })
    .await;
    // The socket has failed for good.
    assert_eq!(
        socket.receive(Duration::from_secs(1)).await,
        Err(error.clone())
    );
    // Nothing the server sent was held past the limits: the kernel's peak
    // for this whole test process stays far below what an unbounded
    // message would have taken in the time.
    let peak = peak_rss_kib();
    assert!(peak < 512 * 1024, "peak resident memory {peak} KiB");
    (error, started.elapsed())
}

/// This process's peak resident memory, as the kernel counted it (VmHWM).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    (status.lines())
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_frame_claiming_two_to_the_63_bytes_is_refused_on_its_header() {
    let frame = vec![0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
    let (error, _) = first_error(frame, Vec::new()).await;
    assert_eq!(
        error,
        Error::MessageTooLarge {
            limit: LIMITS.max_frame
        }
    );
    assert_eq!(error.kind(), "message-too-large");
}

#[tokio::test]
async fn an_endless_fragmented_message_stops_at_the_message_limit() {
    // A binary message begun, and continuation frames of 1000 bytes forever.
    let mut first = vec![0x02, 126, 0x03, 0xe8];
    first.extend_from_slice(&[b'a'; 1000]);
    let mut next = vec![0x00, 126, 0x03, 0xe8];
    next.extend_from_slice(&[b'b'; 1000]);
    let (error, _) = first_error(first, next).await;
    assert_eq!(
        error,
        Error::MessageTooLarge {
            limit: LIMITS.max_message
        }
    );
}

#[tokio::test]
async fn a_server_pushing_frames_faster_than_the_limit_is_cut_off() {
    // Empty continuation frames: the message never grows, never ends.
    let (error, elapsed) = first_error(vec![0x01, 0], vec![0x00, 0]).await;
    assert_eq!(error, Error::FrameRate { limit: 2_000 });
    assert_eq!(error.kind(), "frame-rate");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn protocol_violations_fail_the_socket_with_the_websocket_kind() {
    for (frame, expected) in [
        (
            vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2],
            "masked frame",
        ),
        (vec![0x81, 2, 0xc3, 0x28], "UTF-8"),
        // A close frame whose payload is one byte: no code can be read.
        (vec![0x88, 1, 0x03], "close"),
        (vec![0x83, 0], "invalid opcode"),
    ] {
        let (error, _) = first_error(frame.clone(), Vec::new()).await;
        assert_eq!(error.kind(), "websocket", "{frame:?}: {error}");
        assert!(
            error.to_string().contains(expected),
            "{frame:?}: {error} lacks {expected}"
        );
    }
}

#[tokio::test]
async fn a_close_without_a_code_is_valid_and_reported_as_such() {
    let url = raw_server(vec![0x88, 0], Vec::new()).await;
    let socket = open(&url).await;
    let message = bounded(socket.receive(Duration::from_secs(5))).await;
    assert_eq!(message, Ok(WsMessage::Close(None)));
    assert_eq!(socket.server_close().map(|c| c.code), Some(1005));
    // Closing after the server did sends nothing and returns its close.
    let close = bounded(socket.close(1000, "", Duration::from_secs(1))).await;
    assert_eq!(close, Ok(None));
}

#[tokio::test]
async fn a_send_to_a_server_that_never_reads_times_out() {
    let url = raw_server(Vec::new(), Vec::new()).await;
    let client = client(&url, &[]);
    let request = WsConnect {
        timeout: Some(Duration::from_millis(300)),
        ..connect(url.as_str())
    };
    let (mut session, handshakes) = (Session::default(), Handshakes::default());
    let opening = client.websocket(&mut session, &request, &handshakes);
    let socket = bounded(opening).await.unwrap();
    let message = vec![b'x'; 1 << 20];
    let error = bounded(async {
        loop {
            if let Err(error) = socket.send_binary(&message).await {
                return error;
            }
        }
    })
    .await;
    assert_eq!(error, Error::Timeout);
    assert_eq!(socket.send_text("x").await, Err(Error::Timeout));
}

#[tokio::test]
async fn a_refused_handshake_is_an_error_with_its_status() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("ws://{}/private", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 4096];
        let _ = stream.read(&mut head).await;
        let answer = "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n";
        let _ = stream.write_all(answer.as_bytes()).await;
    });
    let (client, handshakes) = (client(&url, &[]), Handshakes::default());
    let outcome =
        bounded(client.websocket(&mut Session::default(), &connect(url.as_str()), &handshakes))
            .await;
    let error = outcome.err().unwrap();
    assert_eq!(error.kind(), "websocket");
    assert!(error.to_string().contains("403"), "{error}");
    assert_eq!(handshakes.outcomes(), [HopOutcome::Failed("websocket")]);
}

#[tokio::test]
async fn the_allow_list_and_the_egress_policy_apply_to_websockets() {
    let (target, heads) = echo_server().await;
    let handshakes = Handshakes::default();
    let mut session = Session::default();
    let elsewhere = client(&target, &["example.test"]);
    let outcome = bounded(elsewhere.websocket(&mut session, &connect("/echo"), &handshakes)).await;
    assert!(matches!(outcome.err(), Some(Error::HostNotAllowed(_))));

    let deny = vec!["127.0.0.0/8".parse::<Cidr>().unwrap().0];
    let denying = client(&target, &[])
        .with_egress(EgressPolicy::new(Vec::new(), deny, false, Vec::new()), 10);
    let outcome = bounded(denying.websocket(&mut session, &connect("/echo"), &handshakes)).await;
    assert!(
        matches!(outcome.as_ref().err(), Some(Error::EgressDenied(m)) if m.contains("127.0.0.0/8")),
        "{:?}",
        outcome.err()
    );
    assert_eq!(denying.egress_log().refused_entries().len(), 1);
    assert_eq!(
        handshakes.outcomes(),
        [
            HopOutcome::Failed("host-not-allowed"),
            HopOutcome::Failed("egress-denied")
        ]
    );
    assert!(heads.lock().unwrap().is_empty(), "a handshake reached it");

    // Allowed, the handshake is counted in the manifest.
    let allowed = client(&target, &[]);
    let socket = bounded(allowed.websocket(&mut session, &connect("/echo"), &handshakes)).await;
    drop(socket.unwrap());
    let contacted = allowed.egress_log().contacted();
    assert_eq!((contacted[0].connections, contacted[0].requests), (1, 1));
}

#[tokio::test]
async fn only_websocket_urls_are_accepted() {
    let (target, _) = echo_server().await;
    let (client, handshakes) = (client(&target, &[]), Handshakes::default());
    let absolute_http = target.join("/echo").unwrap().to_string();
    let outcome = bounded(client.websocket(
        &mut Session::default(),
        &connect(&absolute_http),
        &handshakes,
    ))
    .await;
    assert!(matches!(outcome.err(), Some(Error::InvalidUrl(m)) if m.contains("ws, wss")));
    assert_eq!(
        handshakes.0.lock().unwrap()[0],
        (absolute_http, None, HopOutcome::Failed("invalid-url"))
    );
}
