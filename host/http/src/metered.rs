//! A connection's TCP stream, counting the bytes it moves into its
//! destination's counts in the egress manifest: what went over the wire,
//! TLS records and handshakes included (k6's `data_sent` and
//! `data_received` count the same).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::manifest::Contacted;

pub struct MeteredTcp {
    tcp: TcpStream,
    counts: Arc<Contacted>,
}

impl MeteredTcp {
    pub fn new(tcp: TcpStream, counts: Arc<Contacted>) -> Self {
        Self { tcp, counts }
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// The destination's counts, which its requests are added to as well.
    pub fn counts(&self) -> &Arc<Contacted> {
        &self.counts
    }

    fn sent(&self, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(bytes)) = written {
            self.counts.count_sent(bytes);
        }
        written
    }
}

impl AsyncRead for MeteredTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = read {
            this.counts.count_received(buf.filled().len() - before);
        }
        read
    }
}

impl AsyncWrite for MeteredTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.tcp).poll_write(cx, buf);
        this.sent(written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        this.sent(written)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
