//! Failures a real Telegram shows and the emulator does not: outages (5xx answers or reset
//! connections) for a window of time, 429 flood limits and 409s from another poller.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::state::Shared;

/// How the Bot API fails during an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Every call is answered with this HTTP status (e.g. 502) and an error body.
    ServerError(u16),
    /// Every connection is reset at its next read or write, and new ones on accept.
    DropConnections,
}

/// Accepts the shim's connections, resetting them while connections are being dropped.
pub(crate) struct ShimListener {
    pub inner: TcpListener,
    pub shared: Arc<Shared>,
}

impl axum::serve::Listener for ShimListener {
    type Io = ShimIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (ShimIo, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    if dropping(&self.shared) {
                        reset(&self.shared, stream);
                        continue;
                    }
                    let shared = self.shared.clone();
                    return (ShimIo { stream, shared }, addr);
                }
                // Out of file descriptors and the like: wait for some to be released.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

fn dropping(shared: &Shared) -> bool {
    shared.outage_now() == Some(Outage::DropConnections)
}

/// Closes with an RST, as a crashed proxy or a lost route looks to the client.
fn reset(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
    shared.update(|s| s.journal.dropped_connections += 1);
}

fn reset_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "outage: connection dropped")
}

/// A connection of the shim that fails its next I/O once connections are being dropped.
pub(crate) struct ShimIo {
    stream: TcpStream,
    shared: Arc<Shared>,
}

impl ShimIo {
    fn check(&mut self) -> io::Result<()> {
        if dropping(&self.shared) {
            let _ = self.stream.set_zero_linger();
            self.shared.update(|s| s.journal.dropped_connections += 1);
            return Err(reset_error());
        }
        Ok(())
    }
}

impl AsyncRead for ShimIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Only fail once data arrives: an idle keep-alive connection is reset when used.
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if poll.is_ready() {
            self.check()?;
        }
        poll
    }
}

impl AsyncWrite for ShimIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
