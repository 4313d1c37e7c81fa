#![allow(clippy::unwrap_used, clippy::expect_used)]
//! First start of `pryx serve` on an empty data dir: it runs without any provider, a turn says
//! how to set one up, a provider set up through the API keeps its key out of every answer and
//! out of config.json, a live test reports tokens, and the default model and policy chosen
//! through the API survive restarts.

use crate::common;
use crate::serve_api;

use common::*;
use serde_json::json;
use serve_api::{Api, completion};
use std::time::{Duration, Instant};

const KEY: &str = "sk-test-123456";

fn fresh_env() -> Env {
    Env {
        home: tempfile::tempdir().unwrap(),
        ws: tempfile::tempdir().unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_without_config_then_setup_through_the_api_survives_restarts() {
    let llm = ScriptedLlm::start().await;
    let env = fresh_env();
    let home = env.home.path();
    assert!(!home.join("config.json").exists());

    let serve = Serve::start(&env, &[]);
    let api = Api::of(home, serve.port);
    let ready = api.get("/api/v1/health/ready");
    assert_eq!(ready.status, 200, "{}", ready.text);

    // A session can be created before anything is configured; a turn then says what to do.
    let session = api.create_session(json!({}));
    let sid = session["id"].as_str().unwrap().to_string();
    let refused = api.post(
        &format!("/api/v1/sessions/{sid}/messages"),
        json!({"content": "hello"}),
    );
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(
        refused.code(),
        "PROVIDER_NOT_CONFIGURED",
        "{}",
        refused.text
    );
    assert!(
        refused.message().contains("PUT /api/v1/providers") && refused.message().contains("/setup"),
        "the message says how to fix it: {}",
        refused.text
    );
    // The policy tester works before a provider: the built-in tools, the main workspace.
    let judged = api.post(
        "/api/v1/policy/check",
        json!({"tool": "fs.read", "arguments": {"path": "/etc/passwd"}}),
    );
    assert_eq!(judged.status, 200, "{}", judged.text);
    assert_eq!(judged.json["action"], "deny", "{}", judged.text);
    assert_eq!(
        judged.json["rule"], "workspace-only: path outside workspace",
        "{}",
        judged.text
    );
    let detail = api.get(&format!("/api/v1/sessions/{sid}"));
    assert_eq!(
        detail.json["messages"].as_array().unwrap().len(),
        0,
        "a refused turn records nothing: {}",
        detail.text
    );

    let presets = api.get("/api/v1/providers/presets");
    assert_eq!(presets.status, 200, "{}", presets.text);
    let ids: Vec<&str> = presets.json["presets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for want in [
        "openai",
        "anthropic",
        "ollama",
        "lmstudio",
        "vllm",
        "openrouter",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }

    // The key goes in once and never comes back out.
    let put = api.put(
        "/api/v1/providers/mock",
        json!({"kind": "openai-compatible", "base_url": llm.base_url(), "api_key": KEY}),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    assert!(!put.text.contains(KEY), "{}", put.text);
    assert_eq!(
        put.json["key_ref"], "secret:provider.mock.api_key",
        "{}",
        put.text
    );
    assert_eq!(put.json["key_ok"], true, "{}", put.text);
    assert_eq!(put.json["local"], true, "{}", put.text);
    for path in ["/api/v1/providers", "/api/v1/providers/mock"] {
        let r = api.get(path);
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(!r.text.contains(KEY), "{path}: {}", r.text);
        assert!(
            r.text.contains("secret:provider.mock.api_key"),
            "{}",
            r.text
        );
    }
    let on_disk = std::fs::read_to_string(home.join("config.json")).unwrap();
    assert!(!on_disk.contains(KEY), "{on_disk}");
    let config: serde_json::Value = serde_json::from_str(&on_disk).unwrap();
    assert_eq!(
        config["providers"]["mock"]["api_key"], "secret:provider.mock.api_key",
        "{on_disk}"
    );

    // A live test reaches the provider with the key and reports what it cost.
    llm.push(Turn::text("pong").with_usage(ScriptedUsage {
        input_tokens: 12,
        output_tokens: 3,
        ..ScriptedUsage::default()
    }));
    let tested = api.post("/api/v1/providers/mock/test", json!({"model": "gpt-4o"}));
    assert_eq!(tested.status, 200, "{}", tested.text);
    assert_eq!(tested.json["ok"], true, "{}", tested.text);
    assert_eq!(tested.json["model"], "mock/gpt-4o", "{}", tested.text);
    assert_eq!(tested.json["tokens_in"], 12, "{}", tested.text);
    assert_eq!(tested.json["tokens_out"], 3, "{}", tested.text);
    assert!(tested.json["latency_ms"].is_u64(), "{}", tested.text);
    let probe = &llm.requests()[0];
    assert_eq!(probe.body["model"], "gpt-4o");
    assert_eq!(
        probe.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );

    let model = api.put("/api/v1/model", json!({"id": "mock/gpt-4o"}));
    assert_eq!(model.status, 200, "{}", model.text);
    assert_eq!(model.json["id"], "mock/gpt-4o");

    // The same session now gets an answer.
    llm.push(Turn::text("Hello! The provider is set up."));
    let deadline = Instant::now() + Duration::from_secs(30);
    let events = api.stream_turn(&sid, "hello again").rest(deadline);
    assert_eq!(completion(&events)["stop"], "completed", "{events:#?}");
    let detail = api.get(&format!("/api/v1/sessions/{sid}"));
    let last = detail.json["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "assistant", "{}", detail.text);
    assert_eq!(last["text"], "Hello! The provider is set up.");
    assert_eq!(llm.requests().len(), 2);
    assert_eq!(llm.requests()[1].body["model"], "gpt-4o");

    // Switches survive a restart.
    drop(serve);
    let serve = Serve::start(&env, &[]);
    let api = Api::of(home, serve.port);
    let diag = api.get("/api/v1/diagnostics");
    assert_eq!(diag.status, 200, "{}", diag.text);
    assert_eq!(diag.json["model"], "mock/gpt-4o", "{}", diag.text);
    assert_eq!(diag.json["policy"], "workspace-only", "{}", diag.text);

    let policy = api.put("/api/v1/policy", json!({"name": "read-only"}));
    assert_eq!(policy.status, 200, "{}", policy.text);
    assert_eq!(policy.json["name"], "read-only");
    drop(serve);
    let serve = Serve::start(&env, &[]);
    let api = Api::of(home, serve.port);
    let diag = api.get("/api/v1/diagnostics");
    assert_eq!(diag.json["model"], "mock/gpt-4o", "{}", diag.text);
    assert_eq!(diag.json["policy"], "read-only", "{}", diag.text);
    let fresh = api.create_session(json!({}));
    assert_eq!(fresh["policy"], "read-only", "{fresh:#}");
    assert_eq!(fresh["model"], "mock/gpt-4o", "{fresh:#}");
    let providers = api.get("/api/v1/providers");
    assert_eq!(
        providers.json["providers"][0]["key_ok"], true,
        "{}",
        providers.text
    );
}
