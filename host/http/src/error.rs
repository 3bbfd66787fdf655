//! What can go wrong with a request, as the client reports it.

/// Why a request got no response. Each kind is counted apart in the results
/// under [`Error::kind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The URL could not be parsed, or is relative with no `--target` set.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The operator's `--allow-host` list does not contain this host.
    #[error("host not allowed: {0}")]
    HostNotAllowed(String),
    /// The method or a header name or value is not valid HTTP.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The egress policy refused every address of the destination: nothing
    /// was sent to it.
    #[error("egress denied: {0}")]
    EgressDenied(String),
    /// No connection could be made (refused, DNS, TLS handshake).
    #[error("cannot connect to {0}")]
    Connect(String),
    /// The request did not complete within its timeout.
    #[error("timed out")]
    Timeout,
    /// More redirects than the session follows.
    #[error("too many redirects")]
    TooManyRedirects,
    /// The connection broke or the peer spoke invalid HTTP.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The response's body was larger than the client accepts.
    #[error("response body over the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// A WebSocket peer broke the protocol (a masked frame, text that is not
    /// UTF-8, a malformed close, a connection dropped without a close) or
    /// refused the handshake.
    #[error("websocket: {0}")]
    WebSocket(String),
    /// A WebSocket frame or message was larger than the client accepts.
    #[error("websocket message over the limit of {limit} bytes")]
    MessageTooLarge { limit: usize },
    /// A WebSocket server sent more frames in a second than the client accepts.
    #[error("websocket server sent over {limit} frames in a second")]
    FrameRate { limit: u32 },
    /// The worker already holds as many sockets, streams and gRPC calls as it may.
    #[error("the worker already holds {limit} open sockets, streams and gRPC calls (--max-open)")]
    TooManyOpen { limit: u32 },
    /// A gRPC answer carried more messages than the client accepts.
    #[error("gRPC answer over the limit of {limit} messages (--grpc-max-messages)")]
    TooManyMessages { limit: usize },
}

impl Error {
    /// The short name of the kind, as counted in the results.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidUrl(_) => "invalid-url",
            Self::HostNotAllowed(_) => "host-not-allowed",
            Self::InvalidRequest(_) => "invalid-request",
            Self::EgressDenied(_) => "egress-denied",
            Self::Connect(_) => "connect",
            Self::Timeout => "timeout",
            Self::TooManyRedirects => "too-many-redirects",
            Self::Protocol(_) => "protocol",
            Self::BodyTooLarge { .. } => "body-too-large",
            Self::WebSocket(_) => "websocket",
            Self::MessageTooLarge { .. } => "message-too-large",
            Self::FrameRate { .. } => "frame-rate",
            Self::TooManyOpen { .. } => "too-many-open",
            Self::TooManyMessages { .. } => "too-many-messages",
        }
    }
}

/// An error and its sources on one line, as every layer reports them.
pub fn one_line(error: &(dyn std::error::Error + '_)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace('\n', " ")
}
