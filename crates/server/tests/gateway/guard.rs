#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every refusal of the guard: no token, wrong token, foreign Host, two Hosts, a request target
//! naming a foreign host, foreign Origin, WebSocket without a token or from a foreign Origin; and
//! the failed-auth rate limit.

use crate::common;

use common::*;

async fn raw_status(rig: &Rig, path: &str, headers: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut req = rig.http.get(rig.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    status_json(req.send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_missing_and_wrong_tokens() {
    let rig = Rig::start().await;
    let (status, body) = raw_status(&rig, "/sessions", &[]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing bearer token")
    );
    assert!(body["error"]["request_id"].is_string());
    let (status, body) = raw_status(&rig, "/sessions", &[("authorization", "Bearer nope")]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    let (status, _) = raw_status(
        &rig,
        "/sessions",
        &[("authorization", &format!("Basic {TOKEN}"))],
    )
    .await;
    assert_eq!(status, 401);
    // A token in the URL is never accepted (it would land in logs and browser history).
    let (status, _) = raw_status(&rig, &format!("/sessions?token={TOKEN}"), &[]).await;
    assert_eq!(status, 401);
    let (status, _) = raw_status(
        &rig,
        "/sessions",
        &[("authorization", &format!("Bearer {TOKEN}"))],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_foreign_hosts_and_origins_even_with_the_token() {
    let rig = Rig::start().await;
    let auth = format!("Bearer {TOKEN}");
    let port = rig.port;
    for host in [
        format!("evil.example:{port}"),
        "localhost".to_string(),
        format!("127.0.0.1:{}", port + 1),
        format!("rebind.attacker.test:{port}"),
    ] {
        let (status, body) = raw_status(
            &rig,
            "/sessions",
            &[("authorization", &auth), ("host", &host)],
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{host}"
        );
        // Health probes are open but still host-checked (DNS rebinding).
        let (status, _) = raw_status(&rig, "/health", &[("host", &host)]).await;
        assert_eq!(status, 403, "{host}");
    }
    for origin in [
        "http://evil.example",
        &format!("http://evil.example:{port}"),
        "null",
        &format!("https://localhost:{port}"),
    ] {
        let (status, body) = raw_status(
            &rig,
            "/sessions",
            &[("authorization", &auth), ("origin", origin)],
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{origin}"
        );
    }
    for (host, origin) in [
        (
            format!("localhost:{port}"),
            format!("http://localhost:{port}"),
        ),
        (
            format!("127.0.0.1:{port}"),
            format!("http://127.0.0.1:{port}"),
        ),
    ] {
        let (status, _) = raw_status(
            &rig,
            "/sessions",
            &[
                ("authorization", &auth),
                ("host", &host),
                ("origin", &origin),
            ],
        )
        .await;
        assert_eq!(status, 200, "{host} {origin}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_needs_the_token_and_our_origin() {
    let rig = Rig::start().await;
    let auth = format!("Bearer {TOKEN}");
    let status_of = |e: tokio_tungstenite::tungstenite::Error| match e {
        tokio_tungstenite::tungstenite::Error::Http(r) => r.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    };
    let e = Ws::connect(rig.port, &[], "").await.err().unwrap();
    assert_eq!(status_of(e), 401);
    let e = Ws::connect(rig.port, &[("authorization", "Bearer wrong")], "")
        .await
        .err()
        .unwrap();
    assert_eq!(status_of(e), 401);
    let e = Ws::connect(
        rig.port,
        &[("authorization", &auth), ("origin", "http://evil.example")],
        "",
    )
    .await
    .err()
    .unwrap();
    assert_eq!(status_of(e), 403);
    let e = Ws::connect(
        rig.port,
        &[("origin", "http://evil.example")],
        &format!("?token={TOKEN}"),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(status_of(e), 403);
    let e = Ws::connect(
        rig.port,
        &[("authorization", &auth), ("host", "evil.example")],
        "",
    )
    .await
    .err()
    .unwrap();
    assert_eq!(status_of(e), 403);
    // Accepted: the header token only; a query token is refused even from our own origin.
    let mut ws = Ws::connect(rig.port, &[("authorization", &auth)], "")
        .await
        .unwrap();
    ws.send(serde_json::json!({"type": "ping"})).await;
    assert!(matches!(
        ws.next().await,
        pryx_protocol::ws::WsServerMessage::Control(pryx_protocol::ws::WsControl::Pong)
    ));
    let origin = format!("http://127.0.0.1:{}", rig.port);
    let e = Ws::connect(rig.port, &[("origin", &origin)], &format!("?token={TOKEN}"))
        .await
        .err()
        .unwrap();
    assert_eq!(status_of(e), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_auth_is_rate_limited() {
    let rig = Rig::with(Options {
        failures_per_minute: 3,
        ..Options::default()
    })
    .await;
    for _ in 0..3 {
        let (status, _) = raw_status(&rig, "/sessions", &[("authorization", "Bearer guess")]).await;
        assert_eq!(status, 401);
    }
    let (status, body) = raw_status(&rig, "/sessions", &[("authorization", "Bearer guess")]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("UNAUTHORIZED"))
    );
    // A flood of guesses does not lock the user's own clients out.
    let (status, _) = raw_status(
        &rig,
        "/sessions",
        &[("authorization", &format!("Bearer {TOKEN}"))],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = raw_status(&rig, "/sessions", &[]).await;
    assert_eq!(status, 401);
    let (status, _) = raw_status(&rig, "/health", &[]).await;
    assert_eq!(status, 200);
}

/// Writes `request` as raw bytes to the gateway and reads the whole answer (the request asks
/// for `Connection: close`): status and JSON body.
async fn raw_bytes(port: u16, request: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        sock.read_to_end(&mut resp),
    )
    .await
    .expect("the gateway answers and closes")
    .unwrap();
    let resp = String::from_utf8(resp).unwrap();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {resp:?}"));
    let body = resp.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_foreign_request_targets_and_repeated_hosts() {
    let rig = Rig::start().await;
    let port = rig.port;
    let ours = format!("127.0.0.1:{port}");
    let request = |target: &str, hosts: &[&str]| {
        let mut r = format!("GET {target} HTTP/1.1\r\n");
        for h in hosts {
            r.push_str(&format!("Host: {h}\r\n"));
        }
        r.push_str(&format!(
            "Authorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
        ));
        r
    };
    let refused = [
        request("http://evil.example/api/v1/sessions", &[&ours]),
        request(
            &format!("http://evil.example:{port}/api/v1/sessions"),
            &[&ours],
        ),
        request("http://evil.example/api/v1/health", &[&ours]),
        request(&format!("http://user@{ours}/api/v1/sessions"), &[&ours]),
        request(
            &format!("http://127.0.0.1:{}/api/v1/sessions", port + 1),
            &[&ours],
        ),
        request("/api/v1/sessions", &[&ours, "evil.example"]),
        request("/api/v1/sessions", &["evil.example", &ours]),
        request("/api/v1/sessions", &[&ours, &format!("localhost:{port}")]),
        request("/api/v1/health", &[&ours, &ours]),
    ];
    for req in &refused {
        let (status, body) = raw_bytes(port, req).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("VALIDATION_FAILED")),
            "{req}"
        );
        assert!(body["error"]["request_id"].is_string(), "{body}");
    }
    // The gateway's own names, in either form, still pass.
    for req in [
        request("/api/v1/sessions", &[&ours]),
        request(&format!("http://{ours}/api/v1/sessions"), &[&ours]),
        request(
            &format!("http://localhost:{port}/api/v1/sessions"),
            &[&ours],
        ),
    ] {
        let (status, _) = raw_bytes(port, &req).await;
        assert_eq!(status, 200, "{req}");
    }
}
