//! `--statsd`: Molotov's metric names over UDP, batched into datagrams.
//!
//! Per request a timing `molotov.<hostname>.<METHOD>.<target-host>.<path>` in
//! ms and a counter `….<status>` (or `….<error-kind>`); per scenario run a
//! timing `molotov.<hostname>.scenario.<name>` and a counter `….ok` or
//! `….failed`; the guest's own metrics as `molotov.<hostname>.custom.<name>`.
//! Each segment keeps only `[A-Za-z0-9_-]` (others become `_`), since `.`
//! and `:` mean something in statsd lines.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use url::Url;

/// Lines are batched up to this size, below a typical MTU.
const DATAGRAM: usize = 1400;
/// A partly filled datagram waits at most this long.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

pub struct Statsd {
    socket: UdpSocket,
    prefix: String,
    buffer: Mutex<String>,
}

impl Statsd {
    /// `address` is `udp://host:port` (as in Molotov) or `host:port`.
    pub fn connect(address: &str) -> anyhow::Result<Self> {
        let host_port = address.strip_prefix("udp://").unwrap_or(address);
        let target: SocketAddr = host_port
            .to_socket_addrs()
            .ok()
            .and_then(|mut addresses| addresses.next())
            .with_context(|| format!("--statsd-address {address}: not a host:port to send to"))?;
        let local: SocketAddr = if target.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local)
            .and_then(|socket| socket.connect(target).map(|()| socket))
            .with_context(|| format!("--statsd-address {address}: cannot open a UDP socket"))?;
        socket.set_nonblocking(true)?;
        let hostname = gethostname::gethostname();
        Ok(Self {
            socket,
            prefix: format!("molotov.{}", segment(&hostname.to_string_lossy())),
            buffer: Mutex::new(String::with_capacity(DATAGRAM)),
        })
    }

    /// One request on the wire: its timing and its status (or error kind).
    pub fn request(&self, method: &str, url: &Url, outcome: &str, elapsed: Duration) {
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let path: Vec<String> = url
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(segment)
            .collect();
        let path = if path.is_empty() {
            "_".into()
        } else {
            path.join(".")
        };
        let key = format!(
            "{}.{}.{}.{path}",
            self.prefix,
            segment(method),
            segment(&host)
        );
        self.send(&format!(
            "{key}:{}|ms\n{key}.{}:1|c\n",
            millis(elapsed),
            segment(outcome)
        ));
    }

    pub fn scenario(&self, name: &str, ok: bool, elapsed: Duration) {
        let key = format!("{}.scenario.{}", self.prefix, segment(name));
        let outcome = if ok { "ok" } else { "failed" };
        self.send(&format!(
            "{key}:{}|ms\n{key}.{outcome}:1|c\n",
            millis(elapsed)
        ));
    }

    pub fn counter(&self, name: &str, delta: i64) {
        self.send(&format!(
            "{}.custom.{}:{delta}|c\n",
            self.prefix,
            segment(name)
        ));
    }

    pub fn gauge(&self, name: &str, value: f64) {
        self.send(&format!(
            "{}.custom.{}:{value}|g\n",
            self.prefix,
            segment(name)
        ));
    }

    pub fn timing(&self, name: &str, micros: u64) {
        let ms = millis(Duration::from_micros(micros));
        self.send(&format!(
            "{}.custom.{}:{ms}|ms\n",
            self.prefix,
            segment(name)
        ));
    }

    fn send(&self, lines: &str) {
        let mut buffer = self.buffer.lock().expect("statsd buffer");
        if buffer.len() + lines.len() > DATAGRAM {
            self.send_buffer(&mut buffer);
        }
        buffer.push_str(lines);
    }

    /// Sends what is buffered; called every [`FLUSH_EVERY`] and at the end.
    pub fn flush(&self) {
        let mut buffer = self.buffer.lock().expect("statsd buffer");
        self.send_buffer(&mut buffer);
    }

    fn send_buffer(&self, buffer: &mut String) {
        if !buffer.is_empty() {
            // statsd is best effort: a full socket buffer drops this datagram.
            let _ = self.socket.send(buffer.trim_end().as_bytes());
            buffer.clear();
        }
    }
}

fn millis(elapsed: Duration) -> String {
    format!("{:.3}", elapsed.as_secs_f64() * 1000.0)
}

fn segment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
