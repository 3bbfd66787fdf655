//! Where a connection goes: scheme, host and port, as a session keys its
//! connections and `dial` resolves them.

use url::Url;

use crate::error::Error;

/// Where a connection goes: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    host: String,
    pub port: u16,
}

impl Origin {
    pub fn of(url: &Url) -> Self {
        Self {
            https: is_tls(url),
            host: url.host_str().unwrap_or_default().to_string(),
            port: url.port_or_known_default().unwrap_or(80),
        }
    }

    pub fn matches(&self, url: &Url) -> bool {
        self.https == is_tls(url)
            && self.port == url.port_or_known_default().unwrap_or(80)
            && url.host_str() == Some(self.host.as_str())
    }

    /// The host, an IPv6 literal without its brackets.
    pub fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    pub fn connect_error(&self, error: impl std::fmt::Display) -> Error {
        Error::Connect(format!("{}:{}: {error}", self.host, self.port))
    }
}

/// Whether `url` goes over TLS: `https`, or a WebSocket's `wss`.
fn is_tls(url: &Url) -> bool {
    matches!(url.scheme(), "https" | "wss")
}
