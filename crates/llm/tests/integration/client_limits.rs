#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A misbehaving server must neither hang a call nor blow up memory: idle timeouts mid-stream,
//! capped error bodies and stream lines, and answers sent as one JSON document. Over real
//! sockets against the scripted server; timeouts are short and every call runs under a
//! generous deadline, so a regression fails instead of hanging.

use crate::common;

use std::future::Future;
use std::time::{Duration, Instant};

use common::{client_with, openai_parser};
use futures_util::StreamExt;
use pryx_llm::wire::StreamParser;
use pryx_llm::{
    ChatRequest, ChatResponse, LlmError, Message, Provider, ProviderKind, StreamEvent, TimeoutPhase,
};
use pryx_protocol::ErrorCode;
use pryx_testkit::{ScriptedLlm, ScriptedToolCall, ScriptedUsage, Turn};
use serde_json::json;

const KINDS: [ProviderKind; 2] = [ProviderKind::OpenAiCompatible, ProviderKind::Anthropic];

/// The idle timeout the tests configure.
const IDLE: Duration = Duration::from_millis(300);

/// Far longer than any test needs; reaching it means the call hung.
const DEADLINE: Duration = Duration::from_secs(20);

fn request() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        ..ChatRequest::default()
    }
}

/// A client with a short idle timeout and a first-token timeout long enough never to matter.
fn idle_client(kind: ProviderKind, server: &ScriptedLlm) -> pryx_llm::Client {
    client_with(kind, &server.base_url(), |mut s| {
        s.stream_idle_timeout = IDLE;
        s.first_token_timeout = Duration::from_secs(15);
        s
    })
    .0
}

async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: still running after {DEADLINE:?}"))
}

/// Drains a stream: the events before the end, and the error it ended with, if any.
async fn drain(client: &pryx_llm::Client) -> (Vec<StreamEvent>, Option<LlmError>) {
    let mut stream = client.stream(request());
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => events.push(e),
            Err(e) => return (events, Some(e)),
        }
    }
    (events, None)
}

fn assert_idle_timeout(err: Option<LlmError>, what: &str) {
    assert_timeout(
        err,
        what,
        (TimeoutPhase::Idle, IDLE),
        ["stream_idle_timeout_ms", "middle of its answer"],
    );
}

/// The call failed with a timeout of `phase` after `limit`, and the message names the setting
/// and says what happened.
fn assert_timeout(
    err: Option<LlmError>,
    what: &str,
    (phase, limit): (TimeoutPhase, Duration),
    phrases: [&str; 2],
) {
    let err = err.unwrap_or_else(|| panic!("{what}: the call must fail"));
    assert_eq!(err.code(), ErrorCode::LlmTimeout, "{what}: {err}");
    assert!(
        matches!(
            &err,
            LlmError::Timeout {
                phase: p,
                after,
                ..
            } if *p == phase && *after == limit
        ),
        "{what}: {err:?}"
    );
    let text = err.to_string();
    for phrase in phrases {
        assert!(text.contains(phrase), "{what}: {text}");
    }
}

#[tokio::test]
async fn one_token_then_silence_ends_at_the_idle_timeout_without_retry() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(Turn::stall_after("Hello there", Duration::from_secs(60)));
        let client = idle_client(kind, &server);
        let started = Instant::now();
        let (events, err) = within("stall", drain(&client)).await;
        let took = started.elapsed();
        assert_eq!(
            pryx_llm::collect_events(&events).text(),
            "Hel",
            "{kind:?}: the first piece arrives"
        );
        assert_idle_timeout(err, &format!("{kind:?}"));
        assert!(took >= IDLE, "{kind:?}: ended after {took:?}");
        assert_eq!(server.requests().len(), 1, "{kind:?}: not retried");
    }
}

#[tokio::test]
async fn a_trickle_slower_than_the_idle_timeout_ends() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(Turn::trickle("Hello there", Duration::from_secs(1)));
        let client = idle_client(kind, &server);
        let (events, err) = within("slow trickle", drain(&client)).await;
        assert_eq!(pryx_llm::collect_events(&events).text(), "Hel", "{kind:?}");
        assert_idle_timeout(err, &format!("{kind:?}"));
        assert_eq!(server.requests().len(), 1, "{kind:?}");
    }
}

#[tokio::test]
async fn bytes_that_never_finish_a_line_do_not_keep_the_stream_alive() {
    // One byte every 20 ms is far faster than the idle timeout, but a stream line takes
    // seconds to complete: no progress, so the call ends at the idle timeout.
    let server = ScriptedLlm::start().await;
    server.push(Turn::trickle("Hello there", Duration::from_millis(20)));
    let client = idle_client(ProviderKind::OpenAiCompatible, &server);
    let started = Instant::now();
    let (events, err) = within("fast trickle", drain(&client)).await;
    assert_eq!(pryx_llm::collect_events(&events).text(), "Hel");
    assert_idle_timeout(err, "fast trickle");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_steady_stream_longer_than_the_idle_timeout_completes() {
    let text = "The quick brown fox jumps over the lazy dog, twice over.";
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        // About 25 frames 40 ms apart: a second in all, each gap far below the timeout.
        server.push(Turn::text(text).with_frame_delay(Duration::from_millis(40)));
        let client = idle_client(kind, &server);
        let started = Instant::now();
        let r = within("steady stream", client.complete(request()))
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(r.text(), text, "{kind:?}");
        assert!(
            started.elapsed() > IDLE * 2,
            "{kind:?}: the stream must outlast the idle timeout to prove anything ({:?})",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn a_pause_shorter_than_the_idle_timeout_is_fine() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::stall_after("Hello there", Duration::from_millis(30)));
    let (client, _) = client_with(ProviderKind::Anthropic, &server.base_url(), |mut s| {
        s.stream_idle_timeout = Duration::from_secs(5);
        s
    });
    let r = within("short pause", client.complete(request()))
        .await
        .unwrap();
    assert_eq!(r.text(), "Hello there");
}

/// The overall call limit the deadline tests configure.
const CALL: Duration = Duration::from_millis(1_200);

fn deadline_client(kind: ProviderKind, server: &ScriptedLlm) -> pryx_llm::Client {
    client_with(kind, &server.base_url(), |mut s| {
        s.stream_idle_timeout = IDLE;
        s.first_token_timeout = Duration::from_secs(15);
        s.call_timeout = CALL;
        s
    })
    .0
}

fn assert_call_timeout(err: Option<LlmError>, what: &str) {
    assert_timeout(
        err,
        what,
        (TimeoutPhase::Call, CALL),
        ["call_timeout_ms", "did not finish its answer"],
    );
}

#[tokio::test]
async fn a_steady_endless_trickle_ends_at_the_call_timeout() {
    // One small frame every 60 ms keeps well inside the idle timeout, and the whole answer
    // would take minutes: only the overall limit can end it.
    let endless = "token ".repeat(2_000);
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(
            Turn::text(endless.clone())
                .with_chunk_chars(6)
                .with_frame_delay(Duration::from_millis(60)),
        );
        let client = deadline_client(kind, &server);
        let started = Instant::now();
        let (events, err) = within("endless trickle", drain(&client)).await;
        let took = started.elapsed();
        let text = pryx_llm::collect_events(&events).text();
        assert!(
            text.starts_with("token token"),
            "{kind:?}: tokens kept arriving before the limit: {text:?}"
        );
        assert!(text.len() < endless.len(), "{kind:?}: the answer was cut");
        assert_call_timeout(err, &format!("{kind:?}"));
        assert!(took >= CALL, "{kind:?}: ended after {took:?}");
        assert!(took < CALL * 4, "{kind:?}: ended late, after {took:?}");
        assert_eq!(server.requests().len(), 1, "{kind:?}: not retried");
    }
}

#[tokio::test]
async fn the_call_timeout_also_bounds_the_wait_for_the_first_token() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::text("late").with_first_token_delay(Duration::from_secs(60)));
    let client = deadline_client(ProviderKind::OpenAiCompatible, &server);
    let (events, err) = within("slow start", drain(&client)).await;
    assert!(events.is_empty(), "{events:?}");
    assert_call_timeout(err, "slow start");
    assert_eq!(
        server.requests().len(),
        1,
        "no retry once the call's time is spent"
    );
}

#[tokio::test]
async fn an_answer_inside_the_call_timeout_completes() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::text("quick answer").with_frame_delay(Duration::from_millis(20)));
    let client = deadline_client(ProviderKind::Anthropic, &server);
    let r = within("quick answer", client.complete(request()))
        .await
        .unwrap();
    assert_eq!(r.text(), "quick answer");
}

#[tokio::test]
async fn cancelling_while_the_stream_is_silent_ends_at_once() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::stall_after("Hello there", Duration::from_secs(60)));
    let (client, _) = client_with(
        ProviderKind::OpenAiCompatible,
        &server.base_url(),
        |mut s| {
            s.stream_idle_timeout = Duration::from_secs(60);
            s
        },
    );
    let req = request();
    let cancel = req.cancel.clone();
    let mut stream = client.stream(req);
    let first = within("first event", stream.next()).await;
    assert!(
        matches!(first, Some(Ok(StreamEvent::TextDelta(_)))),
        "{first:?}"
    );
    cancel.cancel();
    let next = within("after cancel", stream.next()).await;
    assert!(matches!(next, Some(Err(LlmError::Cancelled))), "{next:?}");
}

/// Waits for the server to stop writing `n` bodies, then checks it handed over only a small part
/// of `total`: the client stopped reading instead of buffering the rest.
async fn assert_left_unread(server: &ScriptedLlm, n: u64, total: u64, what: &str) {
    within("the server to stop writing", server.bodies_ended(n)).await;
    let sent = server.body_bytes_sent();
    assert!(
        sent < total / 4,
        "{what}: the server handed over {sent} of {total} bytes; the client must stop reading"
    );
}

#[tokio::test]
async fn a_300_mb_error_body_is_left_unread_past_its_start() {
    const HUGE: u64 = 300 * 1024 * 1024;
    let server = ScriptedLlm::start().await;
    server.push(Turn::huge_error(400, HUGE).with_error_message("bad request: tools[0] is invalid"));
    let (client, _) = common::client(ProviderKind::OpenAiCompatible, &server.base_url());
    let err = within("300 MB error", client.complete(request()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("tools[0] is invalid"), "{err}");
    assert!(err.to_string().len() < 1000, "{err}");
    assert_left_unread(&server, 1, HUGE, "300 MB error body").await;
}

#[tokio::test]
async fn a_huge_error_body_is_classified_from_its_start() {
    const HUGE: u64 = 64 * 1024 * 1024;
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server
            .push(
                Turn::huge_error(400, HUGE)
                    .with_error_message("This model's maximum context length is 8192 tokens"),
            )
            .push(Turn::huge_error(401, HUGE).with_error_message("invalid x-api-key"));
        let (client, _) = common::client(kind, &server.base_url());

        let err = within("huge 400", client.complete(request()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmContextExceeded, "{kind:?}: {err}");
        let text = err.to_string();
        assert!(text.contains("maximum context length is 8192"), "{text}");
        assert!(
            text.len() < 1000,
            "{kind:?}: message of {} bytes",
            text.len()
        );

        let err = within("huge 401", client.complete(request()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmAuth, "{kind:?}: {err}");
        assert!(err.to_string().contains("invalid x-api-key"), "{err}");
        assert!(err.to_string().len() < 1000);
        assert_eq!(
            server.requests().len(),
            2,
            "{kind:?}: client errors are final"
        );
    }
}

#[tokio::test]
async fn huge_server_error_bodies_are_retried_and_still_read_only_in_part() {
    let server = ScriptedLlm::start().await;
    for _ in 0..4 {
        server.push(Turn::huge_error(503, 32 * 1024 * 1024));
    }
    let (client, clock) = common::client(ProviderKind::OpenAiCompatible, &server.base_url());
    let err = within("huge 503", client.complete(request()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmServer, "{err}");
    assert!(err.to_string().len() < 1000);
    assert_eq!(clock.sleeps(), common::secs(&[1, 2, 4]));
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_huge_stream_line_is_a_protocol_error_naming_the_limit() {
    // Far above the 8 MiB limit plus what loopback socket buffers can hold (several MiB each
    // way under load), so "left unread" is a clear margin, not a race with the kernel.
    const HUGE: u64 = 128 * 1024 * 1024;
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(Turn::huge_line(HUGE));
        let (client, _) = common::client(kind, &server.base_url());
        let err = within("huge line", client.complete(request()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmProtocol, "{kind:?}: {err}");
        assert!(err.to_string().contains("8 MiB"), "{kind:?}: {err}");
        assert_eq!(server.requests().len(), 1, "{kind:?}: not retried");
        assert_left_unread(&server, 1, HUGE, &format!("{kind:?} huge line")).await;
    }
}

#[tokio::test]
async fn a_long_line_below_the_limit_is_just_text() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::huge_line(200_000));
    let (client, _) = common::client(ProviderKind::Anthropic, &server.base_url());
    let r = within("long line", client.complete(request()))
        .await
        .unwrap();
    let text = r.text();
    assert!(text.len() > 190_000 && text.bytes().all(|b| b == b'x'));
}

/// A reply with everything a document can carry.
fn rich_turn() -> Turn {
    Turn::reasoning("Let me look.", "Reading two files.")
        .with_signature("c2ln")
        .with_usage(ScriptedUsage {
            input_tokens: 12,
            output_tokens: 34,
            cache_read_tokens: 5,
            reasoning_tokens: 0,
            ..ScriptedUsage::default()
        })
}

fn with_calls(turn: Turn) -> Turn {
    Turn {
        tool_calls: vec![
            ScriptedToolCall::new("call_1", "fs__read", json!({"path": "a.rs"})),
            ScriptedToolCall::new("call_2", "fs__read", json!({"path": "b.rs"})),
        ],
        ..turn
    }
}

async fn answer(client: &pryx_llm::Client) -> ChatResponse {
    let mut req = request();
    req.tools = vec![pryx_llm::ToolSpec {
        name: "fs.read".into(),
        description: "read".into(),
        parameters: json!({"type": "object"}),
    }];
    within("answer", client.complete(req)).await.unwrap()
}

#[tokio::test]
async fn a_plain_json_answer_reads_like_the_same_answer_streamed() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server
            .push(with_calls(rich_turn()))
            .push(with_calls(rich_turn()).plain_json())
            .push(Turn::text("Just text.").plain_json());
        let (client, _) = common::client(kind, &server.base_url());
        let streamed = answer(&client).await;
        let document = answer(&client).await;
        assert_eq!(document, streamed, "{kind:?}");
        let calls = document.tool_calls();
        assert_eq!(calls.len(), 2, "{kind:?}");
        assert_eq!(calls[1].name, "fs.read");
        assert_eq!(calls[1].arguments_json().unwrap(), json!({"path": "b.rs"}));
        assert_eq!(document.usage.output_tokens, 34, "{kind:?}");

        let plain = answer(&client).await;
        assert_eq!(plain.text(), "Just text.", "{kind:?}");
        assert_eq!(plain.stop_reason, pryx_llm::StopReason::EndTurn);
    }
}

#[test]
fn a_json_document_that_is_not_an_answer_is_named() {
    let mut parser = openai_parser(&[]);
    let mut out = Vec::new();
    let err = parser
        .on_document(br#"{"object":"list","data":[]}"#, &mut out)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmProtocol);
    assert!(
        err.to_string()
            .contains("one JSON document instead of a stream"),
        "{err}"
    );
    let err = openai_parser(&[])
        .on_document(b"not json", &mut out)
        .unwrap_err();
    assert!(err.to_string().contains("not a chat completion"), "{err}");
    // An error object sent with status 200 is classified like a stream error.
    let err = openai_parser(&[])
        .on_document(
            br#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
            &mut out,
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmRateLimited);
    let err = common::anthropic_parser(&[])
        .on_document(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            &mut out,
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmServer);
    assert!(out.is_empty());
}

#[tokio::test]
async fn a_stream_labelled_as_json_is_still_read_as_a_stream() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(Turn::text("Hello there").with_content_type("application/json"));
        let (client, _) = common::client(kind, &server.base_url());
        let r = within("mislabelled", client.complete(request()))
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(r.text(), "Hello there", "{kind:?}");
    }
}

#[tokio::test]
async fn an_unreadable_answer_names_its_content_type() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::malformed_sse().with_content_type("text/html; charset=utf-8"));
    let (client, _) = common::client(ProviderKind::OpenAiCompatible, &server.base_url());
    let err = within("html", client.complete(request()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmProtocol);
    assert!(
        err.to_string()
            .contains("content type is `text/html; charset=utf-8`"),
        "{err}"
    );
}
