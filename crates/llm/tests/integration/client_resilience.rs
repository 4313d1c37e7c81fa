#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Retries, backoff, timeouts, cancellation and the circuit breaker over real sockets.
//! Backoff sleeps go to a manual clock, so no test waits for real seconds.

use crate::common;

use std::time::Duration;

use common::{client, client_with, secs};
use futures_util::StreamExt;
use pryx_llm::{ChatRequest, LlmError, Message, Provider, ProviderKind, StreamEvent, TimeoutPhase};
use pryx_protocol::ErrorCode;
use pryx_testkit::{ScriptedLlm, Turn};

const KINDS: [ProviderKind; 2] = [ProviderKind::OpenAiCompatible, ProviderKind::Anthropic];

fn request() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        ..ChatRequest::default()
    }
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(Turn::rate_limited(7)).push(Turn::text("ok"));
        let (client, clock) = client(kind, &server.base_url());
        assert_eq!(client.complete(request()).await.unwrap().text(), "ok");
        assert_eq!(clock.sleeps(), secs(&[7]));
        assert_eq!(server.requests().len(), 2);
    }
}

#[tokio::test]
async fn rate_limit_beyond_the_cap_is_returned_with_retry_after() {
    let server = ScriptedLlm::start().await;
    server.push(Turn::rate_limited(120));
    let (client, clock) = client(ProviderKind::OpenAiCompatible, &server.base_url());
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmRateLimited);
    assert_eq!(err.retry_after_ms(), Some(120_000));
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn server_errors_retry_three_times_with_exponential_backoff() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        for _ in 0..4 {
            server.push(Turn::server_error());
        }
        let (client, clock) = client(kind, &server.base_url());
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmServer);
        assert_eq!(clock.sleeps(), secs(&[1, 2, 4]));
        assert_eq!(server.requests().len(), 4);
    }
}

#[tokio::test]
async fn a_server_error_then_success_recovers() {
    let server = ScriptedLlm::start().await;
    server
        .push(Turn::status(529, None, "Overloaded"))
        .push(Turn::text("back"));
    let (client, clock) = client(ProviderKind::Anthropic, &server.base_url());
    assert_eq!(client.complete(request()).await.unwrap().text(), "back");
    assert_eq!(clock.sleeps(), secs(&[1]));
}

#[tokio::test]
async fn network_errors_retry_five_times() {
    // A port with nothing listening: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (client, clock) = client(
        ProviderKind::OpenAiCompatible,
        &format!("http://127.0.0.1:{port}/v1"),
    );
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmNetwork, "{err}");
    assert_eq!(clock.sleeps(), secs(&[1, 2, 4, 8, 16]));
    assert!(err.to_string().contains("base URL"));
}

#[tokio::test]
async fn client_errors_are_not_retried_and_hide_the_key() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(Turn::status(401, None, "invalid x-api-key sk-test-secret"));
        let (client, clock) = client(kind, &server.base_url());
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmAuth);
        assert!(!err.to_string().contains("sk-test-secret"), "{err}");
        assert!(!format!("{err:?}").contains("sk-test-secret"));
        assert!(clock.sleeps().is_empty());

        server.push(Turn::status(
            400,
            None,
            "prompt is too long: 250000 tokens > 200000 maximum",
        ));
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmContextExceeded);

        server.push(Turn::status(404, None, "model not found"));
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmBadRequest);
        assert_eq!(server.requests().len(), 3);
    }
}

#[tokio::test]
async fn error_event_before_output_is_retried_but_not_after() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server
            .push(Turn::error_event("", "overloaded"))
            .push(Turn::text("fine"));
        let (client, clock) = client(kind, &server.base_url());
        assert_eq!(client.complete(request()).await.unwrap().text(), "fine");
        assert_eq!(clock.sleeps(), secs(&[1]));

        server
            .push(Turn::error_event("partial answer", "overloaded"))
            .push(Turn::text("unused"));
        let mut stream = client.stream(request());
        let mut text = String::new();
        let mut error = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(StreamEvent::TextDelta(t)) => text.push_str(&t),
                Ok(_) => {}
                Err(e) => error = Some(e),
            }
        }
        assert_eq!(text, "partial answer");
        assert_eq!(error.unwrap().code(), ErrorCode::LlmServer);
        assert_eq!(
            server.remaining(),
            1,
            "no retry once output reached the caller"
        );
    }
}

#[tokio::test]
async fn a_stream_cut_after_output_is_an_error_without_retry() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server
            .push(Turn::cut_mid_stream("a fairly long answer that gets cut"))
            .push(Turn::text("unused"));
        let (client, clock) = client(kind, &server.base_url());
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmProtocol, "{err}");
        assert!(err.to_string().contains("cut off"));
        assert!(clock.sleeps().is_empty());
        assert_eq!(server.remaining(), 1);
    }
}

#[tokio::test]
async fn malformed_sse_is_a_protocol_error() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(Turn::malformed_sse());
        let (client, _) = client(kind, &server.base_url());
        let err = client.complete(request()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::LlmProtocol);
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn slow_first_token_times_out_and_the_retry_succeeds() {
    let server = ScriptedLlm::start().await;
    server
        .push(Turn::text("late").with_first_token_delay(Duration::from_secs(30)))
        .push(Turn::text("prompt"));
    let (client, clock) = client_with(
        ProviderKind::OpenAiCompatible,
        &server.base_url(),
        |mut s| {
            s.first_token_timeout = Duration::from_millis(150);
            s
        },
    );
    assert_eq!(client.complete(request()).await.unwrap().text(), "prompt");
    assert_eq!(clock.sleeps(), secs(&[1]));
}

#[tokio::test]
async fn timeout_error_names_the_phase() {
    let err = LlmError::Timeout {
        provider: "p".into(),
        phase: TimeoutPhase::FirstToken,
        after: Duration::from_secs(2),
    };
    assert_eq!(err.code(), ErrorCode::LlmTimeout);
    assert!(err.to_string().contains("start answering"));
}

#[tokio::test]
async fn cancellation_ends_the_stream_at_once() {
    for kind in KINDS {
        let server = ScriptedLlm::start().await;
        server.push(Turn::text("never").with_first_token_delay(Duration::from_secs(60)));
        let (client, clock) = client(kind, &server.base_url());
        let req = request();
        let cancel = req.cancel.clone();
        let task = tokio::spawn(async move { client.complete(req).await });
        while server.requests().is_empty() {
            tokio::task::yield_now().await;
        }
        cancel.cancel();
        let err = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap()
            .unwrap_err();
        assert_eq!(err, LlmError::Cancelled);
        assert_eq!(err.code(), ErrorCode::LlmCancelled);
        assert!(clock.sleeps().is_empty());
    }
}

#[tokio::test]
async fn cancelled_before_start_sends_nothing() {
    let server = ScriptedLlm::start().await;
    let (client, _) = client(ProviderKind::OpenAiCompatible, &server.base_url());
    let req = request();
    req.cancel.cancel();
    assert_eq!(client.complete(req).await.unwrap_err(), LlmError::Cancelled);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn circuit_opens_after_five_failures_and_probes_every_30s() {
    let server = ScriptedLlm::start().await;
    for _ in 0..5 {
        server.push(Turn::server_error());
    }
    let (client, clock) = client(ProviderKind::OpenAiCompatible, &server.base_url());
    // Four failed attempts, then the fifth (first of the second call) opens the circuit.
    assert_eq!(
        client.complete(request()).await.unwrap_err().code(),
        ErrorCode::LlmServer
    );
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::LlmServer,
        "the real cause wins over the breaker: {err}"
    );
    assert!(client.breaker().is_open());
    assert_eq!(server.requests().len(), 5);

    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmCircuitOpen);
    assert!(err.retry_after_ms().is_some());
    assert_eq!(server.requests().len(), 5, "fails fast without a request");

    clock.advance(Duration::from_secs(30));
    server.push(Turn::text("recovered"));
    assert_eq!(
        client.complete(request()).await.unwrap().text(),
        "recovered"
    );
    assert!(!client.breaker().is_open());
}

#[tokio::test]
async fn an_exhausted_script_answers_500() {
    let server = ScriptedLlm::start().await;
    let (client, _) = client(ProviderKind::Anthropic, &server.base_url());
    let err = client.complete(request()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmServer);
    assert!(err.to_string().contains("no turn left"));
}
