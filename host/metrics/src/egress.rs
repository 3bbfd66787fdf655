//! The egress manifest as the results carry it: every destination the run
//! contacted, with its connections, requests and bytes, and every refusal of the
//! egress policy with its rule; mergeable across processes and shards.

use serde::{Deserialize, Serialize};

use crate::units::si_bytes;

/// Where connections went, and where the policy refused them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Egress {
    pub contacted: Vec<Contacted>,
    pub refused: Vec<Refused>,
}

/// A destination: the origin's scheme and host, and the address and port
/// connected to (after name resolution and `--connect-to`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Destination {
    pub scheme: String,
    pub host: String,
    pub address: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacted {
    #[serde(flatten)]
    pub destination: Destination,
    pub connections: u64,
    pub requests: u64,
    /// Bytes on the wire, TLS included (0 when read from older results).
    #[serde(default)]
    pub bytes_sent: u64,
    #[serde(default)]
    pub bytes_received: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    #[serde(flatten)]
    pub destination: Destination,
    pub rule: String,
    pub count: u64,
}

impl Egress {
    /// Adds `other` into `self`, destination by destination.
    pub fn merge(&mut self, other: &Egress) {
        for theirs in &other.contacted {
            match (self.contacted.iter_mut()).find(|c| c.destination == theirs.destination) {
                Some(mine) => {
                    mine.connections += theirs.connections;
                    mine.requests += theirs.requests;
                    mine.bytes_sent += theirs.bytes_sent;
                    mine.bytes_received += theirs.bytes_received;
                }
                None => self.contacted.push(theirs.clone()),
            }
        }
        for theirs in &other.refused {
            let same =
                |r: &&mut Refused| r.destination == theirs.destination && r.rule == theirs.rule;
            match self.refused.iter_mut().find(same) {
                Some(mine) => mine.count += theirs.count,
                None => self.refused.push(theirs.clone()),
            }
        }
        self.contacted
            .sort_by(|a, b| a.destination.cmp(&b.destination));
        self.refused
            .sort_by(|a, b| (&a.destination, &a.rule).cmp(&(&b.destination, &b.rule)));
    }

    /// Bytes sent and received over every connection of the run.
    pub fn bytes(&self) -> (u64, u64) {
        (self.contacted.iter()).fold((0, 0), |(sent, received), c| {
            (sent + c.bytes_sent, received + c.bytes_received)
        })
    }

    /// The summary's lines: what was contacted and what was refused.
    pub fn summary_lines(&self) -> Vec<String> {
        const SHOWN: usize = 3;
        let mut lines = Vec::new();
        if !self.contacted.is_empty() {
            let mut shown: Vec<String> = (self.contacted.iter().take(SHOWN))
                .map(|c| {
                    format!(
                        "{} ({} requests, {} sent, {} received)",
                        c.destination,
                        c.requests,
                        si_bytes(c.bytes_sent as f64),
                        si_bytes(c.bytes_received as f64)
                    )
                })
                .collect();
            if self.contacted.len() > SHOWN {
                shown.push(format!("{} more", self.contacted.len() - SHOWN));
            }
            lines.push(format!("EGRESS: {}", shown.join(" | ")));
        }
        if !self.refused.is_empty() {
            let mut shown: Vec<String> = (self.refused.iter().take(SHOWN))
                .map(|r| format!("{} by {} ({}×)", r.destination, r.rule, r.count))
                .collect();
            if self.refused.len() > SHOWN {
                shown.push(format!("{} more", self.refused.len() - SHOWN));
            }
            lines.push(format!("EGRESS REFUSED: {}", shown.join(" | ")));
        }
        lines
    }
}

impl std::fmt::Display for Destination {
    /// `http://host:port → address`, the address left out when it is the host.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bracket = |text: &str| match text.contains(':') {
            true => format!("[{text}]"),
            false => text.to_string(),
        };
        let host = self.host.trim_matches(['[', ']']);
        write!(f, "{}://{}:{}", self.scheme, bracket(host), self.port)?;
        if host != self.address {
            write!(f, " → {}", bracket(&self.address))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(host: &str, address: &str) -> Destination {
        Destination {
            scheme: "http".into(),
            host: host.into(),
            address: address.into(),
            port: 80,
        }
    }

    #[test]
    fn two_parts_merge_destination_by_destination() {
        let part = |requests| Egress {
            contacted: vec![Contacted {
                destination: to("a.test", "127.0.0.1"),
                connections: 1,
                requests,
                bytes_sent: 100 * requests,
                bytes_received: 1000 * requests,
            }],
            refused: vec![Refused {
                destination: to("m.test", "169.254.169.254"),
                rule: "cloud-metadata".into(),
                count: 2,
            }],
        };
        let mut whole = Egress::default();
        whole.merge(&part(5));
        whole.merge(&part(7));
        assert_eq!(whole.contacted.len(), 1);
        assert_eq!(whole.contacted[0].requests, 12);
        assert_eq!(whole.bytes(), (1200, 12_000));
        assert_eq!(whole.refused[0].count, 4);
        assert_eq!(
            whole.summary_lines(),
            [
                "EGRESS: http://a.test:80 → 127.0.0.1 (12 requests, 1.2 kB sent, 12 kB received)",
                "EGRESS REFUSED: http://m.test:80 → 169.254.169.254 by cloud-metadata (4×)"
            ]
        );
    }
}
