#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Oversized and malformed requests, sent as raw bytes on a socket: every refusal — the
//! application's own limits, the ones hyper enforces before the application sees the request,
//! the body limit, unknown paths and methods — is the API's error envelope with
//! `Content-Type: application/json`.

use crate::common;

use common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response read off the socket.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// Whether the application answered (hyper's own refusals carry no request id).
    fn routed(&self) -> bool {
        self.body["error"]["request_id"].is_string()
    }

    /// Asserts the reply is an error envelope with `status`, a code, and a message naming `words`.
    fn assert_envelope(&self, status: u16, code: &str, words: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
        let envelope: pryx_protocol::ErrorEnvelope =
            serde_json::from_value(self.body.clone()).expect("the error envelope");
        assert_eq!(envelope.error.code.as_str(), code, "{self:?}");
        assert!(envelope.error.message.contains(words), "{self:?}");
    }
}

/// Reads one response: the head, then `content-length` bytes of body. `data` holds what was read
/// off the socket and not used yet (the start of a next response).
fn read_reply_after(stream: &mut TcpStream, data: &mut Vec<u8>) -> Reply {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream
            .read(&mut chunk)
            .expect("a response before the read timeout");
        assert!(n > 0, "connection closed before a response head: {data:?}");
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(data[..head_end].to_vec()).unwrap();
    data.drain(..head_end + 4);
    let status = head[9..12].parse().unwrap();
    let mut reply = Reply {
        status,
        head,
        body: Value::Null,
    };
    let length: usize = reply
        .header("content-length")
        .expect("a content-length")
        .parse()
        .unwrap();
    while data.len() < length {
        let n = stream
            .read(&mut chunk)
            .expect("the body before the read timeout");
        assert!(n > 0, "connection closed within the body: {reply:?}");
        data.extend_from_slice(&chunk[..n]);
    }
    let body: Vec<u8> = data.drain(..length).collect();
    reply.body = serde_json::from_slice(&body).expect("a JSON body");
    reply
}

fn read_reply(stream: &mut TcpStream) -> Reply {
    read_reply_after(stream, &mut Vec::new())
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Sends `request` from another thread (the server may answer, and close, before it has read
/// it all) and reads the response.
fn exchange(port: u16, request: Vec<u8>) -> Reply {
    let mut stream = connect(port);
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        // A refusal may close the connection under the writer; that is not a failure.
        let _ = writer.write_all(&request);
    });
    let reply = read_reply(&mut stream);
    // Whatever the server has not read is not sent: the writer stops here.
    let _ = stream.shutdown(std::net::Shutdown::Both);
    sender.join().unwrap();
    reply
}

fn request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: Bearer {TOKEN}\r\n"
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_request_targets_get_414_in_the_envelope() {
    let rig = Rig::start().await;
    let port = rig.port;
    blocking(move || {
        // Over the application's limit: refused by it, with the request's ids.
        let target = format!("/api/v1/sessions?q={}", "a".repeat(10 * 1024));
        let reply = exchange(port, request(port, "GET", &target, &[], b""));
        reply.assert_envelope(414, "VALIDATION_FAILED", "8 KiB");
        assert!(reply.routed(), "{reply:?}");
        // Over hyper's fixed cap: refused before routing, still in the envelope.
        let target = format!("/api/v1/sessions?q={}", "a".repeat(100 * 1024));
        let reply = exchange(port, request(port, "GET", &target, &[], b""));
        reply.assert_envelope(414, "VALIDATION_FAILED", "8 KiB");
        assert!(!reply.routed(), "{reply:?}");
        assert_eq!(reply.header("connection"), Some("close"));
        // Under the limit: served.
        let target = format!("/api/v1/health?pad={}", "a".repeat(4 * 1024));
        let reply = exchange(port, request(port, "GET", &target, &[], b""));
        assert_eq!(reply.status, 200, "{reply:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_or_too_large_headers_get_431_in_the_envelope() {
    let rig = Rig::start().await;
    let port = rig.port;
    blocking(move || {
        let names: Vec<String> = (0..300).map(|i| format!("x-filler-{i}")).collect();
        let many = |n: usize| -> Vec<(&str, &str)> {
            names[..n].iter().map(|n| (n.as_str(), "1")).collect()
        };
        // 150 are refused by the application, 300 by hyper before routing.
        for (headers, routed) in [(many(150), true), (many(300), false)] {
            let reply = exchange(
                port,
                request(port, "GET", "/api/v1/sessions", &headers, b""),
            );
            reply.assert_envelope(431, "VALIDATION_FAILED", "64 header fields");
            assert!(
                reply.body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("32 KiB"),
                "{reply:?}"
            );
            assert_eq!(reply.routed(), routed, "{reply:?}");
        }
        let value = "v".repeat(100 * 1024);
        let reply = exchange(
            port,
            request(port, "GET", "/api/v1/sessions", &[("x-big", &value)], b""),
        );
        reply.assert_envelope(431, "VALIDATION_FAILED", "32 KiB");
        assert!(reply.routed(), "{reply:?}");
        // Over hyper's cap on the whole head: refused before routing.
        let value = "v".repeat(200 * 1024);
        let reply = exchange(
            port,
            request(port, "GET", "/api/v1/sessions", &[("x-big", &value)], b""),
        );
        reply.assert_envelope(431, "VALIDATION_FAILED", "32 KiB");
        assert!(!reply.routed(), "{reply:?}");
        // Under the limits: served.
        let reply = exchange(
            port,
            request(port, "GET", "/api/v1/sessions", &many(40), b""),
        );
        assert_eq!(reply.status, 200, "{reply:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_2_mb_get_413_in_the_envelope() {
    let rig = Rig::start().await;
    let port = rig.port;
    blocking(move || {
        let big = format!("{{\"title\": \"{}\"}}", "t".repeat(3 * 1024 * 1024));
        let length = big.len().to_string();
        let json = ("content-type", "application/json");
        let reply = exchange(
            port,
            request(
                port,
                "POST",
                "/api/v1/sessions",
                &[json, ("content-length", &length)],
                big.as_bytes(),
            ),
        );
        reply.assert_envelope(413, "VALIDATION_FAILED", "2 MB");
        // Chunked: no length to judge by up front.
        let mut chunked = Vec::new();
        for piece in big.as_bytes().chunks(64 * 1024) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let reply = exchange(
            port,
            request(
                port,
                "POST",
                "/api/v1/sessions",
                &[json, ("transfer-encoding", "chunked")],
                &chunked,
            ),
        );
        reply.assert_envelope(413, "VALIDATION_FAILED", "2 MB");
        // A length that promises more than is sent is refused by the length alone.
        let small = br#"{"title": "short"}"#;
        let reply = exchange(
            port,
            request(
                port,
                "POST",
                "/api/v1/sessions",
                &[json, ("content-length", "3000000")],
                small,
            ),
        );
        reply.assert_envelope(413, "VALIDATION_FAILED", "2 MB");
        // A length that promises less than is sent: the body is cut there, and what follows is
        // read as the next request, which is not HTTP.
        let mut stream = connect(port);
        stream
            .write_all(&request(
                port,
                "POST",
                "/api/v1/sessions",
                &[json, ("content-length", "5")],
                small,
            ))
            .unwrap();
        let mut data = Vec::new();
        read_reply_after(&mut stream, &mut data).assert_envelope(
            400,
            "VALIDATION_FAILED",
            "invalid request body",
        );
        read_reply_after(&mut stream, &mut data).assert_envelope(
            400,
            "VALIDATION_FAILED",
            "not valid HTTP",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_unknown_paths_and_methods_get_the_envelope() {
    let rig = Rig::start().await;
    let port = rig.port;
    blocking(move || {
        let reply = exchange(port, b"GARBAGE\x01 / WHAT\r\n\r\n".to_vec());
        reply.assert_envelope(400, "VALIDATION_FAILED", "not valid HTTP");
        assert!(reply.body["error"]["timestamp"].is_string());
        let reply = exchange(port, b"GET /api/v1/health HTTP/1.1\r\nbad header\r\n\r\n".to_vec());
        reply.assert_envelope(400, "VALIDATION_FAILED", "not valid HTTP");
        let reply = exchange(port, request(port, "DELETE", "/api/v1/health", &[], b""));
        reply.assert_envelope(405, "VALIDATION_FAILED", "method not allowed");
        let reply = exchange(port, request(port, "GET", "/api/v1/nope", &[], b""));
        reply.assert_envelope(404, "NOT_FOUND", "no such endpoint");
        // HTTP/1.0: the same envelopes.
        let reply = exchange(
            port,
            format!("GET /api/v1/nope HTTP/1.0\r\nhost: 127.0.0.1:{port}\r\nauthorization: Bearer {TOKEN}\r\n\r\n").into_bytes(),
        );
        reply.assert_envelope(404, "NOT_FOUND", "no such endpoint");
        assert!(reply.head.starts_with("HTTP/1.0 404"), "{reply:?}");
        let reply = exchange(port, b"GET /api/v1/sessions HTTP/1.0\r\n\r\n".to_vec());
        reply.assert_envelope(403, "FORBIDDEN", "Host header");
        let target = format!("/api/v1/sessions?q={}", "a".repeat(100 * 1024));
        let reply = exchange(port, format!("GET {target} HTTP/1.0\r\n\r\n").into_bytes());
        reply.assert_envelope(414, "VALIDATION_FAILED", "8 KiB");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_serves_on_after_the_applications_refusals() {
    let rig = Rig::start().await;
    let port = rig.port;
    blocking(move || {
        let mut stream = connect(port);
        let target = format!("/api/v1/sessions?q={}", "a".repeat(10 * 1024));
        stream
            .write_all(&request(port, "GET", &target, &[], b""))
            .unwrap();
        read_reply(&mut stream).assert_envelope(414, "VALIDATION_FAILED", "8 KiB");
        stream
            .write_all(&request(port, "GET", "/api/v1/sessions", &[], b""))
            .unwrap();
        let reply = read_reply(&mut stream);
        assert_eq!(reply.status, 200, "{reply:?}");
        // Error bodies of the application pass through as they are.
        stream
            .write_all(&request(port, "GET", "/api/v1/sessions/nope", &[], b""))
            .unwrap();
        read_reply(&mut stream).assert_envelope(404, "NOT_FOUND", "");
    })
    .await;
}
