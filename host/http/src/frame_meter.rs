//! A WebSocket server's frames counted on the wire, from each frame's
//! header as the bytes are read: a server that sends more frames in a
//! second than the limit fails its socket before the client reads on.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A server sent more frames within a second than the limit.
#[derive(Debug, thiserror::Error)]
#[error("over {0} frames in a second")]
pub struct TooManyFrames(pub u32);

/// The server's side of a socket, its frames counted from their headers as
/// they are read: past the handshake's response head, each frame's header
/// gives its payload's length, skipped to the next header. A read that brings
/// the frames of the current second over the limit fails, and with it the
/// socket: the client stops reading a server that floods it.
pub struct FrameMeter<S> {
    io: S,
    limit: u32,
    scan: Scan,
    window: Instant,
    frames: u32,
}

/// Where the reader is in the server's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// In the handshake's response, `matched` bytes into a `\r\n\r\n`.
    Head { matched: usize },
    /// In a frame's header: its first `have` bytes.
    Header { bytes: [u8; 14], have: usize },
    /// In a frame's payload, `left` bytes to go.
    Payload { left: u64 },
}

impl<S> FrameMeter<S> {
    pub fn new(io: S, limit: u32) -> Self {
        Self {
            io,
            limit,
            scan: Scan::Head { matched: 0 },
            window: Instant::now(),
            frames: 0,
        }
    }

    /// Counts the frames whose headers end in `bytes`, the next bytes read.
    fn frames_in(&mut self, mut bytes: &[u8]) -> u32 {
        let mut frames = 0;
        while let Some((&byte, rest)) = bytes.split_first() {
            match &mut self.scan {
                Scan::Head { matched } => {
                    *matched = match (byte, *matched) {
                        (b'\r', 0 | 2) | (b'\n', 1 | 3) => *matched + 1,
                        (b'\r', _) => 1,
                        _ => 0,
                    };
                    if *matched == 4 {
                        self.scan = EMPTY_HEADER;
                    }
                    bytes = rest;
                }
                Scan::Header {
                    bytes: header,
                    have,
                } => {
                    header[*have] = byte;
                    *have += 1;
                    bytes = rest;
                    if let Some(left) = payload_length(&header[..*have]) {
                        frames += 1;
                        self.scan = match left {
                            0 => EMPTY_HEADER,
                            left => Scan::Payload { left },
                        };
                    }
                }
                Scan::Payload { left } => {
                    let skipped = bytes
                        .len()
                        .min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= skipped as u64;
                    bytes = &bytes[skipped..];
                    if *left == 0 {
                        self.scan = EMPTY_HEADER;
                    }
                }
            }
        }
        frames
    }

    /// Adds `frames` to the current second's; an error past the limit.
    fn count(&mut self, frames: u32) -> io::Result<()> {
        if frames == 0 {
            return Ok(());
        }
        let now = Instant::now();
        if now.duration_since(self.window) >= Duration::from_secs(1) {
            self.window = now;
            self.frames = 0;
        }
        self.frames = self.frames.saturating_add(frames);
        if self.frames > self.limit {
            return Err(io::Error::other(TooManyFrames(self.limit)));
        }
        Ok(())
    }
}

const EMPTY_HEADER: Scan = Scan::Header {
    bytes: [0; 14],
    have: 0,
};

/// The payload length a complete frame header gives; `None` until `header`
/// is complete (RFC 6455 5.2: 2 bytes, then 2 or 8 of length, then 4 of mask).
fn payload_length(header: &[u8]) -> Option<u64> {
    let [_, second, rest @ ..] = header else {
        return None;
    };
    let length_bytes = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask_bytes = if second & 0x80 != 0 { 4 } else { 0 };
    if rest.len() < length_bytes + mask_bytes {
        return None;
    }
    let length = match length_bytes {
        0 => u64::from(second & 0x7f),
        _ => (rest[..length_bytes])
            .iter()
            .fold(0, |length, &byte| length << 8 | u64::from(byte)),
    };
    Some(length)
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameMeter<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        std::task::ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        let frames = this.frames_in(&buf.filled()[before..]);
        Poll::Ready(this.count(frames))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FrameMeter<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames are counted wherever the reads split them, past the head only.
    #[test]
    fn frames_are_counted_from_their_headers_across_reads() {
        let mut wire = b"HTTP/1.1 101 Switching\r\nupgrade: websocket\r\n\r\n".to_vec();
        // Text "hi", an empty ping, a 300-byte binary (16-bit length), a
        // masked 1-byte frame, a 70 000-byte frame (64-bit length).
        wire.extend_from_slice(&[0x81, 2, b'h', b'i', 0x89, 0]);
        wire.extend_from_slice(&[0x82, 126, 0x01, 0x2c]);
        wire.extend_from_slice(&[b'x'; 300]);
        wire.extend_from_slice(&[0x82, 0x81, 1, 2, 3, 4, b'y']);
        wire.extend_from_slice(&[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        wire.extend_from_slice(&vec![b'z'; 70_000]);
        for piece in [1, 3, 7, 1000, wire.len()] {
            let mut meter = FrameMeter::new((), u32::MAX);
            let frames: u32 = wire.chunks(piece).map(|c| meter.frames_in(c)).sum();
            assert_eq!(frames, 5, "in pieces of {piece}");
            assert_eq!(meter.scan, EMPTY_HEADER, "in pieces of {piece}");
        }
    }

    #[test]
    fn a_second_over_the_limit_is_an_error_and_the_next_second_starts_afresh() {
        let mut meter = FrameMeter::new((), 10);
        assert!(meter.count(10).is_ok());
        let error = meter.count(1).unwrap_err();
        assert!(error.get_ref().unwrap().is::<TooManyFrames>());
        meter.window -= Duration::from_secs(1);
        assert!(meter.count(10).is_ok());
    }
}
