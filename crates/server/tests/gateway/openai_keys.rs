#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Per-client API keys on `/v1`: made, listed and revoked through `/api/v1/api-keys` (token
//! only), accepted on `/v1` and nowhere else, limited to their agents, refused once revoked,
//! and each confined to the sessions it started.

use crate::common;

use common::*;
use serde_json::{Value, json};

/// Adds agent `coder` to the data dir's config, which the core re-reads.
fn add_coder(rig: &Rig) {
    let path = rig.home().join("config.json");
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["agents"] = json!({"coder": {}});
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let ids: Vec<String> = rig.core.profiles().into_iter().map(|p| p.id).collect();
    assert!(ids.contains(&"coder".to_string()), "{ids:?}");
}

async fn create_key(rig: &Rig, name: &str, agents: &[&str]) -> (String, String) {
    let (status, body) = rig
        .post("/api-keys", json!({"name": name, "agents": agents}))
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["key"]["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

/// A chat request with `auth`; returns status, the session header and the body.
async fn chat(
    rig: &Rig,
    auth: &str,
    model: &str,
    text: &str,
    session: Option<&str>,
) -> (u16, Option<String>, Value) {
    let body = json!({"model": model, "messages": [{"role": "user", "content": text}]});
    let (_, sid, res) = rig.openai_chat(auth, &body, session).await;
    let (status, body) = status_json(res).await;
    (status, sid, body)
}

async fn models(rig: &Rig, auth: &str) -> (u16, Value) {
    status_json(
        rig.http
            .get(rig.v1("/models"))
            .bearer_auth(auth)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_works_on_v1_only_and_never_shows_again() {
    let rig = Rig::start().await;
    let (id, secret) = create_key(&rig, "editor", &[]).await;
    assert!(secret.starts_with("pryx-sk-"), "{secret}");

    rig.llm.push(Turn::text("hello from a key"));
    let (status, sid, body) = chat(&rig, &secret, "pryx:main", "hi", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "hello from a key");
    let sid = sid.unwrap();
    assert_eq!(
        rig.core.store().session_api_key(&sid).unwrap(),
        Some(id.clone())
    );

    // Not on the gateway's own API.
    let (status, body) = status_json(
        rig.http
            .get(rig.url("/sessions"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("/v1 and on /mcp only"), "{body}");
    let (status, _) = status_json(
        rig.http
            .get(rig.url("/api-keys"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    // Listed with its use, never with the key.
    let (status, list) = rig.get("/api-keys").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["keys"][0]["id"], id.as_str());
    assert_eq!(list["keys"][0]["name"], "editor");
    assert!(list["keys"][0]["last_used_at"].is_string(), "{list}");
    assert!(!list.to_string().contains(&secret[8..]));
    let (_, audit) = rig.get("/audit?limit=50").await;
    assert!(audit.to_string().contains("api_key.created"), "{audit}");
    assert!(!audit.to_string().contains(&secret[8..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_or_wrong_key_is_an_authentication_error() {
    let rig = Rig::with(Options {
        failures_per_minute: 2,
        ..Options::default()
    })
    .await;
    let (id, secret) = create_key(&rig, "script", &[]).await;
    let (status, body) = models(&rig, &secret).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = rig.delete(&format!("/api-keys/{id}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["revoked"]["revoked_at"].is_string(), "{body}");
    let (status, body) = models(&rig, &secret).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["type"], "authentication_error", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    let (_, audit) = rig.get("/audit?limit=50").await;
    assert!(audit.to_string().contains("api_key.revoked"), "{audit}");

    // Wrong keys count toward the failed-authentication limit; the token still passes.
    let (status, _) = models(&rig, "pryx-sk-0000").await;
    assert_eq!(status, 401);
    let (status, body) = models(&rig, "pryx-sk-0001").await;
    assert_eq!(status, 429, "{body}");
    let (status, _) = models(&rig, TOKEN).await;
    assert_eq!(status, 200);
    let (status, _) = rig.delete("/api-keys/unknown").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_key_uses_only_its_agents() {
    let rig = Rig::start().await;
    add_coder(&rig);
    let (status, body) = rig
        .post("/api-keys", json!({"name": "x", "agents": ["nobody"]}))
        .await;
    assert_eq!(status, 404, "{body}");
    let (_, secret) = create_key(&rig, "coder-only", &["coder"]).await;

    let (status, list) = models(&rig, &secret).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pryx:coder"]);
    let (_, all) = models(&rig, TOKEN).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2, "{all}");

    for model in ["pryx:main", "pryx"] {
        let (status, _, body) = chat(&rig, &secret, model, "hi", None).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["type"], "permission_error", "{body}");
        assert_eq!(body["error"]["param"], "model", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(model));
    }
    assert!(rig.llm.requests().is_empty());

    rig.llm.push(Turn::text("coded"));
    let (status, _, body) = chat(&rig, &secret, "pryx:coder", "hi", None).await;
    assert_eq!(status, 200, "{body}");
}
