#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Both clients against a third-party mock (`@copilotkit/aimock`) in OpenAI and Anthropic modes.

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pryx_llm::{ChatRequest, Message, Provider, ProviderKind, StopReason, StreamEvent, ToolSpec};
use serde_json::json;

/// The mock process; killed by PID when dropped.
struct Aimock {
    child: Child,
    port: u16,
}

impl Drop for Aimock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn testdeps() -> PathBuf {
    match std::env::var_os("PRYX_TESTDEPS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdeps/node_modules"),
    }
}

async fn start_aimock() -> Aimock {
    let cli = testdeps().join("@copilotkit/aimock/dist/cli.js");
    assert!(
        cli.exists(),
        "@copilotkit/aimock is not installed at {}; run scripts/test.sh to install the test peers",
        cli.display()
    );
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aimock");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("node")
        .arg(&cli)
        .args([
            "-p",
            &port.to_string(),
            "-h",
            "127.0.0.1",
            "-c",
            "6",
            "--log-level",
            "warn",
            "-f",
        ])
        .arg(&fixtures)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("node must be on PATH to run the aimock tests");
    let mock = Aimock { child, port };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return mock;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("aimock did not start listening on port {port}");
}

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o-mini".into(),
        system: Some("You are a test.".into()),
        messages: vec![Message::user(text)],
        tools: vec![ToolSpec {
            name: "weather.lookup".into(),
            description: "Look up the weather".into(),
            parameters: json!({"type":"object","properties":{"location":{"type":"string"}}}),
        }],
        max_tokens: Some(256),
        ..ChatRequest::default()
    }
}

#[tokio::test]
async fn openai_and_anthropic_modes_with_streamed_tool_calls() {
    let mock = start_aimock().await;
    let base = format!("http://127.0.0.1:{}/v1", mock.port);
    for kind in [ProviderKind::OpenAiCompatible, ProviderKind::Anthropic] {
        let (client, _) = common::client(kind, &base);

        let mut stream = client.stream(request("say hello"));
        let mut events = Vec::new();
        while let Some(e) = futures_util::StreamExt::next(&mut stream).await {
            events.push(e.unwrap_or_else(|e| panic!("{kind:?}: {e}")));
        }
        let deltas = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::TextDelta(_)))
            .count();
        assert!(deltas > 1, "{kind:?}: text should stream in pieces");
        let r = pryx_llm::collect_events(&events);
        assert_eq!(
            r.text(),
            "Hello from the mock, streamed in small pieces.",
            "{kind:?}"
        );
        assert_eq!(r.stop_reason, StopReason::EndTurn, "{kind:?}");

        let mut stream = client.stream(request("what is the weather"));
        let mut events = Vec::new();
        while let Some(e) = futures_util::StreamExt::next(&mut stream).await {
            events.push(e.unwrap_or_else(|e| panic!("{kind:?}: {e}")));
        }
        let r = pryx_llm::collect_events(&events);
        assert_eq!(r.stop_reason, StopReason::ToolUse, "{kind:?}");
        let calls = r.tool_calls();
        assert_eq!(calls.len(), 1, "{kind:?}");
        assert_eq!(calls[0].name, "weather.lookup", "{kind:?}");
        assert!(!calls[0].id.is_empty());
        assert_eq!(
            calls[0].arguments_json().unwrap(),
            json!({"location": "San Francisco", "unit": "fahrenheit"})
        );
    }
}
