//! Refresh against a loopback HTTP server: good, corrupt, oversize and failing downloads.

use super::*;
use crate::{Catalog, CatalogSource, cache_path};
use std::io::{Read, Write};
use std::net::TcpListener;

/// A models.dev-shaped document with fields we drop (`id`, `last_updated`, `interleaved` as an
/// object) and fields of the wrong type (which must be dropped, not fail the refresh).
pub(crate) const API_JSON: &str = r#"{
  "acme": {
    "id": "acme", "name": "Acme AI", "env": ["ACME_API_KEY"], "npm": "@ai-sdk/openai-compatible",
    "api": "https://api.acme.test/v1", "doc": "https://acme.test/docs",
    "models": {
      "rocket-1": {
        "id": "rocket-1", "name": "Rocket 1", "family": "rocket", "attachment": true,
        "reasoning": true, "tool_call": true, "temperature": true, "knowledge": "2025-01",
        "release_date": "2025-06-01", "last_updated": "2025-06-02", "open_weights": false,
        "interleaved": {"field": "reasoning_content"},
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        "cost": {"input": 2, "output": 8.5, "cache_read": 0.5, "context_over_200k": {"input": 4}},
        "limit": {"context": 300000, "output": 32000.0}
      },
      "odd": {"name": 42, "tool_call": "yes", "cost": {"input": -3, "output": "cheap"}, "limit": {"context": -1}}
    }
  },
  "broken-provider": "not an object",
  "no-models": {"name": "Nothing here"}
}"#;

/// Serves `responses` in order, one per connection, from a loopback port.
pub(crate) fn serve(responses: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for response in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{addr}/api.json")
}

pub(crate) fn http_ok(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[tokio::test]
async fn good_download_is_converted_cached_and_preferred() {
    let home = tempfile::tempdir().unwrap();
    let url = serve(vec![http_ok(API_JSON.as_bytes())]);
    let report = refresh(&url, home.path(), MAX_DOWNLOAD_BYTES)
        .await
        .unwrap();
    assert_eq!((report.providers, report.models), (1, 2));
    assert_eq!(report.downloaded_bytes, API_JSON.len() as u64);
    assert_eq!(report.path, cache_path(home.path()));

    let loaded = Catalog::load(home.path()).unwrap();
    assert_eq!(loaded.source, CatalogSource::Cache(report.path.clone()));
    assert!(loaded.warning.is_none());
    let cat = loaded.catalog;
    let m = cat.lookup("acme/rocket-1").unwrap();
    assert_eq!((m.context, m.output), (300_000, 32_000));
    assert_eq!(
        (m.cost.input, m.cost.output, m.cost.cache_read),
        (2.0, 8.5, Some(0.5))
    );
    assert!(m.supports_images() && m.reasoning && m.tool_call);
    let p = cat.provider("acme").unwrap();
    assert_eq!(p.env, vec!["ACME_API_KEY".to_string()]);
    assert_eq!(p.api.as_deref(), Some("https://api.acme.test/v1"));
    // Wrongly typed fields are dropped, leaving defaults.
    let odd = cat.lookup("acme/odd").unwrap();
    assert_eq!(odd.name, "odd");
    assert!(!odd.cost.known && !odd.limits_known);
    let source = cat.data().source.clone().unwrap();
    assert!(source.contains("models.dev") && source.contains(&url));
}

#[tokio::test]
async fn corrupt_download_keeps_the_previous_cache() {
    let home = tempfile::tempdir().unwrap();
    let url = serve(vec![
        http_ok(API_JSON.as_bytes()),
        http_ok(b"{\"acme\": {\"models\": "),
    ]);
    refresh(&url, home.path(), MAX_DOWNLOAD_BYTES)
        .await
        .unwrap();
    let before = std::fs::read(cache_path(home.path())).unwrap();
    let err = refresh(&url, home.path(), MAX_DOWNLOAD_BYTES)
        .await
        .unwrap_err();
    assert!(matches!(err, RefreshError::Invalid { .. }), "{err}");
    assert_eq!(std::fs::read(cache_path(home.path())).unwrap(), before);
}

#[tokio::test]
async fn json_without_models_is_rejected() {
    let home = tempfile::tempdir().unwrap();
    let url = serve(vec![
        http_ok(br#"{"acme": {"name": "x"}}"#),
        http_ok(b"[1,2]"),
    ]);
    for _ in 0..2 {
        let err = refresh(&url, home.path(), MAX_DOWNLOAD_BYTES)
            .await
            .unwrap_err();
        assert!(matches!(err, RefreshError::Invalid { .. }), "{err}");
    }
    assert!(!cache_path(home.path()).exists());
}

#[tokio::test]
async fn oversize_download_is_refused_by_length_and_by_stream() {
    let home = tempfile::tempdir().unwrap();
    let big = vec![b' '; 4096];
    let mut unannounced = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    unannounced.extend_from_slice(&big);
    let url = serve(vec![http_ok(&big), unannounced]);
    for _ in 0..2 {
        let err = refresh(&url, home.path(), 1024).await.unwrap_err();
        assert!(
            matches!(err, RefreshError::TooLarge { limit: 1024, .. }),
            "{err}"
        );
    }
    assert!(!cache_path(home.path()).exists());
}

#[tokio::test]
async fn http_error_status_and_bad_scheme_are_reported() {
    let home = tempfile::tempdir().unwrap();
    let url = serve(vec![
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    ]);
    let err = refresh(&url, home.path(), MAX_DOWNLOAD_BYTES)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RefreshError::Status { status: 404, .. }),
        "{err}"
    );
    let err = refresh("file:///etc/passwd", home.path(), MAX_DOWNLOAD_BYTES)
        .await
        .unwrap_err();
    assert!(matches!(err, RefreshError::BadUrl(_)));
}

#[tokio::test]
async fn unreachable_server_is_a_network_error() {
    let home = tempfile::tempdir().unwrap();
    // Bind then drop to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/api.json");
    let err = refresh(&url, home.path(), MAX_DOWNLOAD_BYTES)
        .await
        .unwrap_err();
    assert!(matches!(err, RefreshError::Network { .. }), "{err}");
}

#[test]
fn compact_shape_is_accepted_as_is() {
    let data = crate::data::decode_gz(crate::data::BUNDLED_GZ).unwrap();
    let json = serde_json::to_vec(&data).unwrap();
    let converted = convert_api_json(&json).unwrap();
    assert_eq!(converted, data);
}

#[test]
fn corrupt_cache_falls_back_to_bundled_with_warning() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(cache_path(home.path()), b"garbage").unwrap();
    let loaded = Catalog::load(home.path()).unwrap();
    assert_eq!(loaded.source, CatalogSource::Bundled);
    let warning = loaded.warning.unwrap();
    assert!(
        warning.contains("built-in copy") && warning.contains("pryx models refresh"),
        "{warning}"
    );
    assert!(loaded.catalog.lookup("anthropic/claude-sonnet-4-5").is_ok());
}
