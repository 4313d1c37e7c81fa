#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx models` driven through the real binary with `PRYX_HOME` in a temp dir; refresh is
//! served by a loopback HTTP server.

use crate::common;

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn pryx(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pryx"));
    cmd.env("PRYX_HOME", home).env_remove("HOME");
    cmd
}

const API_JSON: &str = r#"{
  "acme": {
    "id": "acme", "name": "Acme AI", "env": ["ACME_API_KEY"], "api": "https://api.acme.test/v1",
    "doc": "https://acme.test/docs",
    "models": {
      "rocket-1": {
        "id": "rocket-1", "name": "Rocket 1", "attachment": false, "reasoning": false,
        "tool_call": true, "temperature": true, "last_updated": "2025-06-02",
        "modalities": {"input": ["text"], "output": ["text"]},
        "cost": {"input": 0.75, "output": 3},
        "limit": {"context": 64000, "output": 8000}
      }
    }
  }
}"#;

/// Serves each response once, in order, on a loopback port; returns the URL.
fn serve(responses: Vec<Vec<u8>>) -> String {
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

fn http_ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn list_filters_by_provider_with_flags_and_prices() {
    let home = tempfile::tempdir().unwrap();
    pryx(home.path())
        .args(["models", "list", "--provider", "anthropic"])
        .assert()
        .success()
        .stdout(predicate::str::contains("MODEL"))
        .stdout(
            predicate::str::is_match(
                r"anthropic/claude-opus-4-7\s+1000000\s+128000\s+5\.00\s+25\.00\s+TVR",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains("openai/").not());
}

#[test]
fn list_json_is_an_array_of_models() {
    let home = tempfile::tempdir().unwrap();
    let out = pryx(home.path())
        .args(["models", "list", "--provider", "deepseek", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = models.as_array().unwrap();
    assert!(!models.is_empty());
    assert!(models.iter().all(|m| m["provider"] == "deepseek"));
    assert!(models.iter().all(|m| m["context"].as_u64().unwrap() > 0));
}

#[test]
fn unknown_provider_fails_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    pryx(home.path())
        .args(["models", "list", "--provider", "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown provider `nope`"));
}

#[test]
fn info_shows_limits_prices_and_provider() {
    let home = tempfile::tempdir().unwrap();
    pryx(home.path())
        .args(["models", "info", "anthropic/claude-opus-4-7"])
        .assert()
        .success()
        .stdout(predicate::str::contains("context:      1000000"))
        .stdout(predicate::str::contains("cache write:  6.25 $/M tokens"))
        .stdout(predicate::str::contains("api key env:  ANTHROPIC_API_KEY"))
        .stdout(predicate::str::contains("catalog:      built-in"));
}

#[test]
fn info_json_and_errors_for_unknown_or_ambiguous_ids() {
    let home = tempfile::tempdir().unwrap();
    let out = pryx(home.path())
        .args(["models", "info", "openai/gpt-5", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"]["cost"]["input"], 1.25);
    assert_eq!(v["provider"]["env"][0], "OPENAI_API_KEY");
    pryx(home.path())
        .args(["models", "info", "acme/nothing"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown model `acme/nothing`"));
    pryx(home.path())
        .args(["models", "info", "claude-sonnet-4-5"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("anthropic/claude-sonnet-4-5"));
}

#[test]
fn config_overrides_are_applied() {
    let home = tempfile::tempdir().unwrap();
    pryx(home.path())
        .args([
            "config",
            "set",
            "models.overrides[\"anthropic/claude-opus-4-7\"].context",
            "50000",
        ])
        .assert()
        .success();
    pryx(home.path())
        .args(["models", "info", "anthropic/claude-opus-4-7"])
        .assert()
        .success()
        .stdout(predicate::str::contains("context:      50000\n"));
}

#[test]
fn refresh_stores_a_private_cache_that_then_wins() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let url = serve(vec![http_ok(API_JSON)]);
    pryx(&data)
        .args(["models", "refresh", "--url", &url])
        .assert()
        .success()
        .stdout(predicate::str::contains("stored 1 models from 1 providers"));
    let cache = data.join("models-catalog.json");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o600);
    assert_eq!(mode(&data), 0o700);
    pryx(&data)
        .args(["models", "info", "acme/rocket-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("context:      64000"))
        .stdout(predicate::str::contains("input:        0.75 $/M tokens"))
        .stdout(predicate::str::contains(cache.display().to_string()));
    // The refreshed copy replaces the bundled one entirely.
    pryx(&data)
        .args(["models", "info", "anthropic/claude-opus-4-7"])
        .assert()
        .failure();
}

#[test]
fn failed_refresh_keeps_the_old_catalog() {
    let home = tempfile::tempdir().unwrap();
    let url = serve(vec![http_ok("{\"acme\": [")]);
    pryx(home.path())
        .args(["models", "refresh", "--url", &url])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a usable models.dev catalog"));
    assert!(!home.path().join("models-catalog.json").exists());
    pryx(home.path())
        .args(["models", "info", "anthropic/claude-opus-4-7"])
        .assert()
        .success();
}

#[test]
fn corrupt_cache_falls_back_to_bundled_with_a_warning() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("models-catalog.json"), "{not json").unwrap();
    pryx(home.path())
        .args(["models", "info", "anthropic/claude-opus-4-7"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: ignoring the refreshed model catalog",
        ))
        .stdout(predicate::str::contains("catalog:      built-in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_json_reports_the_round_trip_as_one_object() {
    let server = common::ScriptedLlm::start().await;
    let env = common::Env::scripted(&server);
    server.push_all([common::Turn::text("pong")]);
    let out = env.run(&["models", "test", "mock", "--json"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["provider"], "mock");
    assert_eq!(v["kind"], "openai-compatible");
    assert_eq!(v["model"], "gpt-4o");
    assert_eq!(v["reply"], "pong");
    for key in ["first_event_ms", "total_ms", "tokens_in", "tokens_out"] {
        assert!(v[key].is_u64(), "{key}: {v}");
    }
    assert!(v["cost_usd"].is_f64(), "{v}");

    // The text form shows the same facts.
    server.push_all([common::Turn::text("pong")]);
    let out = env.run(&["models", "test", "mock"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for line in [
        "provider: mock (openai-compatible)",
        "model:    gpt-4o",
        "reply:    pong",
        "latency:  first event ",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
}
