//! The egress manifest: every destination the run's connections went to,
//! with its connections and requests, and every address refused, with its
//! rule; so that an operator auditing a third-party run sees what it touched.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::egress::Rule;

/// Where a connection went: the origin's scheme and host, and the address
/// (after resolution and `--connect-to`) and port connected to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination {
    pub scheme: &'static str,
    pub host: String,
    pub address: IpAddr,
    pub port: u16,
}

/// The host under which destinations past the manifest's limit are counted.
pub const OTHER_DESTINATIONS: &str = "(other destinations)";

impl Destination {
    pub fn new(https: bool, host: &str, address: SocketAddr) -> Self {
        Self {
            scheme: if https { "https" } else { "http" },
            host: host.to_string(),
            address: address.ip(),
            port: address.port(),
        }
    }

    fn other() -> Self {
        Self {
            scheme: "",
            host: OTHER_DESTINATIONS.to_string(),
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
        }
    }
}

/// What went to one destination. Each connection holds its destination's
/// counts and adds its requests and bytes there itself, without a lock.
#[derive(Debug, Default)]
pub struct Contacted {
    connections: AtomicU64,
    requests: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

impl Contacted {
    pub fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_sent(&self, bytes: usize) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn count_received(&self, bytes: usize) {
        self.bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// A destination contacted, with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactedEntry {
    pub destination: Destination,
    pub connections: u64,
    pub requests: u64,
    /// On the wire, TLS included.
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// A destination refused by a rule, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedEntry {
    pub destination: Destination,
    pub rule: String,
    pub count: u64,
}

/// The run's manifest, written at each new connection and each refusal
/// (rare next to requests), and read at the end of the run.
#[derive(Debug, Default)]
pub struct EgressLog {
    /// Distinct destinations kept in each list; the rest are counted together.
    limit: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    contacted: HashMap<Destination, Arc<Contacted>>,
    refused: HashMap<(Destination, Rule), u64>,
}

impl EgressLog {
    /// A manifest of at most `limit` distinct destinations in each list.
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a new connection to `destination`; its requests are counted on
    /// the counts returned.
    pub fn connected(&self, destination: Destination) -> Arc<Contacted> {
        let mut inner = self.lock();
        let full = inner.contacted.len() >= self.limit;
        let key = match full && !inner.contacted.contains_key(&destination) {
            true => Destination::other(),
            false => destination,
        };
        let contacted = Arc::clone(inner.contacted.entry(key).or_default());
        contacted.connections.fetch_add(1, Ordering::Relaxed);
        contacted
    }

    /// Counts an address refused by `rule`.
    pub fn refused(&self, destination: Destination, rule: Rule) {
        let mut inner = self.lock();
        let mut key = (destination, rule);
        if inner.refused.len() >= self.limit && !inner.refused.contains_key(&key) {
            key.0 = Destination::other();
        }
        *inner.refused.entry(key).or_default() += 1;
    }

    /// The destinations contacted, in order.
    pub fn contacted(&self) -> Vec<ContactedEntry> {
        let mut entries: Vec<ContactedEntry> = (self.lock().contacted.iter())
            .map(|(destination, counts)| ContactedEntry {
                destination: destination.clone(),
                connections: counts.connections.load(Ordering::Relaxed),
                requests: counts.requests.load(Ordering::Relaxed),
                bytes_sent: counts.bytes_sent.load(Ordering::Relaxed),
                bytes_received: counts.bytes_received.load(Ordering::Relaxed),
            })
            .collect();
        entries.sort_by(|a, b| a.destination.cmp(&b.destination));
        entries
    }

    /// The refusals, in order.
    pub fn refused_entries(&self) -> Vec<RefusedEntry> {
        let mut entries: Vec<RefusedEntry> = (self.lock().refused.iter())
            .map(|((destination, rule), count)| RefusedEntry {
                destination: destination.clone(),
                rule: rule.name(),
                count: *count,
            })
            .collect();
        entries.sort_by(|a, b| (&a.destination, &a.rule).cmp(&(&b.destination, &b.rule)));
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(host: &str, address: &str) -> Destination {
        Destination::new(false, host, address.parse().unwrap())
    }

    #[test]
    fn connections_and_requests_add_up_per_destination() {
        let log = EgressLog::new(10);
        let first = log.connected(to("a.test", "127.0.0.1:80"));
        first.count_request();
        first.count_request();
        log.connected(to("a.test", "127.0.0.1:80")).count_request();
        log.refused(to("m.test", "169.254.169.254:80"), Rule::CloudMetadata);
        log.refused(to("m.test", "169.254.169.254:80"), Rule::CloudMetadata);
        let contacted = log.contacted();
        assert_eq!(contacted.len(), 1);
        assert_eq!((contacted[0].connections, contacted[0].requests), (2, 3));
        let refused = log.refused_entries();
        assert_eq!(
            (refused[0].rule.as_str(), refused[0].count),
            ("cloud-metadata", 2)
        );
    }

    #[test]
    fn destinations_past_the_limit_are_counted_together() {
        let log = EgressLog::new(2);
        for port in 1..=5 {
            log.connected(to("a.test", &format!("127.0.0.1:{port}")));
        }
        let contacted = log.contacted();
        assert_eq!(contacted.len(), 3);
        let other = contacted
            .iter()
            .find(|e| e.destination.host == OTHER_DESTINATIONS);
        assert_eq!(other.map(|e| e.connections), Some(3));
    }
}
