#![allow(clippy::unwrap_used, clippy::expect_used)]
// `resources/subscribe` is what 2025-11-25 clients send; rmcp marks it legacy.
#![allow(deprecated)]
//! MCP server mode at `/mcp`: a credential is needed (the token or an API key, never a browser
//! cookie), a revoked key is refused, and a key sees only the sessions it started — across its
//! connections, never another key's (escape rows of the MCP entry point); a subscribed client is
//! told of its session's new messages, and cannot subscribe to another's.

use crate::common;

use common::*;
use pryx_mcp::rmcp::model::{
    CallToolRequestParams, ReadResourceRequestParams, ResourceUpdatedNotificationParam,
    SubscribeRequestParams,
};
use pryx_mcp::rmcp::service::{NotificationContext, RunningService};
use pryx_mcp::rmcp::transport::StreamableHttpClientTransport;
use pryx_mcp::rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use pryx_mcp::rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;

type Client = RunningService<RoleClient, ()>;

async fn connect(rig: &Rig, auth: &str) -> Result<Client, String> {
    connect_with(rig, auth, ()).await
}

async fn connect_with<H: ClientHandler>(
    rig: &Rig,
    auth: &str,
    handler: H,
) -> Result<RunningService<RoleClient, H>, String> {
    let url = format!("http://127.0.0.1:{}/mcp", rig.port);
    let config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(auth);
    let transport = StreamableHttpClientTransport::with_client(rig.http.clone(), config);
    handler.serve(transport).await.map_err(|e| e.to_string())
}

/// A client that passes on the resource updates it is sent.
struct Watcher(tokio::sync::mpsc::UnboundedSender<String>);

impl ClientHandler for Watcher {
    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _cx: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params.uri);
    }
}

async fn create_key(rig: &Rig, name: &str) -> (String, String) {
    let (status, body) = rig.post("/api-keys", json!({"name": name})).await;
    assert_eq!(status, 201, "{body}");
    (
        body["key"]["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

fn chat(prompt: &str, session: Option<&str>) -> CallToolRequestParams {
    let mut args = json!({"prompt": prompt});
    if let Some(s) = session {
        args["session"] = json!(s);
    }
    serde_json::from_value(json!({"name": "chat", "arguments": args})).unwrap()
}

fn read(session: &str) -> ReadResourceRequestParams {
    serde_json::from_value(json!({"uri": format!("pryx://sessions/{session}")})).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_needs_a_credential_and_a_key_sees_only_its_own_sessions() {
    let rig = Rig::start().await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"}}});
    for auth in [None, Some("wrong"), Some("pryx-sk-wrong")] {
        let mut req = rig
            .http
            .post(format!("http://127.0.0.1:{}/mcp", rig.port))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(a) = auth {
            req = req.bearer_auth(a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "{auth:?}");
    }
    assert!(connect(&rig, TOKEN).await.is_ok());

    rig.llm
        .push_all([Turn::text("for a"), Turn::text("again for a")]);
    let (a_id, a) = create_key(&rig, "agent-a").await;
    let (_, b) = create_key(&rig, "agent-b").await;
    let first = connect(&rig, &a).await.unwrap();
    let answer = first.call_tool(chat("hello", None)).await.unwrap();
    let session = answer.structured_content.unwrap()["session"]
        .as_str()
        .unwrap()
        .to_string();
    first.cancel().await.unwrap();

    // The key's next connection still has its session; another key's does not.
    let again = connect(&rig, &a).await.unwrap();
    let listed = again.list_all_resources().await.unwrap();
    assert!(
        listed.iter().any(|r| r.uri.contains(&session)),
        "{listed:?}"
    );
    let answer = again.call_tool(chat("more", Some(&session))).await.unwrap();
    assert_eq!(
        answer.structured_content.unwrap()["session"],
        json!(session)
    );
    // Subscribed, the client is told of each new message of its session.
    let (tx, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let watcher = connect_with(&rig, &a, Watcher(tx)).await.unwrap();
    let subscribe: SubscribeRequestParams =
        serde_json::from_value(json!({"uri": format!("pryx://sessions/{session}")})).unwrap();
    watcher.subscribe(subscribe).await.unwrap();
    rig.llm.push(Turn::text("a third answer"));
    again
        .call_tool(chat("once more", Some(&session)))
        .await
        .unwrap();
    let uri = tokio::time::timeout(std::time::Duration::from_secs(30), updates.recv())
        .await
        .expect("no resource update within 30 s")
        .unwrap();
    assert_eq!(uri, format!("pryx://sessions/{session}"));

    let other = connect(&rig, &b).await.unwrap();
    let listed = other.list_all_resources().await.unwrap();
    assert!(
        listed.iter().all(|r| !r.uri.contains(&session)),
        "{listed:?}"
    );
    assert!(other.read_resource(read(&session)).await.is_err());
    let subscribe: SubscribeRequestParams =
        serde_json::from_value(json!({"uri": format!("pryx://sessions/{session}")})).unwrap();
    assert!(other.subscribe(subscribe).await.is_err());
    assert!(other.call_tool(chat("x", Some(&session))).await.is_err());
    assert_eq!(rig.llm.requests().len(), 3, "the refused turn never ran");

    // Revoked: refused at once.
    let (status, body) = rig
        .call(reqwest::Method::DELETE, &format!("/api-keys/{a_id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let refused = connect(&rig, &a).await;
    assert!(refused.is_err());
}
