//! Where a connection really goes: `--connect-to` rules, as curl has them,
//! send an origin's connections to another address while the URL, the `Host`
//! header, cookies and the TLS server name stay the origin's (a scenario
//! written for `http://example.com` run against a local server); then each
//! address the name resolves to is judged by the egress policy before any
//! packet is sent to it, and the manifest records what was contacted.

use std::str::FromStr;
use std::sync::Arc;

use tokio::net::TcpStream;

use crate::egress::{EgressPolicy, Refusal};
use crate::error::Error;
use crate::manifest::{Destination, EgressLog};
use crate::metered::MeteredTcp;
use crate::origin::Origin;

/// How the client opens connections: the same for every session of a run.
pub struct Dial {
    pub connect_to: Vec<ConnectTo>,
    pub egress: EgressPolicy,
    pub log: EgressLog,
    pub tls: Arc<rustls::ClientConfig>,
    /// The same, offering only HTTP/1.1 by ALPN: for WebSockets and streamed
    /// responses, which have a connection of their own in HTTP/1.1.
    pub tls_http1: Arc<rustls::ClientConfig>,
    /// The largest response body accepted, in bytes.
    pub max_body: usize,
    /// Whether requests' phases are timed ([`crate::HopPhases`]).
    pub phases: bool,
}

impl Dial {
    /// A TCP connection for `origin`: to the first address, in the order the
    /// name resolves, that the policy allows and that accepts, its bytes
    /// counted to its destination. Refused addresses are never tried; when
    /// all are refused, the error says why.
    pub async fn tcp(&self, origin: &Origin) -> Result<MeteredTcp, Error> {
        let host = origin.bare_host();
        let (to_host, to_port) = ConnectTo::address(&self.connect_to, host, origin.port);
        let addresses = tokio::net::lookup_host((to_host, to_port))
            .await
            .map_err(|e| origin.connect_error(e))?;
        let mut refused: Option<Refusal> = None;
        let mut failed = None;
        for address in addresses {
            let destination = || Destination::new(origin.https, host, address);
            if let Err(refusal) = self.egress.check(address.ip()) {
                self.log.refused(destination(), refusal.rule);
                refused.get_or_insert(refusal);
                continue;
            }
            match TcpStream::connect(address).await {
                Ok(tcp) => return Ok(MeteredTcp::new(tcp, self.log.connected(destination()))),
                Err(error) => failed = Some((address, error)),
            }
        }
        let failed = failed.map(|(address, error)| format!("{address}: {error}"));
        Err(match (refused, failed) {
            // The policy decided the outcome when it refused the address
            // that could have been tried after a failed one.
            (Some(refusal), failed) => {
                let also = failed.map(|f| format!(" (and {f})")).unwrap_or_default();
                Error::EgressDenied(format!("{}: {refusal}{also}", host_port(to_host, to_port)))
            }
            (None, Some(failed)) => origin.connect_error(failed),
            (None, None) => origin.connect_error("the name has no address"),
        })
    }
}

/// An address as `host:port`, bracketing an IPv6 literal.
fn host_port(host: &str, port: u16) -> String {
    match host.contains(':') {
        true => format!("[{host}]:{port}"),
        false => format!("{host}:{port}"),
    }
}

/// `HOST:PORT:TO_HOST:TO_PORT`; an empty `HOST` or `PORT` matches any, an
/// empty `TO_HOST` or `TO_PORT` keeps the origin's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    host: Option<String>,
    port: Option<u16>,
    to_host: Option<String>,
    to_port: Option<u16>,
}

impl ConnectTo {
    /// The host this rule sends connections to, if it names one.
    pub fn to_host(&self) -> Option<&str> {
        self.to_host.as_deref()
    }

    /// The address to connect to for `host:port`: the first rule's that
    /// matches, else the origin itself.
    pub fn address<'a>(rules: &'a [ConnectTo], host: &'a str, port: u16) -> (&'a str, u16) {
        rules
            .iter()
            .find(|rule| {
                rule.host
                    .as_deref()
                    .is_none_or(|h| h.eq_ignore_ascii_case(host))
                    && rule.port.is_none_or(|p| p == port)
            })
            .map_or((host, port), |rule| {
                (
                    rule.to_host.as_deref().unwrap_or(host),
                    rule.to_port.unwrap_or(port),
                )
            })
    }
}

impl FromStr for ConnectTo {
    type Err = String;

    fn from_str(rule: &str) -> Result<Self, String> {
        let wrong =
            || format!("{rule:?}: expected HOST:PORT:TO_HOST:TO_PORT (as curl's --connect-to)");
        let (host, rest) = split_host(rule).ok_or_else(wrong)?;
        let (port, rest) = rest.split_once(':').ok_or_else(wrong)?;
        let (to_host, to_port) = split_host(rest).ok_or_else(wrong)?;
        let port_of = |text: &str| match text {
            "" => Ok(None),
            text => text.parse::<u16>().map(Some).map_err(|_| wrong()),
        };
        let host_of = |text: &str| {
            (!text.is_empty()).then(|| text.trim_matches(['[', ']']).to_ascii_lowercase())
        };
        Ok(Self {
            host: host_of(host),
            port: port_of(port)?,
            to_host: host_of(to_host),
            to_port: port_of(to_port)?,
        })
    }
}

/// A host (an IPv6 literal in brackets included) and what follows its `:`.
fn split_host(text: &str) -> Option<(&str, &str)> {
    if text.starts_with('[') {
        let end = text.find(']')? + 1;
        return Some((&text[..end], text[end..].strip_prefix(':')?));
    }
    text.split_once(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_sends_its_origin_elsewhere_and_leaves_the_others() {
        let rules: Vec<ConnectTo> = ["example.com:80:127.0.0.1:8080", ":443:[::1]:"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        assert_eq!(
            ConnectTo::address(&rules, "Example.com", 80),
            ("127.0.0.1", 8080)
        );
        assert_eq!(
            ConnectTo::address(&rules, "other.org", 80),
            ("other.org", 80)
        );
        assert_eq!(ConnectTo::address(&rules, "other.org", 443), ("::1", 443));
    }

    #[test]
    fn a_malformed_rule_is_refused() {
        for rule in ["example.com", "example.com:80", "a:b:c:d", "[::1:80:x:1"] {
            assert!(rule.parse::<ConnectTo>().is_err(), "{rule}");
        }
    }
}
