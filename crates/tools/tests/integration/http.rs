#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pryx_tools::http::HttpRequest;
use pryx_tools::{Tool, ToolContext, ToolError};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A minimal HTTP/1.1 server on loopback: `/` answers "hello", `/big` 100 KB, `/redirect`
/// points to `location`. Counts the connections it accepts.
async fn server(location: Option<String>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let location = location.clone();
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&req).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let resp = match (path.as_str(), &location) {
                    ("/redirect", Some(loc)) => format!(
                        "HTTP/1.1 302 Found\r\nLocation: {loc}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    ),
                    ("/big", _) => {
                        let body = "x".repeat(100_000);
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    ("/missing", _) => "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope".to_owned(),
                    _ => "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_owned(),
                };
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), hits)
}

fn ctx(allow_private: bool) -> (tempfile::TempDir, ToolContext) {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = ToolContext::new(dir.path()).unwrap();
    ctx.http.allow_private = allow_private;
    (dir, ctx)
}

#[tokio::test]
async fn refuses_private_loopback_and_metadata_addresses() {
    let (_d, ctx) = ctx(false);
    for url in [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://192.168.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:0:7f00:1]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://localhost/",
    ] {
        let err = HttpRequest::default()
            .execute(json!({"url": url}), ctx.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::Refused(_)), "{url}: {err}");
        assert!(!err.is_fatal());
    }
}

#[tokio::test]
async fn local_server_is_reachable_only_with_allow_private() {
    let (base, hits) = server(None).await;
    let (_d, strict) = ctx(false);
    let err = HttpRequest::default()
        .execute(json!({"url": format!("{base}/")}), strict)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no connection may be made");

    let (_d, open) = ctx(true);
    let out = HttpRequest::default()
        .execute(json!({"url": format!("{base}/")}), open.clone())
        .await
        .unwrap();
    assert!(out.content.starts_with("HTTP 200 OK\n"), "{}", out.content);
    assert!(out.content.contains("content-type: text/plain"));
    assert!(out.content.ends_with("\n\nhello"), "{}", out.content);
    assert_eq!(out.metadata["status"], 200);
    assert!(!out.is_error);
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let out = HttpRequest::default()
        .execute(
            json!({"url": format!("{base}/missing"), "method": "post", "body": "x", "headers": {"X-Test": "1"}}),
            open,
        )
        .await
        .unwrap();
    assert!(out.is_error);
    assert_eq!(out.metadata["status"], 404);
}

#[tokio::test]
async fn allow_list_is_checked_on_every_redirect_hop() {
    let (base, _hits) = server(None).await;
    let port = base.rsplit(':').next().unwrap().to_owned();
    let (redirector, _) = server(Some(format!("http://localhost:{port}/"))).await;
    let (_d, mut c) = ctx(true);
    c.http.allowed_domains = vec!["127.0.0.1".into()];
    let err = HttpRequest::default()
        .execute(json!({"url": format!("{redirector}/redirect")}), c.clone())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("host localhost is not in the allowed domains"),
        "{err}"
    );

    c.http.allowed_domains = vec!["127.0.0.1".into(), "localhost".into()];
    let out = HttpRequest::default()
        .execute(json!({"url": format!("{redirector}/redirect")}), c)
        .await
        .unwrap();
    assert!(out.content.ends_with("hello"), "{}", out.content);
    assert_eq!(out.metadata["redirects"], 1);
}

#[tokio::test]
async fn redirect_to_another_scheme_is_refused() {
    let (redirector, _) = server(Some("file:///etc/passwd".into())).await;
    let (_d, c) = ctx(true);
    let err = HttpRequest::default()
        .execute(json!({"url": format!("{redirector}/redirect")}), c)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Refused(_)), "{err}");
}

#[tokio::test]
async fn response_body_is_capped() {
    let (base, _) = server(None).await;
    let (_d, mut c) = ctx(true);
    c.limits.max_response_bytes = 1_000;
    let out = HttpRequest::default()
        .execute(json!({"url": format!("{base}/big")}), c)
        .await
        .unwrap();
    assert_eq!(out.metadata["truncated"], true);
    assert!(out.content.contains("[body cut at 1000 bytes]"));
    let body = out.content.split_once("\n\n").unwrap().1;
    assert_eq!(body.matches('x').count(), 1_000);
}

#[tokio::test]
async fn bad_urls_and_methods_are_invalid_arguments() {
    let (_d, c) = ctx(false);
    for args in [
        json!({"url": "not a url"}),
        json!({"url": "http://example.com", "method": "GE T"}),
        json!({"url": "http://example.com", "headers": {"bad header": "x"}}),
    ] {
        let err = HttpRequest::default()
            .execute(args.clone(), c.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::InvalidArguments { .. }),
            "{args}: {err}"
        );
    }
    let err = HttpRequest::default()
        .execute(json!({"url": "ftp://example.com/"}), c)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Refused(_)), "{err}");
}

fn local(entry: &str) -> pryx_tools::http::addr::LocalAddress {
    pryx_tools::http::addr::LocalAddress::parse(entry)
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn an_exact_local_address_is_reachable_and_nothing_beside_it() {
    let (allowed, allowed_hits) = server(None).await;
    let (other, other_hits) = server(None).await;
    let port = allowed.rsplit(':').next().unwrap();
    let tool = HttpRequest::reaching(vec![local(&format!("127.0.0.1:{port}"))]);
    let (_d, c) = ctx(false);

    let out = tool
        .execute(json!({"url": format!("{allowed}/")}), c.clone())
        .await
        .unwrap();
    assert!(out.content.ends_with("hello"), "{}", out.content);
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 1);
    // Another spelling of the same address is the same address.
    let decimal = format!("http://2130706433:{port}/");
    tool.execute(json!({ "url": decimal }), c.clone())
        .await
        .unwrap();
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 2);

    // Another port on the same host is not.
    let err = tool
        .execute(json!({"url": format!("{other}/")}), c.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Refused(_)), "{err}");
    assert!(err.to_string().contains("loopback"), "{err}");
    assert_eq!(
        other_hits.load(Ordering::SeqCst),
        0,
        "no connection may be made"
    );

    // Metadata addresses stay out of reach whatever is listed.
    let err = tool
        .execute(json!({"url": "http://169.254.169.254/"}), c.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("never reachable"), "{err}");
}

#[tokio::test]
async fn a_redirect_from_a_listed_local_address_is_checked_again() {
    let (other, other_hits) = server(None).await;
    let (redirector, _) = server(Some(format!("{other}/"))).await;
    let port = redirector.rsplit(':').next().unwrap();
    let tool = HttpRequest::reaching(vec![local(&format!("127.0.0.1:{port}"))]);
    let (_d, c) = ctx(false);
    let err = tool
        .execute(json!({"url": format!("{redirector}/redirect")}), c)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Refused(_)), "{err}");
    assert_eq!(other_hits.load(Ordering::SeqCst), 0);
}
