//! A stdio transport with a size limit per message that fails the waiting requests at once.
//!
//! rmcp drops a line over its own limit and keeps waiting, so a call whose answer is too big
//! would sit until its timeout. Here the server's stdout is read line by line under
//! [`MAX_MESSAGE_BYTES`]; a longer message is discarded as soon as it passes the limit and every
//! request still waiting gets an error response saying why.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};

use process_wrap::tokio::ChildWrapper;
use rmcp::RoleClient;
use rmcp::model::{ErrorCode, ErrorData, JsonRpcError, JsonRpcMessage, RequestId};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::AsyncRwTransport;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::mpsc;

/// Largest message accepted from a stdio server (below rmcp's own line limit).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// Passes on whole lines of at most `limit` bytes; reports (and drops) longer ones.
pub(crate) struct LineCapped<R> {
    inner: R,
    limit: usize,
    /// The line being read.
    line: Vec<u8>,
    /// Complete lines waiting to be read, and how far they were read.
    ready: Vec<u8>,
    pos: usize,
    /// Skipping the rest of an oversized line.
    discarding: bool,
    oversized: mpsc::UnboundedSender<usize>,
    eof: bool,
}

impl<R> LineCapped<R> {
    pub fn new(inner: R, limit: usize, oversized: mpsc::UnboundedSender<usize>) -> Self {
        Self {
            inner,
            limit,
            line: Vec::new(),
            ready: Vec::new(),
            pos: 0,
            discarding: false,
            oversized,
            eof: false,
        }
    }

    fn take_in(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|b| *b == b'\n');
            let end = newline.map_or(bytes.len(), |i| i + 1);
            let (part, rest) = bytes.split_at(end);
            bytes = rest;
            if self.discarding {
                if newline.is_some() {
                    self.discarding = false;
                }
                continue;
            }
            if self.line.len() + part.len() > self.limit {
                // Known too big now: fail the waiting calls without reading the rest.
                let _ = self.oversized.send(self.line.len() + part.len());
                self.line.clear();
                self.discarding = newline.is_none();
                continue;
            }
            self.line.extend_from_slice(part);
            if newline.is_some() {
                self.ready.append(&mut self.line);
            }
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for LineCapped<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pos < this.ready.len() {
                let n = buf.remaining().min(this.ready.len() - this.pos);
                buf.put_slice(&this.ready[this.pos..this.pos + n]);
                this.pos += n;
                if this.pos == this.ready.len() {
                    this.ready.clear();
                    this.pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 16 * 1024];
            let mut rb = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                    this.eof = true;
                    if !this.discarding && !this.line.is_empty() {
                        this.ready.append(&mut this.line);
                    }
                }
                Poll::Ready(Ok(())) => {
                    let filled = rb.filled().to_vec();
                    this.take_in(&filled);
                }
            }
        }
    }
}

/// A child process spoken to over its stdin/stdout, messages capped at [`MAX_MESSAGE_BYTES`].
pub(crate) struct CappedChild {
    inner: AsyncRwTransport<RoleClient, LineCapped<ChildStdout>, ChildStdin>,
    /// Kept so the child lives (and is killed) with the transport.
    child: Option<Box<dyn ChildWrapper>>,
    oversized: mpsc::UnboundedReceiver<usize>,
    waiting: HashSet<RequestId>,
    failed: VecDeque<RxJsonRpcMessage<RoleClient>>,
    server: String,
}

impl CappedChild {
    pub fn new(
        server: &str,
        child: Box<dyn ChildWrapper>,
        stdout: ChildStdout,
        stdin: ChildStdin,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            inner: AsyncRwTransport::new_client(
                LineCapped::new(stdout, MAX_MESSAGE_BYTES, tx),
                stdin,
            ),
            child: Some(child),
            oversized: rx,
            waiting: HashSet::new(),
            failed: VecDeque::new(),
            server: server.to_owned(),
        }
    }

    fn fail_waiting(&mut self, bytes: usize) {
        let message = format!(
            "its answer was more than {bytes} bytes, over the {} MB limit for one message; it was discarded and the request failed (ask for less, e.g. a smaller range)",
            MAX_MESSAGE_BYTES / (1024 * 1024)
        );
        tracing::warn!(server = %self.server, "{message}");
        for id in self.waiting.drain() {
            let error = ErrorData::new(ErrorCode::INTERNAL_ERROR, message.clone(), None);
            self.failed
                .push_back(JsonRpcMessage::Error(JsonRpcError::new(Some(id), error)));
        }
    }
}

impl Transport<RoleClient> for CappedChild {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        if let JsonRpcMessage::Request(r) = &item {
            self.waiting.insert(r.id.clone());
        }
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        loop {
            if let Some(m) = self.failed.pop_front() {
                return Some(m);
            }
            tokio::select! {
                m = self.inner.receive() => {
                    match &m {
                        Some(JsonRpcMessage::Response(r)) => {
                            self.waiting.remove(&r.id);
                        }
                        Some(JsonRpcMessage::Error(e)) => {
                            if let Some(id) = &e.id {
                                self.waiting.remove(id);
                            }
                        }
                        _ => {}
                    }
                    return m;
                }
                Some(bytes) = self.oversized.recv() => self.fail_waiting(bytes),
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        let closed = self.inner.close().await;
        if let Some(mut child) = self.child.take() {
            let waited =
                tokio::time::timeout(std::time::Duration::from_secs(1), child.wait()).await;
            if waited.is_err() {
                let _ = Box::into_pin(child.kill()).await;
            }
        }
        closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn long_lines_are_dropped_and_reported_short_ones_pass() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut input = Vec::new();
        input.extend_from_slice(b"short\n");
        input.extend(std::iter::repeat_n(b'x', 50));
        input.extend_from_slice(b"\nafter\nlast");
        let mut r = LineCapped::new(&input[..], 20, tx);
        let mut out = String::new();
        r.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "short\nafter\nlast");
        assert!(rx.recv().await.unwrap() > 20);
        assert!(rx.try_recv().is_err(), "reported once");
    }
}
