#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The in-process server API.

use pryx_testkit::{ScriptFile, ScriptedLlm, ScriptedToolCall, Turn};

#[tokio::test]
async fn queue_and_base_url() {
    let server = ScriptedLlm::start().await;
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    assert!(server.base_url().ends_with("/v1"));
    server
        .push(Turn::text("a"))
        .push(Turn::tool_calls([ScriptedToolCall::new(
            "c",
            "n",
            serde_json::json!({}),
        )]));
    assert_eq!(server.remaining(), 2);
    assert!(server.requests().is_empty());
}

#[test]
fn script_files_parse_as_list_or_object() {
    let list: ScriptFile =
        serde_json::from_str(r#"[{"text":"a"},{"failure":{"kind":"malformed_sse"}}]"#).unwrap();
    let turns = list.into_turns();
    assert_eq!(turns[0], Turn::text("a"));
    assert_eq!(turns[1], Turn::malformed_sse());
    let obj: ScriptFile = serde_json::from_str(
        r#"{"turns":[{"reasoning":"r","text":"t","first_token_delay_ms":5}]}"#,
    )
    .unwrap();
    let t = &obj.into_turns()[0];
    assert_eq!(t.reasoning.as_deref(), Some("r"));
    assert_eq!(t.first_token_delay_ms, 5);
}
