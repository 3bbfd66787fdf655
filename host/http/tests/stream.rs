//! Streamed responses through `HttpClient::open_stream`, against raw-socket
//! servers on 127.0.0.1 that write their answers in pieces and pause.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Method;
use molotov_http::{
    Cidr, EgressPolicy, Error, HopOutcome, Observer, Session, SseEvent, StreamingResponse,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use url::Url;

use common::{MAX_BODY, bounded, client, get, read_head};

const WAIT: Duration = Duration::from_secs(5);

/// Each request the client reported: its name, its outcome, its time.
#[derive(Default)]
struct Heads(Mutex<Vec<(String, HopOutcome, Duration)>>);

impl Observer for Heads {
    fn hop(&self, name: &str, _: Option<(&Method, &Url)>, outcome: HopOutcome, took: Duration) {
        self.0.lock().unwrap().push((name.into(), outcome, took));
    }
}

/// What a server writes: bytes, or a pause.
enum Step {
    Write(Vec<u8>),
    Pause(Duration),
    /// Writes these bytes again and again until the client goes.
    Endless(Vec<u8>),
}

/// A server answering one request with `steps`, then holding the connection
/// open; returns its URL and the request head it read.
async fn serve(steps: Vec<Step>) -> (Url, Arc<Mutex<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let head = Arc::new(Mutex::new(String::new()));
    let seen = Arc::clone(&head);
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let Some(received) = read_head(&mut stream).await else {
            return;
        };
        *seen.lock().unwrap() = received;
        for step in steps {
            match step {
                Step::Write(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Step::Pause(pause) => tokio::time::sleep(pause).await,
                Step::Endless(bytes) => while stream.write_all(&bytes).await.is_ok() {},
            }
        }
        std::future::pending::<()>().await;
    });
    (url, head)
}

/// A stream of `GET /` from a server answering with `steps`.
async fn open(steps: Vec<Step>) -> StreamingResponse {
    let (target, _) = serve(steps).await;
    let client = client(&target, &[]);
    let (mut session, heads) = (Session::default(), Heads::default());
    let request = get("/");
    bounded(client.open_stream(&mut session, &request, &heads))
        .await
        .unwrap()
}

fn chunked(text: &str) -> Vec<u8> {
    format!("{:x}\r\n{text}\r\n", text.len()).into_bytes()
}

/// The bytes in pieces of `size`, each written apart after a short pause,
/// so that they reach the client in separate reads.
fn in_pieces(bytes: &[u8], size: usize) -> Vec<Step> {
    bytes
        .chunks(size)
        .flat_map(|piece| {
            [
                Step::Pause(Duration::from_millis(2)),
                Step::Write(piece.to_vec()),
            ]
        })
        .collect()
}

#[tokio::test]
async fn events_arrive_as_sent_split_anywhere_and_the_head_is_observed_first() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                transfer-encoding: chunked\r\nset-cookie: seen=1; Path=/\r\n\r\n";
    let mut body = chunked(": keep-alive\r\n\r\n");
    body.extend(chunked(
        "event: greet\r\ndata: hello\r\ndata: world\r\nid: 7\r\n\r\ndata: sec",
    ));
    body.extend(chunked("ond\rretry: 1500\r\r"));
    body.extend(chunked("data: third\n\n"));
    body.extend(b"0\r\n\r\n");
    let mut steps = vec![
        Step::Write(head.as_bytes().to_vec()),
        Step::Pause(Duration::from_millis(300)),
    ];
    steps.extend(in_pieces(&body, 7));
    let (target, request_head) = serve(steps).await;
    let (client, heads) = (client(&target, &[]), Heads::default());
    let mut session = Session::default();
    session.set_header("x-team", "checkout").unwrap();
    let started = Instant::now();
    let mut stream = bounded(client.open_stream(&mut session, &get("/events"), &heads))
        .await
        .unwrap();
    assert_eq!(stream.status, 200);
    assert!(stream.time_to_first_byte < Duration::from_millis(300));
    assert_eq!(
        stream.headers.get("content-type"),
        Some(&b"text/event-stream"[..])
    );
    {
        let heads = heads.0.lock().unwrap();
        assert_eq!(heads.len(), 1, "observed at the head");
        assert_eq!(
            (heads[0].0.as_str(), heads[0].1),
            ("GET /events", HopOutcome::Status(200))
        );
        assert_eq!(heads[0].2, stream.time_to_first_byte);
    }
    let first = bounded(stream.event(WAIT)).await.unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        first,
        SseEvent {
            event: Some("greet".into()),
            data: "hello\nworld".into(),
            id: Some("7".into()),
            retry_ms: None,
        }
    );
    let second = bounded(stream.event(WAIT)).await.unwrap().unwrap();
    assert_eq!(
        (second.data.as_str(), second.retry_ms),
        ("second", Some(1500))
    );
    let third = bounded(stream.event(WAIT)).await.unwrap().unwrap();
    assert_eq!((third.data.as_str(), third.id), ("third", Some("7".into())));
    assert_eq!(bounded(stream.event(WAIT)).await, Ok(None));
    assert!(request_head.lock().unwrap().contains("x-team: checkout"));
    assert_eq!(
        client.cookies(&session, "/"),
        [("seen".to_string(), "1".to_string())]
    );
}

#[tokio::test]
async fn a_length_delimited_body_comes_in_chunks_and_a_timeout_leaves_it_readable() {
    let mut steps = vec![Step::Write(
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n01234".to_vec(),
    )];
    steps.push(Step::Pause(Duration::from_millis(200)));
    steps.push(Step::Write(b"56789".to_vec()));
    let mut stream = open(steps).await;
    let first = bounded(stream.chunk(WAIT)).await.unwrap().unwrap();
    assert_eq!(&first[..], b"01234");
    let early = stream.chunk(Duration::from_millis(50)).await;
    assert_eq!(early, Err(Error::Timeout));
    let second = bounded(stream.chunk(WAIT)).await.unwrap().unwrap();
    assert_eq!(&second[..], b"56789");
    assert_eq!(bounded(stream.chunk(WAIT)).await, Ok(None));
}

#[tokio::test]
async fn a_body_over_the_limit_fails_and_so_does_one_event_over_it() {
    let head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let mut stream = open(vec![
        Step::Write(head.clone()),
        Step::Endless(chunked("data: small\n\n")),
    ])
    .await;
    let error = bounded(async {
        loop {
            if let Err(error) = stream.chunk(WAIT).await {
                return error;
            }
        }
    })
    .await;
    assert_eq!(error, Error::BodyTooLarge { limit: MAX_BODY });
    assert_eq!(stream.chunk(WAIT).await, Err(error));

    // Read by events, the same endless body is fine: each event is small.
    let mut stream = open(vec![
        Step::Write(head.clone()),
        Step::Endless(chunked("data: small\n\n")),
    ])
    .await;
    for _ in 0..2 * MAX_BODY / 13 {
        let event = bounded(stream.event(WAIT)).await.unwrap().unwrap();
        assert_eq!(event.data, "small");
    }
    // But one event that never ends fails at the limit.
    let mut stream = open(vec![
        Step::Write(head),
        Step::Write(chunked("data: ")),
        Step::Endless(chunked("endless")),
    ])
    .await;
    let outcome = bounded(stream.event(WAIT)).await;
    assert_eq!(outcome, Err(Error::BodyTooLarge { limit: MAX_BODY }));
}

#[tokio::test]
async fn a_redirect_is_the_answer() {
    let answer = b"HTTP/1.1 302 Found\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n";
    let (target, _) = serve(vec![Step::Write(answer.to_vec())]).await;
    let (client, heads) = (client(&target, &[]), Heads::default());
    let mut stream = bounded(client.open_stream(&mut Session::default(), &get("/from"), &heads))
        .await
        .unwrap();
    assert_eq!((stream.status, stream.url.path()), (302, "/from"));
    assert_eq!(bounded(stream.chunk(WAIT)).await, Ok(None));
    assert_eq!(heads.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_host_off_the_allow_list_gets_no_stream() {
    let (target, head) = serve(Vec::new()).await;
    let (client, heads) = (client(&target, &["example.test"]), Heads::default());
    let outcome = bounded(client.open_stream(&mut Session::default(), &get("/"), &heads)).await;
    assert!(matches!(outcome.err(), Some(Error::HostNotAllowed(_))));
    assert_eq!(
        heads.0.lock().unwrap()[0].1,
        HopOutcome::Failed("host-not-allowed")
    );
    assert!(head.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_egress_policy_refuses_a_stream_on_its_resolved_address() {
    let (target, head) = serve(Vec::new()).await;
    let deny = vec!["127.0.0.0/8".parse::<Cidr>().unwrap().0];
    let client = client(&target, &[])
        .with_egress(EgressPolicy::new(Vec::new(), deny, false, Vec::new()), 10);
    let heads = Heads::default();
    let outcome = bounded(client.open_stream(&mut Session::default(), &get("/"), &heads)).await;
    assert!(
        matches!(outcome.as_ref().err(), Some(Error::EgressDenied(m)) if m.contains("127.0.0.0/8")),
        "{:?}",
        outcome.err()
    );
    assert_eq!(
        heads.0.lock().unwrap()[0].1,
        HopOutcome::Failed("egress-denied")
    );
    assert_eq!(client.egress_log().refused_entries().len(), 1);
    assert!(
        head.lock().unwrap().is_empty(),
        "a request reached the server"
    );
}
