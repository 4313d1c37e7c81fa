#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Providers through the API: presets, set up with a key that never comes back, a live test,
//! the models a provider lists itself, and removal.

use crate::common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_is_set_up_tested_listed_and_removed_without_its_key_ever_coming_back() {
    let rig = Rig::start().await;
    let local = ScriptedLlm::start().await;
    local.set_models(["llama-local:8b"]);

    let (status, presets) = rig.get("/providers/presets").await;
    assert_eq!(status, 200, "{presets}");
    let ids: Vec<&str> = presets["presets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for id in [
        "openai",
        "anthropic",
        "openrouter",
        "ollama",
        "lmstudio",
        "vllm",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }

    let key = "sk-local-0123456789abcdef";
    let (status, view) = rig
        .put(
            "/providers/box",
            json!({"preset": "vllm", "base_url": local.base_url(), "api_key": key, "default_model": "llama-local:8b"}),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["kind"], "openai-compatible");
    assert_eq!(view["local"], true);
    assert_eq!(view["key_ok"], true, "{view}");
    assert_eq!(view["key_ref"], "secret:provider.box.api_key");
    let (_, listed) = rig.get("/providers").await;
    let config = std::fs::read_to_string(rig.home().join("config.json")).unwrap();
    for text in [view.to_string(), listed.to_string(), config] {
        assert!(!text.contains(key), "the key leaked: {text}");
    }

    // The provider's own list joins the catalog's; a model served on this machine is free.
    let (status, models) = rig.get("/models?provider=box").await;
    assert_eq!(status, 200, "{models}");
    let m = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "box/llama-local:8b")
        .cloned()
        .unwrap_or_else(|| panic!("the listed model is missing: {models}"));
    assert_eq!(
        (m["input_cost"].as_f64(), m["output_cost"].as_f64()),
        (Some(0.0), Some(0.0))
    );
    let (status, body) = rig.get("/models?provider=nobody").await;
    assert_eq!(status, 404, "{body}");

    local.push(Turn::text("pong"));
    let (status, report) = rig.post("/providers/box/test", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["model"], "box/llama-local:8b");
    let asked = local.requests();
    assert_eq!(
        asked.last().unwrap().header("authorization"),
        Some(format!("Bearer {key}").as_str()),
        "the stored key is what the provider receives"
    );

    // A provider's own failure is a report, not an API error.
    local.push(Turn::status(401, None, "invalid api key"));
    let (status, report) = rig.post("/providers/box/test", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["error_code"], "LLM_AUTH", "{report}");

    for (body, code) in [
        (json!({"kind": "nonsense"}), 400),
        (json!({"preset": "nope"}), 404),
        (json!({"base_url": "ftp://x.example"}), 400),
        (
            json!({"kind": "openai-compatible", "api_key": "has space"}),
            400,
        ),
        (json!({"api_key_env": "1BAD"}), 400),
    ] {
        let (status, err) = rig.put("/providers/bad", body.clone()).await;
        assert_eq!(status, code, "{body}: {err}");
    }
    let (status, err) = rig
        .put("/providers/..%2Fx", json!({"preset": "openai"}))
        .await;
    assert!(status == 400 || status == 404, "{status} {err}");

    let (status, _) = rig.delete("/providers/box").await;
    assert_eq!(status, 204);
    let (status, _) = rig.get("/providers/box").await;
    assert_eq!(status, 404);
    let (status, body) = rig.delete("/providers/box").await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_without_a_model_is_tested_with_what_it_lists() {
    let rig = Rig::start().await;
    let local = ScriptedLlm::start().await;
    let (status, view) = rig
        .put(
            "/providers/here",
            json!({"preset": "ollama", "base_url": local.base_url()}),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["key_ref"], serde_json::Value::Null);
    // Nothing listed and no model named: listing the models is the test.
    let (status, report) = rig.post("/providers/here/test", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["model"], "", "{report}");
    assert!(local.requests().is_empty(), "no model call without a model");
    // Once it lists one, that model answers the test.
    local.set_models(["qwen2.5-coder:7b"]);
    local.push(Turn::text("pong"));
    let (_, report) = rig.post("/providers/here/test", json!({})).await;
    assert_eq!(report["model"], "here/qwen2.5-coder:7b", "{report}");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["cost_usd"], 0.0, "a local model is free: {report}");
    // A server that is not there is a failed report with the network error.
    let (_, _) = rig
        .put(
            "/providers/gone",
            json!({"preset": "vllm", "base_url": "http://127.0.0.1:9/v1"}),
        )
        .await;
    let (status, report) = rig.post("/providers/gone/test", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["error_code"], "LLM_NETWORK", "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_id_with_dots_is_one_provider() {
    let rig = Rig::start().await;
    let (status, view) = rig
        .put("/providers/my.local", json!({"preset": "ollama"}))
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["id"], "my.local");
    let (status, _) = rig.get("/providers/my.local").await;
    assert_eq!(status, 200);
    let (status, _) = rig.delete("/providers/my.local").await;
    assert_eq!(status, 204);
}
