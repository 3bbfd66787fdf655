//! The run's egress rules from its plan (which hosts and addresses its
//! scenarios may reach), and the manifest of what they reached, for the results.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use molotov_http::{EgressLog, EgressPolicy};
use molotov_metrics::{Contacted, Destination, Egress, Refused, Tally};
use molotov_runtime::RunContext;
use url::Url;

use crate::plan::HttpPlan;

/// The hosts requests may go to (all when empty) and the address policy.
pub fn rules(http: &HttpPlan, target: &Url) -> (Vec<String>, EgressPolicy) {
    let mut allowed_hosts = http.allow_hosts.clone();
    let target_host = target.host_str().unwrap_or_default();
    if http.egress_strict {
        allowed_hosts.push(target_host.to_string());
    }
    // What the operator wrote as addresses, not names: strict mode does not
    // refuse those for being loopback or private.
    let hosts = (http.allow_hosts.iter().map(|h| without_port(h)))
        .chain([target_host])
        .chain(http.connect_to.iter().filter_map(|rule| rule.to_host()));
    let named = hosts.flat_map(literal_addresses).collect();
    let policy = EgressPolicy::new(
        http.egress_allow.iter().map(|cidr| cidr.0).collect(),
        http.egress_deny.iter().map(|cidr| cidr.0).collect(),
        http.egress_strict,
        named,
    );
    (allowed_hosts, policy)
}

/// `host` of `host:port` (an IPv6 literal in brackets included).
fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.parse::<u16>().is_ok() && !name.ends_with(':') => name,
        _ => host,
    }
}

/// The addresses a host names by itself: an IP literal, or loopback for
/// `localhost` (RFC 6761); none for any other name, whose addresses come
/// from resolution and are judged then.
fn literal_addresses(host: &str) -> Vec<IpAddr> {
    let host = host.trim_matches(['[', ']']);
    if host.eq_ignore_ascii_case("localhost") {
        return vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
    }
    host.parse().into_iter().collect()
}

/// What the run measured so far, with its manifest (and so its bytes).
pub fn tally_so_far(context: &RunContext) -> Tally {
    let mut tally = context.metrics.snapshot();
    tally.egress = manifest(context.client.egress_log());
    tally
}

/// The manifest as the results carry it.
fn manifest(log: &EgressLog) -> Egress {
    let destination = |d: &molotov_http::Destination| Destination {
        scheme: d.scheme.to_string(),
        host: d.host.clone(),
        address: d.address.to_string(),
        port: d.port,
    };
    Egress {
        contacted: (log.contacted().iter())
            .map(|entry| Contacted {
                destination: destination(&entry.destination),
                connections: entry.connections,
                requests: entry.requests,
                bytes_sent: entry.bytes_sent,
                bytes_received: entry.bytes_received,
            })
            .collect(),
        refused: (log.refused_entries().iter())
            .map(|entry| Refused {
                destination: destination(&entry.destination),
                rule: entry.rule.clone(),
                count: entry.count,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_found_in_every_form_the_flags_take() {
        assert_eq!(without_port("10.0.0.5:8080"), "10.0.0.5");
        assert_eq!(without_port("[::1]:8080"), "[::1]");
        assert_eq!(without_port("::1"), "::1");
        assert_eq!(without_port("api.test"), "api.test");
        assert_eq!(
            literal_addresses("[::1]"),
            [IpAddr::from(Ipv6Addr::LOCALHOST)]
        );
        assert_eq!(literal_addresses("LOCALHOST").len(), 2);
        assert!(literal_addresses("api.test").is_empty());
    }
}
