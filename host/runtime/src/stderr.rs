//! A guest's stderr: only its last bytes are kept, to explain a trap (where a
//! Rust panic message lands), and writing never fails, however much the
//! guest writes over the life of its instance.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// How much of a guest's stderr is kept.
const KEPT: usize = 64 * 1024;

/// The tail of what the guest wrote to stderr.
#[derive(Clone, Default)]
pub struct StderrTail(Arc<Mutex<VecDeque<u8>>>);

impl StderrTail {
    fn append(&self, bytes: &[u8]) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = &bytes[bytes.len().saturating_sub(KEPT)..];
        let overflow = (kept.len() + bytes.len()).saturating_sub(KEPT);
        kept.drain(..overflow);
        kept.extend(bytes);
    }

    /// The last lines written, empty ones and Rust's backtrace hint left out.
    pub fn last_lines(&self, count: usize) -> String {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (front, back) = kept.as_slices();
        let text = String::from_utf8_lossy(&[front, back].concat()).into_owned();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
            .collect();
        lines[lines.len().saturating_sub(count)..].join(" ")
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tail_is_kept() {
        let tail = StderrTail::default();
        for run in 0..10_000 {
            tail.append(format!("line {run} of a chatty guest\n").as_bytes());
        }
        tail.append(&vec![b'x'; 3 * KEPT]);
        tail.append(b"\npanicked at boom\n");
        assert_eq!(tail.0.lock().unwrap().len(), KEPT);
        assert!(tail.last_lines(1).ends_with("panicked at boom"));
    }
}
