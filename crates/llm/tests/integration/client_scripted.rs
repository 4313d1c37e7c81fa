#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The clients against the scripted server over real sockets: requests sent, events received.

use crate::common;

use common::client;
use futures_util::StreamExt;
use pryx_llm::{
    AssistantPart, ChatRequest, Message, Provider, ProviderKind, StopReason, StreamEvent, ToolSpec,
    Usage,
};
use pryx_testkit::{ScriptedLlm, ScriptedToolCall, ScriptedUsage, Turn};
use serde_json::json;

fn tools() -> Vec<ToolSpec> {
    ["fs.read", "shell.exec"]
        .iter()
        .map(|n| ToolSpec {
            name: n.to_string(),
            description: format!("{n} tool"),
            parameters: json!({"type":"object"}),
        })
        .collect()
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        system: Some("You are Pryx.".into()),
        messages: vec![Message::user("hello")],
        tools: tools(),
        ..ChatRequest::default()
    }
}

#[tokio::test]
async fn openai_text_usage_and_recorded_request() {
    let server = ScriptedLlm::start().await;
    server.push(
        Turn::reasoning("thinking", "Hello there, friend.").with_usage(ScriptedUsage {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_tokens: 90,
            reasoning_tokens: 2,
            ..ScriptedUsage::default()
        }),
    );
    let (client, _) = common::client_with(
        ProviderKind::OpenAiCompatible,
        &server.base_url(),
        |mut s| {
            s.headers
                .push(("HTTP-Referer".into(), "https://pryx.dev".into()));
            s
        },
    );
    let mut stream = client.stream(request());
    let mut deltas = 0;
    let mut events = Vec::new();
    while let Some(e) = stream.next().await {
        let e = e.unwrap();
        if matches!(e, StreamEvent::TextDelta(_)) {
            deltas += 1;
        }
        events.push(e);
    }
    assert!(deltas > 3, "text arrives in pieces");
    let r = pryx_llm::collect_events(&events);
    assert_eq!(r.text(), "Hello there, friend.");
    assert_eq!(
        r.content[0],
        AssistantPart::Reasoning {
            text: "thinking".into(),
            signature: None
        }
    );
    assert_eq!(r.stop_reason, StopReason::EndTurn);
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_tokens: 90,
            cache_write_tokens: 0,
            reasoning_tokens: 2
        }
    );

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer sk-test-secret")
    );
    assert_eq!(reqs[0].header("http-referer"), Some("https://pryx.dev"));
    let body = &reqs[0].body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(
        body["messages"][0],
        json!({"role":"system","content":"You are Pryx."})
    );
    assert_eq!(body["tools"][0]["function"]["name"], "fs__read");
}

#[tokio::test]
async fn openai_parallel_tool_calls_round_trip() {
    let server = ScriptedLlm::start().await;
    server.push(
        Turn::tool_calls([
            ScriptedToolCall::new(
                "call_1",
                "fs__read",
                json!({"path": "src/main.rs", "limit": 200}),
            ),
            ScriptedToolCall::new(
                "call_2",
                "shell__exec",
                json!({"cmd": "cargo test --workspace"}),
            ),
        ])
        .with_chunk_chars(2),
    );
    server.push(Turn::text("done"));
    let (client, _) = client(ProviderKind::OpenAiCompatible, &server.base_url());
    let r = client.complete(request()).await.unwrap();
    assert_eq!(r.stop_reason, StopReason::ToolUse);
    let calls = r.tool_calls();
    assert_eq!(calls[0].name, "fs.read");
    assert_eq!(
        calls[0].arguments_json().unwrap(),
        json!({"path": "src/main.rs", "limit": 200})
    );
    assert_eq!(calls[1].name, "shell.exec");
    assert_eq!(
        calls[1].arguments_json().unwrap(),
        json!({"cmd": "cargo test --workspace"})
    );

    let mut req = request();
    let ids: Vec<String> = calls.iter().map(|c| c.id.clone()).collect();
    req.messages.push(r.clone().into_message());
    for id in &ids {
        req.messages
            .push(Message::tool_result(id.clone(), "ok", false));
    }
    assert_eq!(client.complete(req).await.unwrap().text(), "done");
    let body = &server.requests()[1].body;
    assert_eq!(
        body["messages"][2]["tool_calls"][1]["function"]["name"],
        "shell__exec"
    );
    assert_eq!(
        body["messages"][3],
        json!({"role":"tool","tool_call_id":"call_1","content":"ok"})
    );
}

#[tokio::test]
async fn anthropic_thinking_tools_headers_and_signature_round_trip() {
    let server = ScriptedLlm::start().await;
    server.push(Turn {
        reasoning: Some("I should read the file.".into()),
        signature: Some("sig-abc".into()),
        text: Some("Reading.".into()),
        tool_calls: vec![ScriptedToolCall::new(
            "toolu_1",
            "fs__read",
            json!({"path": "a.txt"}),
        )],
        usage: Some(ScriptedUsage {
            input_tokens: 3,
            output_tokens: 50,
            cache_read_tokens: 1000,
            cache_write_tokens: 20,
            reasoning_tokens: 0,
        }),
        ..Turn::default()
    });
    server.push(Turn::text("All good."));
    let (client, _) = client(ProviderKind::Anthropic, &server.base_url());
    let mut req = request();
    req.thinking_budget = Some(2048);
    let r = client.complete(req.clone()).await.unwrap();
    assert_eq!(
        r.content[0],
        AssistantPart::Reasoning {
            text: "I should read the file.".into(),
            signature: Some("sig-abc".into())
        }
    );
    assert_eq!(r.text(), "Reading.");
    assert_eq!(r.tool_calls()[0].name, "fs.read");
    assert_eq!(r.stop_reason, StopReason::ToolUse);
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 3,
            output_tokens: 50,
            cache_read_tokens: 1000,
            cache_write_tokens: 20,
            reasoning_tokens: 0
        }
    );

    req.messages.push(r.into_message());
    req.messages
        .push(Message::tool_result("toolu_1", "contents", false));
    assert_eq!(client.complete(req).await.unwrap().text(), "All good.");

    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/v1/messages");
    assert_eq!(reqs[0].header("x-api-key"), Some("sk-test-secret"));
    assert_eq!(reqs[0].header("anthropic-version"), Some("2023-06-01"));
    assert!(reqs[0].header("authorization").is_none());
    let first = &reqs[0].body;
    assert_eq!(first["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(first["tools"][1]["cache_control"]["type"], "ephemeral");
    assert_eq!(first["thinking"]["budget_tokens"], 2048);
    let second = &reqs[1].body;
    let assistant = &second["messages"][1]["content"];
    assert_eq!(
        assistant[0],
        json!({"type":"thinking","thinking":"I should read the file.","signature":"sig-abc"})
    );
    assert_eq!(
        assistant[2],
        json!({"type":"tool_use","id":"toolu_1","name":"fs__read","input":{"path":"a.txt"}})
    );
    assert_eq!(
        second["messages"][2]["content"][0]["tool_use_id"],
        "toolu_1"
    );
}

#[tokio::test]
async fn anthropic_base_url_without_version_segment() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::text("hi"));
    let root = server.base_url().trim_end_matches("/v1").to_string();
    let (client, _) = client(ProviderKind::Anthropic, &root);
    assert_eq!(client.complete(request()).await.unwrap().text(), "hi");
    assert_eq!(server.requests()[0].path, "/v1/messages");
}

#[tokio::test]
async fn build_provider_gives_a_shareable_trait_object() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::text("from dyn"));
    let settings =
        pryx_llm::ProviderSettings::new("local", ProviderKind::OpenAiCompatible, server.base_url());
    let provider: std::sync::Arc<dyn Provider> = pryx_llm::build_provider(settings).unwrap();
    assert_eq!(provider.id(), "local");
    assert_eq!(
        provider.complete(request()).await.unwrap().text(),
        "from dyn"
    );
    assert!(
        server.requests()[0].header("authorization").is_none(),
        "no key, no auth header"
    );
}

#[tokio::test]
async fn lists_the_models_a_server_serves_and_classifies_refusals() {
    let server = ScriptedLlm::start().await;
    server.set_models(["llama3:8b", "qwen2.5-coder"]);
    let (c, _) = client(ProviderKind::OpenAiCompatible, &server.base_url());
    assert_eq!(
        c.list_models().await.unwrap(),
        vec!["llama3:8b".to_string(), "qwen2.5-coder".to_string()]
    );
    let asked = server.requests();
    assert!(
        asked.is_empty(),
        "listing is not a recorded chat request: {asked:?}"
    );
    // A server that does not list models is a clear error, not an empty answer.
    let nothing = pryx_llm::build_provider(pryx_llm::ProviderSettings::new(
        "gone",
        ProviderKind::OpenAiCompatible,
        format!("{}/nowhere", server.base_url()),
    ))
    .unwrap();
    let e = nothing.list_models().await.unwrap_err();
    assert_eq!(e.code(), pryx_protocol::ErrorCode::LlmBadRequest, "{e}");
}
