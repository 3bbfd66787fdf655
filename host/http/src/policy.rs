//! What the client decides for every request, whatever a scenario asks: it
//! frames requests itself, speaks only HTTP(S), accepts only the statuses
//! HTTP defines, and credentials do not follow a redirect to another origin.

use http::header::{
    AUTHORIZATION, CONNECTION, CONTENT_LENGTH, COOKIE, PROXY_AUTHORIZATION, TE, TRAILER,
    TRANSFER_ENCODING, UPGRADE,
};
use http::{HeaderName, StatusCode};
use url::Url;

use crate::error::Error;

/// Whether the client alone writes this header: it frames the request or
/// manages the connection, and one set by a scenario could make the server
/// read a second request from the body (request smuggling).
pub fn client_owned(name: &HeaderName) -> bool {
    [
        CONTENT_LENGTH,
        TRANSFER_ENCODING,
        CONNECTION,
        TE,
        TRAILER,
        UPGRADE,
    ]
    .contains(name)
        || matches!(name.as_str(), "keep-alive" | "proxy-connection")
}

/// Refuses a header the client owns.
pub fn check_settable(name: &HeaderName) -> Result<(), Error> {
    if client_owned(name) {
        return Err(Error::InvalidRequest(format!(
            "header {name} is the client's to write (it frames the request or the connection)"
        )));
    }
    Ok(())
}

/// Whether the header carries credentials, which are sent only to the
/// origin the request was first sent to, as browsers and curl do.
pub fn is_credential(name: &HeaderName) -> bool {
    [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION].contains(name)
}

/// Whether `a` and `b` are the same origin: scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A response's status, if HTTP defines it as one: 100 to 599, and not
/// `101 Switching Protocols`, since the client never asks to upgrade.
pub fn check_status(code: u16) -> Result<StatusCode, String> {
    match code {
        101 => Err("101 Switching Protocols to a request that did not ask to upgrade".into()),
        100..=599 => StatusCode::from_u16(code).map_err(|e| e.to_string()),
        _ => Err(format!("status {code} is outside 100-599")),
    }
}

/// Refuses any scheme but `http` and `https`; `given` is what the scenario
/// or the server wrote.
pub fn check_scheme(url: &Url, given: &str) -> Result<(), Error> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::InvalidUrl(format!(
            "{given}: only http and https are supported"
        )));
    }
    Ok(())
}
