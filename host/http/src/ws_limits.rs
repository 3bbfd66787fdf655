//! What a WebSocket's server may send before the client fails the socket:
//! the largest message and frame, and frames per second.

/// What a WebSocket's server may send; a breach fails that socket only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsLimits {
    /// The largest message, its fragments joined, in bytes.
    pub max_message: usize,
    /// The largest frame's payload, in bytes: checked on its header.
    pub max_frame: usize,
    /// Frames (control frames and fragments included) a server may send
    /// within one second.
    pub max_frames_per_second: u32,
}

impl WsLimits {
    /// The frames a second a server may send unless the client is told otherwise.
    pub const DEFAULT_FRAMES_PER_SECOND: u32 = 100_000;

    /// Messages and frames as large as a response body may be.
    pub fn for_max_body(max_body: usize) -> Self {
        Self {
            max_message: max_body,
            max_frame: max_body,
            max_frames_per_second: Self::DEFAULT_FRAMES_PER_SECOND,
        }
    }
}
