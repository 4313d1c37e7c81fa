#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Chat Completions stream parsing: every event kind, split and interleaved tool calls.

use crate::common;

use common::{openai_parser, run_parser};
use pryx_llm::{StopReason, StreamEvent, Usage, collect_events};
use pryx_protocol::ErrorCode;

fn chunk(delta: &str, finish: &str) -> String {
    format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}],\"usage\":null}}\n\n"
    )
}

fn usage_chunk() -> String {
    "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":40,\"total_tokens\":140,\"prompt_tokens_details\":{\"cached_tokens\":60},\"completion_tokens_details\":{\"reasoning_tokens\":25}}}\n\n".to_string()
}

#[test]
fn text_reasoning_usage_and_stop() {
    let mut s = String::new();
    s += &chunk(r#"{"role":"assistant","content":""}"#, "null");
    s += &chunk(r#"{"reasoning_content":"think "}"#, "null");
    s += &chunk(r#"{"reasoning":"more"}"#, "null");
    s += &chunk(r#"{"content":"Hel"}"#, "null");
    s += &chunk(r#"{"content":"lo"}"#, "null");
    s += &chunk("{}", "\"stop\"");
    s += &usage_chunk();
    s += "data: [DONE]\n\n";
    for piece in [1, 7, 64, 10_000] {
        let (events, err) = run_parser(&mut openai_parser(&[]), s.as_bytes(), piece);
        assert!(err.is_none(), "{err:?}");
        let response = collect_events(&events);
        assert_eq!(response.text(), "Hello");
        assert_eq!(
            response.content[0],
            pryx_llm::AssistantPart::Reasoning {
                text: "think more".into(),
                signature: None
            }
        );
        assert_eq!(
            response.usage,
            Usage {
                input_tokens: 40,
                output_tokens: 40,
                cache_read_tokens: 60,
                cache_write_tokens: 0,
                reasoning_tokens: 25
            }
        );
        assert_eq!(events.last(), Some(&StreamEvent::Stop(StopReason::EndTurn)));
    }
}

#[test]
fn parallel_tool_calls_with_interleaved_fragments() {
    let mut s = chunk(r#"{"role":"assistant","content":null}"#, "null");
    s += &chunk(
        r#"{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"fs__read","arguments":""}}]}"#,
        "null",
    );
    s += &chunk(
        r#"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"shell__exec","arguments":"{\"cm"}}]}"#,
        "null",
    );
    s += &chunk(
        r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"pa"}}]}"#,
        "null",
    );
    s += &chunk(
        r#"{"tool_calls":[{"index":1,"function":{"arguments":"d\":\"ls\"}"}}]}"#,
        "null",
    );
    s += &chunk(
        r#"{"tool_calls":[{"index":0,"function":{"arguments":"th\":\"a.txt\"}"}}]}"#,
        "null",
    );
    s += &chunk("{}", "\"tool_calls\"");
    s += "data: [DONE]\n\n";
    let (events, err) = run_parser(
        &mut openai_parser(&["fs.read", "shell.exec"]),
        s.as_bytes(),
        5,
    );
    assert!(err.is_none(), "{err:?}");
    let r = collect_events(&events);
    let calls = r.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].id.as_str(), calls[0].name.as_str()),
        ("call_a", "fs.read")
    );
    assert_eq!(
        calls[0].arguments_json().unwrap(),
        serde_json::json!({"path":"a.txt"})
    );
    assert_eq!(
        (calls[1].id.as_str(), calls[1].name.as_str()),
        ("call_b", "shell.exec")
    );
    assert_eq!(
        calls[1].arguments_json().unwrap(),
        serde_json::json!({"cmd":"ls"})
    );
    assert_eq!(r.stop_reason, StopReason::ToolUse);
    let ends = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::ToolCallEnd { .. }))
        .count();
    assert_eq!(ends, 2);
}

#[test]
fn reused_index_with_new_id_is_a_new_call() {
    let mut s = chunk(
        r#"{"tool_calls":[{"index":0,"id":"a","function":{"name":"x","arguments":"{}"}}]}"#,
        "null",
    );
    s += &chunk(
        r#"{"tool_calls":[{"index":0,"id":"b","function":{"name":"y","arguments":"{}"}}]}"#,
        "null",
    );
    s += &chunk("{}", "\"tool_calls\"");
    let (events, err) = run_parser(&mut openai_parser(&[]), s.as_bytes(), 1000);
    assert!(err.is_none());
    let r = collect_events(&events);
    let names: Vec<_> = r.tool_calls().iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["x", "y"]);
}

#[test]
fn legacy_function_call_delta() {
    let mut s = chunk(
        r#"{"function_call":{"name":"fs__read","arguments":"{\"p"}}"#,
        "null",
    );
    s += &chunk(r#"{"function_call":{"arguments":"\":1}"}}"#, "null");
    s += &chunk("{}", "\"function_call\"");
    s += "data: [DONE]\n\n";
    let (events, err) = run_parser(&mut openai_parser(&["fs.read"]), s.as_bytes(), 3);
    assert!(err.is_none());
    let r = collect_events(&events);
    assert_eq!(r.tool_calls()[0].name, "fs.read");
    assert_eq!(r.tool_calls()[0].arguments, "{\"p\":1}");
    assert_eq!(r.stop_reason, StopReason::ToolUse);
}

#[test]
fn every_finish_reason_maps() {
    for (wire, want) in [
        ("stop", StopReason::EndTurn),
        ("length", StopReason::MaxTokens),
        ("tool_calls", StopReason::ToolUse),
        ("content_filter", StopReason::ContentFilter),
        ("function_call", StopReason::ToolUse),
        ("weird", StopReason::Other("weird".into())),
    ] {
        let s = chunk(r#"{"content":"x"}"#, &format!("\"{wire}\"")) + "data: [DONE]\n\n";
        let (events, err) = run_parser(&mut openai_parser(&[]), s.as_bytes(), 9);
        assert!(err.is_none());
        assert_eq!(events.last(), Some(&StreamEvent::Stop(want)));
    }
}

#[test]
fn missing_done_after_finish_is_accepted_but_a_cut_stream_is_not() {
    let ok = chunk(r#"{"content":"x"}"#, "\"stop\"");
    let (_, err) = run_parser(&mut openai_parser(&[]), ok.as_bytes(), 4);
    assert!(err.is_none());
    let cut = chunk(r#"{"content":"x"}"#, "null");
    let (events, err) = run_parser(&mut openai_parser(&[]), cut.as_bytes(), 4);
    assert_eq!(events, vec![StreamEvent::TextDelta("x".into())]);
    assert_eq!(err.unwrap().code(), ErrorCode::LlmProtocol);
}

#[test]
fn error_object_inside_the_stream() {
    let s = chunk(r#"{"content":"par"}"#, "null")
        + "data: {\"error\":{\"message\":\"Rate limit exceeded for sk-test-secret\",\"code\":429}}\n\n";
    let (events, err) = run_parser(&mut openai_parser(&[]), s.as_bytes(), 11);
    assert_eq!(events, vec![StreamEvent::TextDelta("par".into())]);
    let err = err.unwrap();
    assert_eq!(err.code(), ErrorCode::LlmRateLimited);
    assert!(!err.to_string().contains("sk-test-secret"));
    let ctx = "data: {\"error\":{\"message\":\"This model's maximum context length is 8192 tokens\",\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}\n\n";
    let (_, err) = run_parser(&mut openai_parser(&[]), ctx.as_bytes(), 100);
    assert_eq!(err.unwrap().code(), ErrorCode::LlmContextExceeded);
}

#[test]
fn malformed_json_is_a_protocol_error() {
    let (_, err) = run_parser(&mut openai_parser(&[]), b"data: {nope\n\n", 3);
    assert_eq!(err.unwrap().code(), ErrorCode::LlmProtocol);
}
