//! The built-in target: a small, fast HTTP service for the demo, the
//! examples and the tests. Its routes are listed in `docs/running.md`.

mod grpc;
mod streams;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use self::streams::{Body, Socket, Stats};

const OK_BODY: &[u8] = br#"{"result":"OK"}"#;

/// Binds `address` and serves in the background; returns the bound address.
pub async fn spawn(address: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(accept(listener, None));
    Ok(bound)
}

/// Like [`spawn`], over TLS: HTTP/2 when the client offers it by ALPN,
/// unless `tls` names its own ALPN protocols.
pub async fn spawn_tls(
    address: SocketAddr,
    mut tls: rustls::ServerConfig,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
    let bound = listener.local_addr()?;
    if tls.alpn_protocols.is_empty() {
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    }
    tokio::spawn(accept(listener, Some(TlsAcceptor::from(Arc::new(tls)))));
    Ok(bound)
}

/// Serves on `address` until the process ends.
pub async fn serve(address: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
    eprintln!(
        "molotov: serving the built-in target on http://{}",
        listener.local_addr()?
    );
    accept(listener, None).await;
    Ok(())
}

async fn accept(listener: TcpListener, tls: Option<TlsAcceptor>) {
    let stats = Arc::new(Stats::default());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let stats = Arc::clone(&stats);
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                stats.requests.fetch_add(1, Ordering::Relaxed);
                answer(request, Arc::clone(&stats))
            });
            let server = auto::Builder::new(TokioExecutor::new());
            let _ = match tls {
                None => {
                    let io = TokioIo::new(stream);
                    server.serve_connection_with_upgrades(io, service).await
                }
                Some(tls) => match tls.accept(stream).await {
                    Ok(stream) => {
                        let io = TokioIo::new(stream);
                        server.serve_connection_with_upgrades(io, service).await
                    }
                    Err(_) => return,
                },
            };
        });
    }
}

fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(streams::whole(body));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

fn json(value: serde_json::Value) -> Response<Body> {
    respond(StatusCode::OK, "application/json", value.to_string())
}

fn query(request: &Request<Incoming>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

async fn answer(
    request: Request<Incoming>,
    stats: Arc<Stats>,
) -> Result<Response<Body>, Infallible> {
    if grpc::is_call(&request) {
        return Ok(grpc::answer(request, stats).await);
    }
    let path = request.uri().path().to_string();
    if let Some(socket) = Socket::route(&path, &query(&request)) {
        return Ok(streams::upgrade(request, socket, stats));
    }
    let response = match path.as_str() {
        "/sse" => streams::events(&query(&request), stats),
        "/" => {
            // Drain the body so the connection stays reusable.
            let _ = request.into_body().collect().await;
            respond(StatusCode::OK, "application/json", OK_BODY)
        }
        "/echo" => {
            let content_type = request
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            let body = request
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            respond(StatusCode::OK, &content_type, body)
        }
        "/slow" => {
            let ms = query(&request)
                .iter()
                .find(|(k, _)| k == "ms")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(100u64);
            tokio::time::sleep(Duration::from_millis(ms.min(600_000))).await;
            respond(StatusCode::OK, "application/json", OK_BODY)
        }
        "/redirect" => {
            let to = query(&request)
                .into_iter()
                .find(|(k, _)| k == "to")
                .map_or("/".to_string(), |(_, v)| v);
            let mut response = respond(StatusCode::FOUND, "text/plain", "");
            if let Ok(value) = to.parse() {
                response.headers_mut().insert(LOCATION, value);
            }
            response
        }
        "/cookies/set" => {
            let mut response = json(serde_json::json!({"result": "OK"}));
            for (name, value) in query(&request) {
                if let Ok(value) = format!("{name}={value}; Path=/").parse() {
                    response.headers_mut().append(SET_COOKIE, value);
                }
            }
            response
        }
        "/cookies" => {
            let cookies: BTreeMap<String, String> = request
                .headers()
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            json(serde_json::json!(cookies))
        }
        "/headers" => {
            let headers: BTreeMap<String, String> = request
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            json(serde_json::json!(headers))
        }
        "/stats" => json(stats.json()),
        "/version" => json(serde_json::json!({ "version": format!("{:?}", request.version()) })),
        other => match other
            .strip_prefix("/status/")
            .and_then(|code| code.parse::<u16>().ok())
        {
            Some(code) => match StatusCode::from_u16(code) {
                Ok(status) => respond(
                    status,
                    "application/json",
                    format!(r#"{{"status":{code}}}"#),
                ),
                Err(_) => respond(StatusCode::BAD_REQUEST, "text/plain", "invalid status code"),
            },
            None => respond(StatusCode::NOT_FOUND, "text/plain", "not found"),
        },
    };
    Ok(response)
}
