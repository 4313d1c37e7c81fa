#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The OpenAI-compatible `/v1`: OpenAI's shapes for answers, chunks, usage and errors; agents as
//! models; sessions continued through `x-pryx-session` with the resent history checked; refused
//! parameters named; the bearer token only; approvals asked on every surface while a stream waits.

use crate::common;

use common::*;
use pryx_protocol::EventKind;
use pryx_testkit::ScriptedUsage;
use serde_json::{Value, json};

/// A chat request with the token; returns status, the session header and the body.
async fn chat(rig: &Rig, body: Value, session: Option<&str>) -> (u16, Option<String>, String) {
    let (status, sid, res) = rig.openai_chat(TOKEN, &body, session).await;
    (status, sid, res.text().await.unwrap())
}

fn answer(text: &str, input: u64, output: u64) -> Turn {
    Turn {
        usage: Some(ScriptedUsage {
            input_tokens: input,
            output_tokens: output,
            ..ScriptedUsage::default()
        }),
        ..Turn::text(text)
    }
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// The `data:` payloads of an SSE body, in order.
fn data_lines(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

fn assert_openai_error(body: &Value, kind: &str) {
    let e = &body["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(e["type"], kind, "{body}");
    assert!(
        e.get("param").is_some() && e.get("code").is_some(),
        "{body}"
    );
    assert!(e.get("request_id").is_none(), "OpenAI's shape only: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_are_listed_as_models() {
    let rig = Rig::start().await;
    let (status, body) = status_json(
        rig.http
            .get(rig.v1("/models"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "list");
    let first = &body["data"][0];
    assert_eq!(first["id"], "pryx:main");
    assert_eq!(first["object"], "model");
    assert_eq!(first["owned_by"], "pryx");
    assert!(first["created"].as_u64().is_some(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_completion_has_openai_shape_and_usage() {
    let rig = Rig::start().await;
    rig.llm.push(answer("Hello there.", 11, 5));
    let (status, sid, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("hi")], "temperature": 0.2, "user": "me"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["model"], "pryx:main");
    assert_eq!(body["choices"][0]["index"], 0);
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there.");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16})
    );
    // The turn ran in a new Pryx session, named in the answer.
    let sid = sid.expect("the session header");
    let (_, detail) = rig.get(&format!("/sessions/{sid}")).await;
    assert_eq!(detail["messages"].as_array().unwrap().len(), 2, "{detail}");

    // Plain `pryx` is the main agent.
    rig.llm.push(Turn::text("again"));
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx", "messages": [user("x")]}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_sends_chunks_usage_and_done() {
    let rig = Rig::start().await;
    rig.llm.push(answer("streamed answer", 7, 3));
    let (status, sid, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("hi")], "stream": true,
               "stream_options": {"include_usage": true}}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(sid.is_some());
    let lines = data_lines(&text);
    assert_eq!(lines.last().map(String::as_str), Some("[DONE]"), "{text}");
    let chunks: Vec<Value> = lines[..lines.len() - 1]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for c in &chunks {
        assert_eq!(c["object"], "chat.completion.chunk", "{c}");
        assert!(
            c.get("usage").is_some(),
            "usage is on every chunk when asked for: {c}"
        );
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "streamed answer");
    let n = chunks.len();
    assert_eq!(chunks[n - 2]["choices"][0]["finish_reason"], "stop");
    assert!(chunks[n - 2]["usage"].is_null());
    assert_eq!(chunks[n - 1]["choices"], json!([]));
    assert_eq!(
        chunks[n - 1]["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10})
    );

    // Without include_usage there is no usage at all.
    rig.llm.push(Turn::text("plain"));
    let (_, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("hi")], "stream": true}),
        None,
    )
    .await;
    assert!(!text.contains("usage"), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_continues_and_a_diverging_history_is_refused() {
    let rig = Rig::start().await;
    rig.llm.push(Turn::text("first answer"));
    let (status, sid, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("one")]}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let sid = sid.unwrap();
    let history =
        json!([user("one"), {"role": "assistant", "content": "first answer"}, user("two")]);
    rig.llm.push(Turn::text("second answer"));
    let (status, again, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": history}),
        Some(&sid),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(again.as_deref(), Some(sid.as_str()));
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "second answer");
    let (_, detail) = rig.get(&format!("/sessions/{sid}")).await;
    assert_eq!(detail["messages"].as_array().unwrap().len(), 4, "{detail}");
    // The model saw the whole conversation.
    let last = rig.llm.requests().pop().unwrap();
    assert!(
        last.body.to_string().contains("first answer"),
        "{}",
        last.body
    );

    // A history that says something else at messages[1]: 409, nothing stored, the model not asked.
    let asked = rig.llm.requests().len();
    let wrong =
        json!([user("one"), {"role": "assistant", "content": "not what was said"}, user("three")]);
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": wrong}),
        Some(&sid),
    )
    .await;
    assert_eq!(status, 409, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_openai_error(&body, "invalid_request_error");
    assert_eq!(body["error"]["code"], "history_mismatch");
    assert_eq!(body["error"]["param"], "messages[1]");
    assert_eq!(rig.llm.requests().len(), asked);
    let (_, detail) = rig.get(&format!("/sessions/{sid}")).await;
    assert_eq!(detail["messages"].as_array().unwrap().len(), 4);

    // No new user message at the end: 409 too.
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("one"), {"role": "assistant", "content": "first answer"}]}),
        Some(&sid),
    )
    .await;
    assert_eq!(status, 409, "{text}");

    // An unknown session: 404.
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("x")]}),
        Some("nope"),
    )
    .await;
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("session_not_found"), "{text}");

    // A history without the header cannot be continued.
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("a"), {"role": "assistant", "content": "b"}, user("c")]}),
        None,
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("x-pryx-session"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_models_and_unsupported_parameters_are_named() {
    let rig = Rig::start().await;
    let (status, _, text) = chat(
        &rig,
        json!({"model": "gpt-4o", "messages": [user("hi")]}),
        None,
    )
    .await;
    assert_eq!(status, 404, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_openai_error(&body, "invalid_request_error");
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["param"], "model");
    let (status, _, _) = chat(
        &rig,
        json!({"model": "pryx:nobody", "messages": [user("hi")]}),
        None,
    )
    .await;
    assert_eq!(status, 404);

    let cases = [
        (json!({"n": 2}), "n"),
        (json!({"logprobs": true}), "logprobs"),
        (json!({"top_logprobs": 2}), "top_logprobs"),
        (json!({"logit_bias": {"1": 2}}), "logit_bias"),
        (json!({"audio": {"voice": "x"}}), "audio"),
        (json!({"modalities": ["text", "audio"]}), "modalities"),
        (
            json!({"tools": [{"type": "function", "function": {"name": "fs.read"}}]}),
            "tools[0].function.name",
        ),
        (json!({"tools": [{"type": "web_search"}]}), "tools[0].type"),
        (
            json!({"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]}),
            "tools[0].function.parameters",
        ),
        (json!({"functions": []}), "functions"),
        (json!({"tool_choice": "required"}), "tool_choice"),
        (
            json!({"tool_choice": {"type": "function", "function": {"name": "f"}}}),
            "tool_choice",
        ),
        (
            json!({"response_format": {"type": "json_object"}}),
            "response_format",
        ),
        (json!({"stop": ["x"]}), "stop"),
        (
            json!({"messages": [{"role": "system", "content": "be brief"}, user("hi")]}),
            "messages[0].role",
        ),
        (
            json!({"messages": [{"role": "function", "content": "1", "name": "a"}]}),
            "messages[0].role",
        ),
        (
            json!({"messages": [{"role": "tool", "content": "1"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}),
            "messages[0].content[0]",
        ),
    ];
    for (extra, param) in cases {
        let mut body = json!({"model": "pryx:main", "messages": [user("hi")]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, _, text) = chat(&rig, body, None).await;
        assert_eq!(status, 400, "{param}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_openai_error(&body, "invalid_request_error");
        assert_eq!(body["error"]["param"], param, "{text}");
    }
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("hi")], "functions": []}),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("send `tools` instead"), "{text}");
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [{"role": "system", "content": "x"}, user("hi")]}),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        text.contains("system messages are not supported; Pryx agents have their own instructions"),
        "{text}"
    );

    // Bodies are read strictly: a key given twice is refused, in OpenAI's shape.
    let res = rig
        .http
        .post(rig.v1("/chat/completions"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(r#"{"model": "pryx:main", "model": "gpt-4o", "messages": []}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 400, "{body}");
    assert_openai_error(&body, "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate"),
        "{body}"
    );

    // Nothing was refused after a session was made, and the model was never asked.
    let (_, list) = rig.get("/sessions").await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 0, "{list}");
    assert!(rig.llm.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_bearer_token_is_accepted() {
    let rig = Rig::start().await;
    let body = json!({"model": "pryx:main", "messages": [user("hi")]});
    let url = rig.v1("/chat/completions");
    let (status, err) = status_json(rig.http.post(&url).json(&body).send().await.unwrap()).await;
    assert_eq!(status, 401, "{err}");
    assert_openai_error(&err, "authentication_error");
    let (status, err) = status_json(
        rig.http
            .post(&url)
            .bearer_auth("wrong")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{err}");
    assert_openai_error(&err, "authentication_error");
    assert_eq!(err["error"]["code"], "invalid_api_key");
    let (status, err) = status_json(rig.http.get(rig.v1("/models")).send().await.unwrap()).await;
    assert_eq!(status, 401, "{err}");

    // A dashboard browser's cookie (and CSRF token) opens the API, never /v1.
    let (_, link) = rig.post("/web/login", json!({})).await;
    let browser = pryx_http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = browser
        .get(link["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    let ok = browser
        .get(rig.url("/sessions"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200, "the cookie works on the API");
    let (status, err) = status_json(
        browser
            .get(rig.v1("/models"))
            .header("cookie", &pair)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{err}");
    assert_openai_error(&err, "authentication_error");

    // Unknown /v1 paths are API errors, not dashboard pages.
    let (status, err) = status_json(
        rig.http
            .get(rig.v1("/nothing"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "{err}");
    assert_openai_error(&err, "invalid_request_error");
    assert!(rig.llm.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_turn_waits_for_an_approval_from_another_surface() {
    let rig = Rig::start().await;
    let mut ws = rig.ws().await;
    ws.subscribe(json!({"events": ["approval.needed"]})).await;
    rig.llm.push_all([
        Turn::tool_calls([call(
            "c1",
            "shell__exec",
            json!({"command": "echo via-openai"}),
        )]),
        Turn::text("ran it"),
    ]);
    let request = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("run echo")], "stream": true}),
        None,
    );
    let answer = async {
        let asked = ws.next_event().await;
        assert_eq!(asked.kind(), Some(EventKind::ApprovalNeeded));
        let id = approval_of(&asked).id.clone();
        let (status, body) = rig
            .post(&format!("/approvals/{id}"), json!({"decision": "approve"}))
            .await;
        assert_eq!(status, 200, "{body}");
    };
    let ((status, _, text), ()) = tokio::join!(request, answer);
    assert_eq!(status, 200, "{text}");
    let content: String = data_lines(&text)
        .iter()
        .filter(|l| *l != "[DONE]")
        .filter_map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(content, "ran it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_turn_is_an_openai_error() {
    let rig = Rig::start().await;
    rig.llm
        .push(Turn::status(400, None, "the provider refused"));
    let (status, sid, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("hi")]}),
        None,
    )
    .await;
    assert!(status >= 400, "{status} {text}");
    assert!(sid.is_some(), "the session that holds the failure is named");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the turn failed"),
        "{body}"
    );
    // The turn's trace: whole in the body, its last 8 characters in the message, and it finds
    // the failed turn's spans (what `pryx trace <id>` prints).
    let trace = body["error"]["trace_id"].as_str().expect("a trace id");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with(&format!("(trace {})", &trace[trace.len() - 8..])),
        "{body}"
    );
    let spans = rig.core.store().list_trace(trace).unwrap();
    assert!(
        spans
            .iter()
            .any(|s| s.status == pryx_store::SpanStatus::Error),
        "{spans:?}"
    );

    rig.llm
        .push(Turn::status(400, None, "the provider refused"));
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("hi")], "stream": true}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let lines = data_lines(&text);
    assert_eq!(lines.last().map(String::as_str), Some("[DONE]"));
    let err: Value = serde_json::from_str(&lines[lines.len() - 2]).unwrap();
    assert!(err["error"]["message"].as_str().is_some(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_tools_are_offered_returned_unrun_and_their_results_reach_the_model() {
    let rig = Rig::start().await;
    rig.llm.push_all([
        Turn::tool_calls([
            call("p1", "fs__list", json!({"path": "."})),
            call("w1", "get_weather", json!({"city": "Paris"})),
        ]),
        Turn::text("Sunny in Paris."),
    ]);
    let weather = json!({"type": "function", "function": {"name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}});
    let (status, sid, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": [user("weather?")], "tools": [weather]}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let sid = sid.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls", "{text}");
    // Only the client's call comes back; Pryx ran its own (fs.list) itself.
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "w1", "type": "function", "function": {"name": "get_weather",
            "arguments": json!({"city": "Paris"}).to_string()}}]),
        "{text}"
    );
    assert!(choice["message"]["content"].is_null(), "{text}");
    let calls = rig.core.store().list_tool_calls(&sid).unwrap();
    assert_eq!(calls.len(), 1, "the client's tool never runs in Pryx");
    assert_eq!(calls[0].tool_name, "fs.list");
    // The model was offered the client's tool beside Pryx's own.
    let first = &rig.llm.requests()[0].body;
    let offered: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(
        offered.contains(&"get_weather") && offered.contains(&"fs__read"),
        "{offered:?}"
    );

    let history = json!([user("weather?"), choice["message"].clone(),
        {"role": "tool", "tool_call_id": "w1", "content": "sunny, 24 °C"}]);
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": history, "tools": [weather]}),
        Some(&sid),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Sunny in Paris.");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    // The client's result reached the model exactly, as the answer to its call.
    let second = rig.llm.requests()[1].body.to_string();
    assert!(
        second.contains("sunny, 24 °C") && second.contains("w1"),
        "{second}"
    );
    // Answering again, or with a user message while calls wait, is refused.
    let (status, _, text) = chat(
        &rig,
        json!({"model": "pryx:main", "messages": history, "tools": [weather]}),
        Some(&sid),
    )
    .await;
    assert_eq!(status, 409, "{text}");
}
