//! What the client's integration tests share.

#![allow(dead_code, reason = "each test file uses its part")]

use std::time::Duration;

use molotov_http::{HttpClient, Request};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use url::Url;

/// The largest response body the tests' clients accept.
pub const MAX_BODY: usize = 64 * 1024;

/// A client for `target`, to the `allowed` hosts only (all when empty),
/// with a timeout of 5 s and bodies of at most [`MAX_BODY`].
pub fn client(target: &Url, allowed: &[&str]) -> HttpClient {
    let tls = molotov_http::tls_config(&[]).unwrap();
    let allowed = allowed.iter().map(|h| h.to_string()).collect();
    HttpClient::new(
        Some(target.clone()),
        allowed,
        Duration::from_secs(5),
        MAX_BODY,
        tls,
    )
}

/// A `GET` of `url` with nothing else set.
pub fn get(url: &str) -> Request<'_> {
    Request {
        method: "GET",
        url,
        headers: &[],
        body: None,
        timeout: None,
        name: None,
        max_redirects: None,
    }
}

/// No exchange of a test may take longer.
const BOUND: Duration = Duration::from_secs(10);

/// `future`, which must end within [`BOUND`].
pub async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(BOUND, future)
        .await
        .expect("the exchange ended within its bound")
}

/// A request's head read from `stream` up to its empty line, and not a
/// byte more; `None` if the client went first.
pub async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}
