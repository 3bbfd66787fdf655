//! The HTTP client on its own, against raw-socket servers on 127.0.0.1: no
//! component, no runtime, just `HttpClient::send` and what it observed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use molotov_http::{
    Cidr, EgressPolicy, Error, HopOutcome, HopPhases, HttpClient, Observer, Request, Session,
    SessionOptions, SharedSession,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

mod common;
use common::{MAX_BODY, client, get};

/// Every hop the client reported: its name, the path it went to (none when
/// refused before the wire), and its outcome.
#[derive(Default)]
struct Hops(Mutex<Vec<(String, Option<String>, HopOutcome)>>);

impl Observer for Hops {
    fn hop(&self, name: &str, wire: Option<(&Method, &Url)>, outcome: HopOutcome, _: Duration) {
        let path = wire.map(|(_, url)| url.path().to_string());
        self.0.lock().unwrap().push((name.into(), path, outcome));
    }
}

impl Hops {
    fn taken(&self) -> Vec<(String, Option<String>, HopOutcome)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// What the server does with one request, given its head.
enum Answer {
    Send(String),
    /// Answers, then closes the connection.
    SendAndClose(String),
    /// Answers after a while.
    Later(Duration, String),
    /// Never answers.
    Hang,
    /// Writes the first text, then the second again and again, until the
    /// client goes away.
    Endless(String, String),
}

/// A server on 127.0.0.1 that answers each request by `answer`; returns its
/// address and the heads it received, one list per connection.
async fn serve(
    answer: impl Fn(&str) -> Answer + Send + Sync + 'static,
) -> (Url, Arc<Mutex<Vec<Vec<String>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let connections = Arc::new(Mutex::new(Vec::new()));
    let (seen, answer) = (Arc::clone(&connections), Arc::new(answer));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let index = {
                let mut seen = seen.lock().unwrap();
                seen.push(Vec::new());
                seen.len() - 1
            };
            let (seen, answer) = (Arc::clone(&seen), Arc::clone(&answer));
            tokio::spawn(async move { connection(stream, index, &seen, &*answer).await });
        }
    });
    (url, connections)
}

async fn connection(
    mut stream: TcpStream,
    index: usize,
    seen: &Mutex<Vec<Vec<String>>>,
    answer: &(dyn Fn(&str) -> Answer + Send + Sync),
) {
    let mut buffer = Vec::new();
    loop {
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
        buffer.drain(..end + 4);
        seen.lock().unwrap()[index].push(head.clone());
        match answer(&head) {
            Answer::Send(response) => stream.write_all(response.as_bytes()).await.unwrap(),
            Answer::SendAndClose(response) => {
                stream.write_all(response.as_bytes()).await.unwrap();
                return;
            }
            Answer::Later(delay, response) => {
                tokio::time::sleep(delay).await;
                stream.write_all(response.as_bytes()).await.unwrap();
            }
            Answer::Hang => std::future::pending().await,
            Answer::Endless(start, again) => {
                stream.write_all(start.as_bytes()).await.unwrap();
                while stream.write_all(again.as_bytes()).await.is_ok() {}
                return;
            }
        }
    }
}

fn ok(body: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}

/// Concurrent requests on one session each take a connection of its pool,
/// at most `--max-connections` per worker it stands for (the others wait
/// for one), and the pool keeps them for the next requests.
#[tokio::test]
async fn concurrent_requests_on_a_session_share_a_bounded_pool_of_connections() {
    let (target, connections) =
        serve(|_| Answer::Later(Duration::from_millis(50), ok("hi", ""))).await;
    let client = client(&target, &[]).with_max_connections(3);
    let hops = Hops::default();
    for (session, pool) in [
        (SharedSession::default(), 3),
        (
            Arc::new(tokio::sync::Mutex::new(Session::standing_for(2))),
            6,
        ),
    ] {
        connections.lock().unwrap().clear();
        for _round in 0..2 {
            let request = get("/");
            let sends = (0..10).map(|_| client.send(&session, &request, &hops));
            for outcome in futures_util::future::join_all(sends).await {
                assert_eq!(outcome.unwrap().status, 200);
            }
        }
        let seen = connections.lock().unwrap();
        assert_eq!(seen.len(), pool, "connections opened");
        assert_eq!(seen.iter().map(Vec::len).sum::<usize>(), 20);
    }
}

#[tokio::test]
async fn redirects_are_followed_and_each_hop_is_observed_under_its_own_name() {
    let (target, _) = serve(|head| {
        if head.starts_with("GET /from ") {
            Answer::Send("HTTP/1.1 302 Found\r\nlocation: /to\r\ncontent-length: 0\r\n\r\n".into())
        } else {
            Answer::Send(ok("arrived", ""))
        }
    })
    .await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let session = SharedSession::default();
    let response = client.send(&session, &get("/from"), &hops).await.unwrap();
    assert_eq!(
        (response.status, &response.body[..]),
        (200, &b"arrived"[..])
    );
    assert_eq!(response.url.path(), "/to");
    assert_eq!(
        hops.taken(),
        [
            (
                "GET /from".into(),
                Some("/from".into()),
                HopOutcome::Status(302)
            ),
            (
                "GET /to".into(),
                Some("/to".into()),
                HopOutcome::Status(200)
            ),
        ]
    );
    // A request of its own may turn following off: the redirect is the answer.
    let request = Request {
        max_redirects: Some(0),
        ..get("/from")
    };
    let response = client.send(&session, &request, &hops).await.unwrap();
    assert_eq!((response.status, response.url.path()), (302, "/from"));
}

#[tokio::test]
async fn a_connection_is_kept_alive_and_one_the_server_closed_is_not_reused() {
    let (target, connections) = serve(|head| {
        if head.starts_with("GET /last ") {
            Answer::SendAndClose(ok("bye", ""))
        } else {
            Answer::Send(ok("hi", ""))
        }
    })
    .await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let session = SharedSession::default();
    for path in ["/one", "/two", "/last", "/again"] {
        let response = client.send(&session, &get(path), &hops).await;
        assert_eq!(response.map(|r| r.status), Ok(200), "{path}");
    }
    let per_connection: Vec<usize> = connections.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(per_connection, [3, 1]);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_at_the_request_timeout() {
    let (target, _) = serve(|_| Answer::Hang).await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let request = Request {
        timeout: Some(Duration::from_millis(100)),
        ..get("/slow")
    };
    let started = std::time::Instant::now();
    let outcome = client
        .send(&SharedSession::default(), &request, &hops)
        .await;
    assert_eq!(outcome.err(), Some(Error::Timeout));
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(hops.taken()[0].2, HopOutcome::Failed("timeout"));
}

#[tokio::test]
async fn a_host_off_the_allow_list_is_refused_before_any_connection() {
    let (target, connections) = serve(|_| Answer::Send(ok("", ""))).await;
    let (client, hops) = (client(&target, &["example.test"]), Hops::default());
    let outcome = client
        .send(&SharedSession::default(), &get("/"), &hops)
        .await;
    assert!(matches!(outcome, Err(Error::HostNotAllowed(_))));
    assert!(connections.lock().unwrap().is_empty());
    assert_eq!(hops.taken()[0].2, HopOutcome::Failed("host-not-allowed"));
}

#[tokio::test]
async fn cookies_a_server_sets_go_back_to_it_with_the_sessions_headers() {
    let (target, connections) =
        serve(|_| Answer::Send(ok("", "set-cookie: id=42; Path=/\r\n"))).await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let session = SharedSession::default();
    session
        .lock()
        .await
        .set_header("x-team", "checkout")
        .unwrap();
    for _ in 0..2 {
        client.send(&session, &get("/"), &hops).await.unwrap();
    }
    let heads = connections.lock().unwrap()[0].clone();
    assert!(!heads[0].contains("cookie: id=42"), "{}", heads[0]);
    assert!(heads[1].contains("cookie: id=42"), "{}", heads[1]);
    assert!(
        heads.iter().all(|h| h.contains("x-team: checkout")),
        "{heads:?}"
    );
}

#[tokio::test]
async fn a_bad_url_is_an_error_observed_off_the_wire() {
    let tls = molotov_http::tls_config(&[]).unwrap();
    let client = HttpClient::new(None, Vec::new(), Duration::from_secs(1), MAX_BODY, tls);
    let hops = Hops::default();
    let outcome = client
        .send(&SharedSession::default(), &get("/relative"), &hops)
        .await;
    assert!(matches!(outcome.err(), Some(Error::InvalidUrl(_))));
    assert_eq!(
        hops.taken(),
        [("/relative".into(), None, HopOutcome::Failed("invalid-url"))]
    );
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn a_scenario_cannot_frame_its_own_request() {
    let (target, connections) = serve(|_| Answer::Send(ok("", ""))).await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let session = SharedSession::default();
    // The body would be read as a second request if this length were sent.
    let smuggled = b"GET /admin HTTP/1.1\r\nhost: x\r\n\r\n";
    for header in [
        "Content-Length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
    ] {
        let pairs = headers(&[(header, "0")]);
        let request = Request {
            method: "POST",
            headers: &pairs,
            body: Some(smuggled),
            ..get("/")
        };
        let outcome = client.send(&session, &request, &hops).await;
        assert!(
            matches!(outcome.err(), Some(Error::InvalidRequest(m)) if m.contains("the client's to write")),
            "{header}"
        );
        assert!(
            session.lock().await.set_header(header, "chunked").is_err(),
            "{header}"
        );
    }
    assert!(connections.lock().unwrap().is_empty());
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_origin() {
    let (elsewhere, elsewhere_heads) = serve(|_| Answer::Send(ok("", ""))).await;
    let away = elsewhere.join("/landed").unwrap().to_string();
    let (target, heads) = serve(move |head| {
        if head.starts_with("GET /away ") {
            Answer::Send(format!(
                "HTTP/1.1 302 Found\r\nlocation: {away}\r\ncontent-length: 0\r\n\r\n"
            ))
        } else if head.starts_with("GET /near ") {
            Answer::Send(
                "HTTP/1.1 307 Temporary\r\nlocation: /here\r\ncontent-length: 0\r\n\r\n".into(),
            )
        } else {
            Answer::Send(ok("", ""))
        }
    })
    .await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let session = SharedSession::default();
    session
        .lock()
        .await
        .set_header("Proxy-Authorization", "Basic cHJveHk=")
        .unwrap();
    let pairs = headers(&[
        ("authorization", "Bearer secret"),
        ("cookie", "session=secret"),
        ("x-api-key", "team-key"),
    ]);
    for path in ["/near", "/away"] {
        let request = Request {
            headers: &pairs,
            ..get(path)
        };
        client.send(&session, &request, &hops).await.unwrap();
    }
    let near = heads.lock().unwrap()[0].clone();
    let here = near.iter().find(|h| h.starts_with("GET /here ")).unwrap();
    for kept in [
        "authorization: Bearer secret",
        "cookie: session=secret",
        "proxy-authorization",
    ] {
        assert!(here.contains(kept), "same origin keeps {kept}: {here}");
    }
    let landed = &elsewhere_heads.lock().unwrap()[0][0];
    assert!(landed.starts_with("GET /landed "), "{landed}");
    assert!(landed.contains("x-api-key: team-key"), "{landed}");
    for dropped in ["authorization", "cookie", "secret", "proxy-authorization"] {
        assert!(
            !landed.contains(dropped),
            "{dropped} went elsewhere: {landed}"
        );
    }
}

#[tokio::test]
async fn a_redirect_out_of_http_is_an_invalid_url() {
    let (target, connections) = serve(|_| {
        Answer::Send(
            "HTTP/1.1 301 Moved\r\nlocation: ftp://127.0.0.1/file\r\ncontent-length: 0\r\n\r\n"
                .into(),
        )
    })
    .await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let outcome = client
        .send(&SharedSession::default(), &get("/"), &hops)
        .await;
    assert!(matches!(outcome.err(), Some(Error::InvalidUrl(m)) if m.contains("ftp://")));
    let hops = hops.taken();
    assert_eq!(hops.len(), 1, "the 301 only: {hops:?}");
    assert_eq!(hops[0].2, HopOutcome::Failed("invalid-url"));
    assert_eq!(connections.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_server_cannot_make_the_client_hold_more_than_its_limits() {
    let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
    let (target, _) = serve(move |head| {
        let path = head.split(' ').nth(1).unwrap_or_default();
        match path {
            "/claims-a-gigabyte" => {
                Answer::Send("HTTP/1.1 200 OK\r\ncontent-length: 1073741824\r\n\r\n".into())
            }
            "/endless-chunks" => Answer::Endless(
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".into(),
                chunk.clone(),
            ),
            "/until-close" => Answer::Endless(
                "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".into(),
                "y".repeat(4096),
            ),
            "/endless-interim" => {
                Answer::Endless(String::new(), "HTTP/1.1 103 Early Hints\r\n\r\n".into())
            }
            "/endless-trailers" => Answer::Endless(
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n".into(),
                "x-trailer: again\r\n".into(),
            ),
            "/endless-chunk-size" => Answer::Endless(
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;".into(),
                "extension".into(),
            ),
            _ => Answer::Send(ok("fine", "")),
        }
    })
    .await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let session = SharedSession::default();
    for path in ["/claims-a-gigabyte", "/endless-chunks", "/until-close"] {
        let outcome = client.send(&session, &get(path), &hops).await;
        assert_eq!(
            outcome.err(),
            Some(Error::BodyTooLarge { limit: MAX_BODY }),
            "{path}"
        );
        assert_eq!(
            hops.taken()[0].2,
            HopOutcome::Failed("body-too-large"),
            "{path}"
        );
    }
    for (path, expected) in [
        ("/endless-interim", "interim responses"),
        ("/endless-trailers", "trailers too large"),
        ("/endless-chunk-size", "chunk size line too long"),
    ] {
        let outcome = client.send(&session, &get(path), &hops).await;
        assert!(
            matches!(outcome.as_ref().err(), Some(Error::Protocol(m)) if m.contains(expected)),
            "{path}: {:?}",
            outcome.err()
        );
    }
    // The session goes on, on a new connection.
    let fine = client.send(&session, &get("/fine"), &hops).await.unwrap();
    assert_eq!(&fine.body[..], b"fine");
}

#[tokio::test]
async fn a_redirect_loop_fails_on_its_last_hop_and_following_off_returns_the_redirect() {
    let (target, connections) = serve(|_| {
        Answer::Send("HTTP/1.1 302 Found\r\nlocation: /again\r\ncontent-length: 0\r\n\r\n".into())
    })
    .await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let session = SharedSession::default();
    let follow_two = SessionOptions {
        max_redirects: Some(2),
        ..SessionOptions::default()
    };
    session.lock().await.apply(&follow_two).unwrap();
    let outcome = client.send(&session, &get("/loop"), &hops).await;
    assert_eq!(outcome.err(), Some(Error::TooManyRedirects));
    let outcomes: Vec<HopOutcome> = hops.taken().into_iter().map(|(_, _, o)| o).collect();
    assert_eq!(
        outcomes,
        [
            HopOutcome::Status(302),
            HopOutcome::Status(302),
            HopOutcome::Failed("too-many-redirects"),
        ]
    );
    assert_eq!(
        connections.lock().unwrap()[0].len(),
        3,
        "as many as observed"
    );

    let off = SessionOptions {
        max_redirects: Some(0),
        ..SessionOptions::default()
    };
    session.lock().await.apply(&off).unwrap();
    let response = client.send(&session, &get("/loop"), &hops).await.unwrap();
    assert_eq!((response.status, response.url.path()), (302, "/loop"));
}

#[tokio::test]
async fn a_status_http_does_not_define_is_a_protocol_error() {
    let (target, _) = serve(|head| {
        let status = head
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .trim_start_matches('/');
        Answer::Send(format!(
            "HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\n\r\n"
        ))
    })
    .await;
    let (client, hops) = (client(&target, &[]), Hops::default());
    let session = SharedSession::default();
    for (status, expected) in [
        ("600", "outside 100-599"),
        ("999", "outside 100-599"),
        ("101", "did not ask to upgrade"),
    ] {
        let outcome = client
            .send(&session, &get(&format!("/{status}")), &hops)
            .await;
        assert!(
            matches!(outcome.as_ref().err(), Some(Error::Protocol(m)) if m.contains(expected)),
            "{status}: {:?}",
            outcome.err()
        );
    }
    let fine = client.send(&session, &get("/599"), &hops).await;
    assert_eq!(fine.map(|r| r.status).ok(), Some(599));
}

#[tokio::test]
async fn a_denied_address_gets_no_connection_and_the_manifest_says_so() {
    let (target, connections) = serve(|_| Answer::Send(ok("fine", ""))).await;
    let deny = vec!["127.0.0.0/8".parse::<Cidr>().unwrap().0];
    let denying = client(&target, &[])
        .with_egress(EgressPolicy::new(Vec::new(), deny, false, Vec::new()), 10);
    let (hops, session) = (Hops::default(), SharedSession::default());
    let outcome = denying.send(&session, &get("/"), &hops).await;
    assert!(
        matches!(outcome.as_ref().err(), Some(Error::EgressDenied(m)) if m.contains("--egress-deny 127.0.0.0/8")),
        "{:?}",
        outcome.err()
    );
    assert_eq!(hops.taken()[0].2, HopOutcome::Failed("egress-denied"));
    assert!(
        connections.lock().unwrap().is_empty(),
        "a connection was made"
    );
    let refused = denying.egress_log().refused_entries();
    assert_eq!((refused.len(), refused[0].count), (1, 1));
    assert!(denying.egress_log().contacted().is_empty());

    // The default policy reaches loopback.
    let allowed = client(&target, &[]);
    for _ in 0..3 {
        allowed.send(&session, &get("/"), &hops).await.unwrap();
    }
    let contacted = allowed.egress_log().contacted();
    assert_eq!(contacted.len(), 1);
    assert_eq!((contacted[0].connections, contacted[0].requests), (1, 3));
    assert_eq!(contacted[0].destination.address.to_string(), "127.0.0.1");
    // Every byte on the wire is counted, as the server sent and read them.
    let heads = connections.lock().unwrap()[0].clone();
    let sent: usize = heads.iter().map(|head| head.len() + "\r\n\r\n".len()).sum();
    assert_eq!(contacted[0].bytes_sent, sent as u64);
    assert_eq!(contacted[0].bytes_received, 3 * ok("fine", "").len() as u64);
}

/// A guest's own cookies: kept for their domain and path, removed by a past
/// expiry, and bounded in size and number.
#[test]
fn cookies_a_guest_sets_are_kept_removed_and_bounded() {
    let target = Url::parse("http://shop.test/").unwrap();
    let client = client(&target, &[]);
    let mut session = Session::default();
    client
        .set_cookie(&mut session, "/cart", "flavour=oat; Path=/")
        .unwrap();
    let cookies = |session: &Session, url: &str| client.cookies(session, url);
    assert_eq!(
        cookies(&session, "/"),
        [("flavour".to_string(), "oat".to_string())]
    );
    assert!(cookies(&session, "http://other.test/").is_empty());
    client
        .set_cookie(&mut session, "/", "flavour=; Max-Age=0")
        .unwrap();
    assert!(cookies(&session, "/").is_empty());

    let long = format!("big={}", "x".repeat(5000));
    let error = client.set_cookie(&mut session, "/", &long).unwrap_err();
    assert!(error.to_string().contains("at most 4096"), "{error}");
    for i in 0..1000 {
        client
            .set_cookie(&mut session, "/", &format!("c{i}=1"))
            .unwrap();
    }
    let error = client
        .set_cookie(&mut session, "/", "one=more")
        .unwrap_err();
    assert!(error.to_string().contains("1000 cookies"), "{error}");
}

/// Each answered hop's time and its phases.
#[derive(Default)]
struct Phased {
    elapsed: Mutex<Duration>,
    phases: Mutex<Vec<(Duration, HopPhases)>>,
}

impl Observer for Phased {
    fn hop(&self, _: &str, _: Option<(&Method, &Url)>, _: HopOutcome, elapsed: Duration) {
        *self.elapsed.lock().unwrap() = elapsed;
    }

    fn phases(&self, _: &str, phases: &HopPhases) {
        let elapsed = *self.elapsed.lock().unwrap();
        self.phases.lock().unwrap().push((elapsed, *phases));
    }
}

/// Timed phases split each answered hop as k6 splits a request: the server
/// thinks for 50 ms (waiting), then sends the body's end 30 ms after its
/// start (receiving); the opening counts in the first request on a
/// connection only. Untimed, the observer is told nothing.
#[tokio::test]
async fn timed_phases_split_each_request_as_k6_does() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                loop {
                    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
                        let mut chunk = [0u8; 1024];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buffer.clear();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab";
                    stream.write_all(head).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    stream.write_all(b"cd").await.unwrap();
                }
            });
        }
    });
    let observed = Phased::default();
    let session = SharedSession::default();
    let timed = client(&target, &[]).with_phases(true);
    let mut answered = Vec::new();
    for _ in 0..2 {
        let response = timed.send(&session, &get("/"), &observed).await.unwrap();
        assert_eq!(&response.body[..], b"abcd");
        answered.push(response.phases);
    }
    let phases = std::mem::take(&mut *observed.phases.lock().unwrap());
    assert_eq!(phases.len(), 2);
    // The response carries its (last) hop's phases, as the observer saw them.
    let seen: Vec<_> = phases.iter().map(|(_, phases)| Some(*phases)).collect();
    assert_eq!(answered, seen);
    for (index, (elapsed, phases)) in phases.iter().enumerate() {
        assert!(phases.waiting >= Duration::from_millis(50), "{phases:?}");
        assert!(phases.receiving >= Duration::from_millis(30), "{phases:?}");
        assert_eq!(phases.tls_handshaking, Duration::ZERO);
        let parts = phases.connecting + phases.sending + phases.waiting + phases.receiving;
        assert!(parts <= *elapsed, "{phases:?} in {elapsed:?}");
        if index == 1 {
            assert_eq!(phases.connecting, Duration::ZERO, "a reused connection");
        }
    }
    let untimed = client(&target, &[]);
    let response = untimed
        .send(&SharedSession::default(), &get("/"), &observed)
        .await
        .unwrap();
    assert!(observed.phases.lock().unwrap().is_empty());
    assert_eq!(response.phases, None);
}
