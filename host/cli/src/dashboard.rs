//! `--dashboard`: the HTML report served live during the run. The runner
//! publishes the page every second; the page fetches itself and swaps in the
//! new state, and the last page published is the report the run ends with.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use molotov_metrics::Report;
use molotov_report::Live;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How often the page fetches itself, and the runner publishes.
pub const EVERY: Duration = Duration::from_secs(1);

pub struct Dashboard {
    pub address: SocketAddr,
    page: Arc<Mutex<Bytes>>,
    /// Whether a browser ever asked for the page.
    visited: Arc<AtomicBool>,
    server: JoinHandle<()>,
}

impl Dashboard {
    /// Binds `address` (a clear error when taken) and serves a page that
    /// says the run is starting.
    pub async fn bind(address: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve the dashboard on {address}: {e}"))?;
        let bound = listener.local_addr()?;
        let page = Arc::new(Mutex::new(Bytes::from_static(
            b"<!DOCTYPE html><meta http-equiv=refresh content=1><title>molotov</title><p>The run is starting.",
        )));
        let visited = Arc::new(AtomicBool::new(false));
        let server = tokio::spawn(accept(listener, Arc::clone(&page), Arc::clone(&visited)));
        Ok(Self {
            address: bound,
            page,
            visited,
            server,
        })
    }

    /// The run's state now.
    pub fn publish(&self, report: &Report) {
        let live = Live {
            every_ms: EVERY.as_millis() as u32,
        };
        self.set(molotov_report::render(report, Some(live)));
    }

    /// The run's final report; served for one more period when a page is
    /// open, so that it fetches it, then the dashboard stops.
    pub async fn finish(self, report: &Report) {
        self.set(molotov_report::render(report, None));
        if self.visited.load(Ordering::Relaxed) {
            tokio::time::sleep(EVERY + EVERY / 2).await;
        }
    }

    fn set(&self, html: String) {
        *self.page.lock().expect("dashboard page") = Bytes::from(html);
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Whether the request names this machine (`127.0.0.1`, `localhost`, `[::1]`)
/// or an IP address: a web page whose own name was rebound to 127.0.0.1
/// (DNS rebinding) sends its own name, and is refused.
fn is_local(request: &Request<Incoming>) -> bool {
    let host = (request.headers().get(http::header::HOST))
        .and_then(|host| host.to_str().ok())
        .unwrap_or_default();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok()
}

async fn accept(listener: TcpListener, page: Arc<Mutex<Bytes>>, visited: Arc<AtomicBool>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, say: the connection stays pending.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (page, visited) = (Arc::clone(&page), Arc::clone(&visited));
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let local = is_local(&request);
                let body = match local {
                    true => page.lock().expect("dashboard page").clone(),
                    false => Bytes::from_static(b"the dashboard answers local names only"),
                };
                visited.fetch_or(local, Ordering::Relaxed);
                async move {
                    let response = Response::builder()
                        .status(if local { 200 } else { 403 })
                        .header(CONTENT_TYPE, "text/html; charset=utf-8")
                        .header(CACHE_CONTROL, "no-store")
                        .body(Full::new(body))
                        .expect("a valid response");
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
