#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every REST endpoint over a real socket, against the scripted model.

use crate::common;

use common::*;
use pryx_protocol::{Delta, EventKind, EventPayload, TurnStop};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_diagnostics_models_tools() {
    let rig = Rig::start().await;
    let r = rig.http.get(rig.url("/health")).send().await.unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("healthy")));
    let (status, body) =
        status_json(rig.http.get(rig.url("/health/ready")).send().await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    let (status, d) = rig.get("/diagnostics").await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["components"]["database"], "ok");
    assert!(d["components"]["integrations"].is_object());
    assert_eq!(d["model"], "mock/gpt-4o");
    assert_eq!(d["policy"], "workspace-only");
    let (_, m) = rig.get("/models").await;
    assert_eq!(m["models"][0]["id"], "mock/gpt-4o");
    assert_eq!(m["models"][0]["default"], true);
    let (_, t) = rig.get("/tools").await;
    let names: Vec<&str> = t["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"shell.exec") && names.contains(&"fs.read"),
        "{names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_create_list_search_page_get_delete() {
    let rig = Rig::start().await;
    let (status, created) = rig.post("/sessions", json!({"title": "first"})).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["title"], "first");
    assert_eq!(created["model"], "mock/gpt-4o");
    let a = created["id"].as_str().unwrap().to_string();
    let b = rig.new_session().await;
    rig.llm
        .push_all([Turn::text("the zebra answer"), Turn::text("plain")]);
    rig.send(&a, "tell me about zebras").await;
    rig.wait_completed(&a).await;
    rig.send(&b, "something else").await;
    rig.wait_completed(&b).await;

    let (_, all) = rig.get("/sessions").await;
    assert_eq!(all["sessions"].as_array().unwrap().len(), 2);
    let (_, page) = rig.get("/sessions?limit=1&offset=1").await;
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(
        (page["limit"].as_u64(), page["offset"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, hits) = rig.get("/sessions?q=zebra").await;
    let hits = hits["sessions"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["id"], a.as_str());
    assert!(hits[0]["snippet"].as_str().unwrap().contains("zebra"));

    let (status, detail) = rig.get(&format!("/sessions/{a}")).await;
    assert_eq!(status, 200);
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["tell me about zebras", "the zebra answer"]);
    assert!(detail["last_version"].as_u64().unwrap() >= 4);

    let (status, _) = rig.delete(&format!("/sessions/{a}")).await;
    assert_eq!(status, 204);
    let (status, err) = rig.get(&format!("/sessions/{a}")).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "NOT_FOUND");
    let (status, _) = rig.delete(&format!("/sessions/{a}")).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_the_envelope_with_request_and_trace_ids() {
    let rig = Rig::start().await;
    let r = rig
        .http
        .post(rig.url("/sessions"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .header("x-request-id", "req-abc")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-abc");
    let (status, body) = status_json(r).await;
    assert_eq!(status, 400);
    let e = &body["error"];
    assert_eq!(e["code"], "VALIDATION_FAILED");
    assert_eq!(e["request_id"], "req-abc");
    assert_eq!(e["trace_id"].as_str().unwrap().len(), 32);
    assert!(e["timestamp"].as_str().unwrap().ends_with('Z'));
    let (status, body) = rig.get("/sessions?limit=0").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("VALIDATION_FAILED"))
    );
    let (status, body) = rig.post("/sessions", json!({"model": "other/model"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND")),
        "{body}"
    );
    let (status, body) = rig.get("/nothing-here").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    let r = rig
        .http
        .put(rig.url("/sessions"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 405);
    assert!(body["error"]["request_id"].is_string());
    let (status, body) = rig
        .post("/sessions/nope/messages", json!({"content": "hi"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    let s = rig.new_session().await;
    let (status, _) = rig
        .post(&format!("/sessions/{s}/messages"), json!({"content": "  "}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_streams_as_sse_until_turn_completed() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    rig.llm.push(Turn::text("streamed answer"));
    let r = rig
        .http
        .post(rig.url(&format!("/sessions/{s}/messages?stream=sse")))
        .bearer_auth(TOKEN)
        .json(&json!({"content": "go"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = tokio::time::timeout(Duration::from_secs(10), r.text())
        .await
        .unwrap()
        .unwrap();
    let events: Vec<pryx_protocol::Event> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let kinds: Vec<EventKind> = events
        .iter()
        .map(|e| {
            e.kind()
                .unwrap_or_else(|| panic!("unknown event {}", e.name()))
        })
        .collect();
    assert_eq!(kinds.first(), Some(&EventKind::TurnStarted));
    assert_eq!(kinds.last(), Some(&EventKind::TurnCompleted));
    assert!(kinds.contains(&EventKind::SessionDelta));
    let deltas: String = events
        .iter()
        .filter_map(|e| match &e.payload {
            EventPayload::SessionDelta(Delta::Text { text }) => Some(text.as_str()),
            EventPayload::SessionDelta(other) => panic!("expected a text delta, got {other:?}"),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, "streamed answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_session_conflicts_and_cancel_records_cancelled() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    rig.llm
        .push(Turn::text("slow").with_first_token_delay(Duration::from_secs(30)));
    let accepted = rig.send(&s, "take your time").await;
    let turn = accepted["turn_id"].as_str().unwrap().to_string();
    assert_eq!(accepted["session_id"], s.as_str());
    let (status, body) = rig
        .post(
            &format!("/sessions/{s}/messages"),
            json!({"content": "again"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("CONFLICT"))
    );
    let (status, _) = rig.delete(&format!("/sessions/{s}")).await;
    assert_eq!(status, 409);
    let (_, detail) = rig.get(&format!("/sessions/{s}")).await;
    assert_eq!(detail["session"]["busy"], true);
    let (status, body) = rig.post(&format!("/turns/{turn}/cancel"), json!({})).await;
    assert_eq!(status, 202, "{body}");
    let done = rig.wait_completed(&s).await;
    assert_eq!(done.stop(), Some(TurnStop::Cancelled), "{done:?}");
    let (status, _) = rig.post(&format!("/turns/{turn}/cancel"), json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_lists_tool_calls_and_openapi_covers_every_route() {
    let rig = Rig::start().await;
    let s = rig.new_session().await;
    std::fs::write(
        rig.core.profile(None).unwrap().workspace.join("a.txt"),
        "alpha",
    )
    .unwrap();
    rig.llm.push_all([
        Turn::tool_calls([call("c1", "fs__read", json!({"path": "a.txt"}))]),
        Turn::text("read it"),
    ]);
    rig.send(&s, "read a.txt").await;
    let done = rig.wait_completed(&s).await;
    assert_eq!(done.stop(), Some(TurnStop::Completed), "{done:?}");
    let (status, audit) = rig.get(&format!("/audit?session_id={s}&limit=10")).await;
    assert_eq!(status, 200);
    let entries = audit["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "{audit}");
    assert!(
        entries
            .iter()
            .all(|e| e["session_id"] == s.as_str() && e["hash"].is_string())
    );

    let (status, doc) =
        status_json(rig.http.get(rig.url("/openapi.json")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/sessions",
        "/api/v1/sessions/{id}",
        "/api/v1/sessions/{id}/messages",
        "/api/v1/turns/{id}/cancel",
        "/api/v1/approvals",
        "/api/v1/approvals/{id}",
        "/api/v1/approvals/grants",
        "/api/v1/approvals/grants/{id}",
        "/api/v1/health",
        "/api/v1/health/ready",
        "/api/v1/diagnostics",
        "/api/v1/models",
        "/api/v1/tools",
        "/api/v1/audit",
        "/api/v1/policy",
        "/api/v1/model",
        "/api/v1/skills",
        "/api/v1/skills/{name}",
        "/api/v1/mcp-servers",
        "/api/v1/mcp-servers/{name}",
        "/api/v1/ws",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
    assert!(doc["components"]["schemas"]["GrantList"].is_object());
    assert!(paths["/api/v1/approvals/grants/{id}"]["delete"].is_object());
}
