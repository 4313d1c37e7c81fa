#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Messages stream parsing: every event and delta type.

use crate::common;

use common::{anthropic_parser, run_parser};
use pryx_llm::{AssistantPart, StopReason, StreamEvent, Usage, collect_events};
use pryx_protocol::ErrorCode;

fn ev(kind: &str, data: &str) -> String {
    format!("event: {kind}\ndata: {data}\n\n")
}

fn full_stream() -> String {
    let mut s = ev(
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1,"cache_creation_input_tokens":300,"cache_read_input_tokens":900}}}"#,
    );
    s += &ev("ping", r#"{"type": "ping"}"#);
    s += &ev(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"check."}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBsig=="}}"#,
    );
    s += &ev(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0}"#,
    );
    s += &ev(
        "content_block_start",
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"opaque"}}"#,
    );
    s += &ev(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":1}"#,
    );
    s += &ev(
        "content_block_start",
        r#"{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"Reading "}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"it."}}"#,
    );
    s += &ev(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":2}"#,
    );
    s += &ev(
        "content_block_start",
        r#"{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_1","name":"fs__read","input":{}}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":""}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a"}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":".txt\"}"}}"#,
    );
    s += &ev(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":3}"#,
    );
    s += &ev(
        "content_block_start",
        r#"{"type":"content_block_start","index":4,"content_block":{"type":"tool_use","id":"toolu_2","name":"fs__list","input":{}}}"#,
    );
    s += &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":4,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
    );
    s += &ev(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":4}"#,
    );
    s += &ev(
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":87}}"#,
    );
    s += &ev("message_stop", r#"{"type":"message_stop"}"#);
    s
}

#[test]
fn every_event_and_delta_type() {
    for piece in [1, 13, 200, 100_000] {
        let (events, err) = run_parser(
            &mut anthropic_parser(&["fs.read", "fs.list"]),
            full_stream().as_bytes(),
            piece,
        );
        assert!(err.is_none(), "{err:?}");
        let r = collect_events(&events);
        assert_eq!(
            r.content[0],
            AssistantPart::Reasoning {
                text: "Let me check.".into(),
                signature: Some("EqQBsig==".into())
            }
        );
        assert_eq!(
            r.content[1],
            AssistantPart::RedactedReasoning {
                data: "opaque".into()
            }
        );
        assert_eq!(r.text(), "Reading it.");
        let calls = r.tool_calls();
        assert_eq!(
            (calls[0].id.as_str(), calls[0].name.as_str()),
            ("toolu_1", "fs.read")
        );
        assert_eq!(
            calls[0].arguments_json().unwrap(),
            serde_json::json!({"path":"a.txt"})
        );
        assert_eq!(calls[1].name, "fs.list");
        assert_eq!(r.stop_reason, StopReason::ToolUse);
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 12,
                output_tokens: 87,
                cache_read_tokens: 900,
                cache_write_tokens: 300,
                reasoning_tokens: 0
            }
        );
        assert!(events.contains(&StreamEvent::ToolCallEnd { index: 0 }));
        assert!(events.contains(&StreamEvent::ToolCallEnd { index: 1 }));
        assert_eq!(events.last(), Some(&StreamEvent::Stop(StopReason::ToolUse)));
    }
}

#[test]
fn stop_reasons_map() {
    for (wire, want) in [
        ("end_turn", StopReason::EndTurn),
        ("max_tokens", StopReason::MaxTokens),
        ("tool_use", StopReason::ToolUse),
        ("stop_sequence", StopReason::StopSequence),
        ("refusal", StopReason::ContentFilter),
        ("pause_turn", StopReason::EndTurn),
    ] {
        let s = ev(
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":1}}}"#,
        ) + &ev(
            "message_delta",
            &format!(
                r#"{{"type":"message_delta","delta":{{"stop_reason":"{wire}"}},"usage":{{"output_tokens":2}}}}"#
            ),
        ) + &ev("message_stop", r#"{"type":"message_stop"}"#);
        let (events, err) = run_parser(&mut anthropic_parser(&[]), s.as_bytes(), 17);
        assert!(err.is_none());
        assert_eq!(events.last(), Some(&StreamEvent::Stop(want)));
    }
}

#[test]
fn error_event_mid_stream() {
    let s = ev(
        "message_start",
        r#"{"type":"message_start","message":{"usage":{"input_tokens":1}}}"#,
    ) + &ev(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    ) + &ev(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
    ) + &ev(
        "error",
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    let (events, err) = run_parser(&mut anthropic_parser(&[]), s.as_bytes(), 8);
    assert_eq!(events, vec![StreamEvent::TextDelta("Hi".into())]);
    let err = err.unwrap();
    assert_eq!(err.code(), ErrorCode::LlmServer);
    assert!(err.to_string().contains("Overloaded"));
}

#[test]
fn cut_stream_and_malformed_data_are_protocol_errors() {
    let s = ev(
        "message_start",
        r#"{"type":"message_start","message":{"usage":{"input_tokens":1}}}"#,
    );
    let (_, err) = run_parser(&mut anthropic_parser(&[]), s.as_bytes(), 8);
    assert_eq!(err.unwrap().code(), ErrorCode::LlmProtocol);
    let (_, err) = run_parser(
        &mut anthropic_parser(&[]),
        b"event: message_start\ndata: {oops\n\n",
        8,
    );
    assert_eq!(err.unwrap().code(), ErrorCode::LlmProtocol);
    let (_, err) = run_parser(&mut anthropic_parser(&[]), b"", 8);
    assert_eq!(err.unwrap().code(), ErrorCode::LlmProtocol);
}

#[test]
fn unknown_events_and_deltas_are_ignored() {
    let s = ev("message_start", r#"{"type":"message_start","message":{}}"#)
        + &ev(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        )
        + &ev(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}"#,
        )
        + &ev("future_event", r#"{"type":"future_event"}"#)
        + &ev("message_stop", r#"{"type":"message_stop"}"#);
    let (events, err) = run_parser(&mut anthropic_parser(&[]), s.as_bytes(), 5);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(events, vec![StreamEvent::Stop(StopReason::EndTurn)]);
}
