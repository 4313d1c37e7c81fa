//! The accept loop: each connection is served by hyper with the settings of
//! [`crate::limits::hyper_http1`] (which `axum::serve` does not let one set), its socket wrapped
//! in [`EnvelopeOnParseError`].

use crate::limits;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Serves `app` until `shutdown`, then waits for the open connections to finish their requests.
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) {
    let builder = limits::hyper_http1();
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to be closed.
                tracing::error!("accept failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Events go out as many small writes; Nagle's algorithm would hold each one back until
        // the previous one is acknowledged. Responses are one write each, so nothing is lost.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(peer = %peer, "cannot disable Nagle's algorithm: {e}");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            tower_service::Service::call(&mut app.clone(), req.map(axum::body::Body::new))
        });
        let io = TokioIo::new(EnvelopeOnParseError::new(stream));
        let conn = builder.serve_connection(io, service).with_upgrades();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                () = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::trace!(peer = %peer, "connection ended: {e}");
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// A connection whose responses from hyper itself carry the API's error envelope.
///
/// hyper answers a request it cannot parse (400), whose target is over its fixed 64 KiB cap (414)
/// or whose head is over its caps (431) on its own, before the application sees it, with an empty
/// body; it offers no hook for that body. Such a response is recognised here as it is written — a
/// whole head with status 400, 414 or 431 and `content-length: 0` ending the write, which the
/// application never sends, since every error of it has a body — and replaced by the same status with the envelope
/// of [`limits::parse_error_body`] and `connection: close` (hyper closes the connection after it).
/// hyper is told to flatten each head into one write (`writev(false)`, and
/// [`AsyncWrite::is_write_vectored`] is false here), so a head is never split across writes.
pub struct EnvelopeOnParseError<S> {
    inner: S,
    /// A replacement response still to be written, and how much of it is.
    pending: Vec<u8>,
    written: usize,
}

impl<S> EnvelopeOnParseError<S> {
    pub fn new(inner: S) -> Self {
        EnvelopeOnParseError {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> EnvelopeOnParseError<S> {
    /// Writes what is left of a replacement response.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending = Vec::new();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

/// Longest response head hyper writes for a parse error (a status line, `content-length: 0` and
/// `date`), with room to spare.
const MAX_ERROR_HEAD: usize = 512;

/// What to write instead of `buf` when it ends with one of hyper's empty error responses: `buf`
/// with that response replaced. hyper closes the connection after such a response, so it is the
/// last thing written; it is normally alone in its write, but may follow the end of an earlier
/// response that was still buffered.
fn replacement(buf: &[u8]) -> Option<Vec<u8>> {
    // Every write passes here: most are turned away by their last bytes.
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let from = buf.len().saturating_sub(MAX_ERROR_HEAD);
    let (start, response) = (from..buf.len())
        .filter(|&i| buf[i..].starts_with(b"HTTP/1."))
        .find_map(|i| Some((i, replace_head(&buf[i..])?)))?;
    let mut out = Vec::with_capacity(start + response.len());
    out.extend_from_slice(&buf[..start]);
    out.extend_from_slice(&response);
    Some(out)
}

/// The response to write instead of `head` when it is one of hyper's empty error responses.
fn replace_head(head: &[u8]) -> Option<Vec<u8>> {
    let status = head.get(..12)?;
    if !(status.starts_with(b"HTTP/1.1 ") || status.starts_with(b"HTTP/1.0 "))
        || ![&b"400"[..], b"414", b"431"].contains(&&status[9..])
    {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let text = text.strip_suffix("\r\n\r\n")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.get(9..12)?.parse().ok()?;
    let mut rest = Vec::new();
    let mut empty = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "content-length" if value.trim() == "0" => empty = true,
            "content-length" | "transfer-encoding" | "content-type" => return None,
            "connection" => {}
            _ => rest.push(line),
        }
    }
    if !empty {
        return None;
    }
    let body = limits::parse_error_body(status)?;
    let mut out = Vec::with_capacity(head.len() + body.len() + 64);
    out.extend_from_slice(status_line.as_bytes());
    out.extend_from_slice(b"\r\n");
    for line in rest {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/json\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&body);
    Some(out)
}

impl<S: AsyncRead + Unpin> AsyncRead for EnvelopeOnParseError<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EnvelopeOnParseError<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(response) = replacement(buf) {
            tracing::info!("refused a request before routing: not HTTP, or over the size limits");
            // Taken whole; written by this and the following flush.
            this.pending = response;
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    /// Never: hyper is to hand over each response head in one buffer (see the type's doc).
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_hypers_empty_error_heads() {
        let out = replacement(
            b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n",
        )
        .expect("replaced");
        let text = String::from_utf8(out).unwrap_or_default();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            head.starts_with("HTTP/1.1 414 URI Too Long\r\ndate: "),
            "{head}"
        );
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("connection: close"));
        assert!(body.contains("VALIDATION_FAILED"));
        assert!(
            replacement(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n"
            )
            .is_some()
        );
        assert!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").is_some());
        // After the end of an earlier response still buffered: that is kept as it is.
        let earlier = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        let out = replacement(
            &[
                &earlier[..],
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            ]
            .concat(),
        )
        .expect("replaced");
        assert!(out.starts_with(earlier));
        assert!(out.ends_with(b"}}"));
        // Responses of the application, and anything that is not a whole empty head, pass.
        for passes in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"{\"error\": 1}",
        ] {
            assert!(replacement(passes).is_none(), "{:?}", String::from_utf8_lossy(passes));
        }
    }
}
