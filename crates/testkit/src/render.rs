//! Renders a scripted turn as the SSE frames of either wire format.

use serde_json::{Value, json};

use crate::script::{ScriptedUsage, Turn};

/// One SSE frame, ready to write.
pub(crate) fn frame(event: Option<&str>, data: &str) -> String {
    match event {
        Some(e) => format!("event: {e}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

fn oa_chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        "usage": null,
    });
    frame(None, &chunk.to_string())
}

/// Chat Completions frames of a successful reply (ending with `[DONE]`).
pub(crate) fn openai(turn: &Turn, model: &str) -> Vec<String> {
    let mut out = vec![oa_chunk(
        model,
        json!({ "role": "assistant", "content": "" }),
        None,
    )];
    if let Some(r) = &turn.reasoning {
        for p in turn.pieces(r) {
            out.push(oa_chunk(model, json!({ "reasoning_content": p }), None));
        }
    }
    if let Some(t) = &turn.text {
        for p in turn.pieces(t) {
            out.push(oa_chunk(model, json!({ "content": p }), None));
        }
    }
    for (i, c) in turn.tool_calls.iter().enumerate() {
        let start = json!({ "tool_calls": [{
            "index": i, "id": c.id, "type": "function", "function": { "name": c.name, "arguments": "" }
        }]});
        out.push(oa_chunk(model, start, None));
    }
    // Argument fragments of parallel calls interleave round-robin.
    let pieces: Vec<Vec<String>> = turn
        .tool_calls
        .iter()
        .map(|c| turn.pieces(&c.arguments))
        .collect();
    let rounds = pieces.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..rounds {
        for (i, p) in pieces.iter().enumerate() {
            if let Some(piece) = p.get(k) {
                let delta =
                    json!({ "tool_calls": [{ "index": i, "function": { "arguments": piece } }] });
                out.push(oa_chunk(model, delta, None));
            }
        }
    }
    let default_finish = if turn.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    let finish = turn.finish_reason.as_deref().unwrap_or(default_finish);
    out.push(oa_chunk(model, json!({}), Some(finish)));
    let u = turn.usage.unwrap_or_default();
    let usage = json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": openai_usage(&u),
    });
    out.push(frame(None, &usage.to_string()));
    out.push(frame(None, "[DONE]"));
    out
}

fn openai_usage(u: &ScriptedUsage) -> Value {
    let prompt = u.input_tokens + u.cache_read_tokens;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": u.output_tokens,
        "total_tokens": prompt + u.output_tokens,
        "prompt_tokens_details": { "cached_tokens": u.cache_read_tokens },
        "completion_tokens_details": { "reasoning_tokens": u.reasoning_tokens },
    })
}

fn an(kind: &str, data: Value) -> String {
    frame(Some(kind), &data.to_string())
}

/// Messages frames of a successful reply (ending with `message_stop`).
pub(crate) fn anthropic(turn: &Turn, model: &str) -> Vec<String> {
    let u = turn.usage.unwrap_or_default();
    let mut out = vec![
        an(
            "message_start",
            json!({ "type": "message_start", "message": {
                "id": "msg_scripted", "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": null, "stop_sequence": null,
                "usage": {
                    "input_tokens": u.input_tokens, "output_tokens": 1,
                    "cache_creation_input_tokens": u.cache_write_tokens, "cache_read_input_tokens": u.cache_read_tokens,
                },
            }}),
        ),
        an("ping", json!({ "type": "ping" })),
    ];
    let mut index = 0;
    let mut block = |out: &mut Vec<String>, start: Value, deltas: Vec<Value>| {
        out.push(an(
            "content_block_start",
            json!({ "type": "content_block_start", "index": index, "content_block": start }),
        ));
        for d in deltas {
            out.push(an(
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": index, "delta": d }),
            ));
        }
        out.push(an(
            "content_block_stop",
            json!({ "type": "content_block_stop", "index": index }),
        ));
        index += 1;
    };
    if let Some(r) = &turn.reasoning {
        let mut deltas: Vec<Value> = turn
            .pieces(r)
            .into_iter()
            .map(|p| json!({ "type": "thinking_delta", "thinking": p }))
            .collect();
        let sig = turn
            .signature
            .clone()
            .unwrap_or_else(|| "c2lnbmF0dXJl".to_string());
        deltas.push(json!({ "type": "signature_delta", "signature": sig }));
        block(
            &mut out,
            json!({ "type": "thinking", "thinking": "", "signature": "" }),
            deltas,
        );
    }
    if let Some(t) = &turn.text {
        let deltas = turn
            .pieces(t)
            .into_iter()
            .map(|p| json!({ "type": "text_delta", "text": p }))
            .collect();
        block(&mut out, json!({ "type": "text", "text": "" }), deltas);
    }
    for c in &turn.tool_calls {
        let deltas = turn
            .pieces(&c.arguments)
            .into_iter()
            .map(|p| json!({ "type": "input_json_delta", "partial_json": p }))
            .collect();
        block(
            &mut out,
            json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": {} }),
            deltas,
        );
    }
    let default_stop = if turn.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let stop = turn.finish_reason.as_deref().unwrap_or(default_stop);
    out.push(an(
        "message_delta",
        json!({
            "type": "message_delta",
            "delta": { "stop_reason": stop, "stop_sequence": null },
            "usage": { "output_tokens": u.output_tokens },
        }),
    ));
    out.push(an("message_stop", json!({ "type": "message_stop" })));
    out
}

/// Error frame inside a stream.
pub(crate) fn stream_error(anthropic: bool, message: &str, error_type: Option<&str>) -> String {
    if anthropic {
        let t = error_type.unwrap_or("overloaded_error");
        an(
            "error",
            json!({ "type": "error", "error": { "type": t, "message": message } }),
        )
    } else {
        let t = error_type.unwrap_or("server_error");
        frame(
            None,
            &json!({ "error": { "message": message, "type": t, "code": null } }).to_string(),
        )
    }
}

/// Error body of an HTTP error answer.
pub(crate) fn error_body(anthropic: bool, status: u16, message: &str) -> Value {
    let kind = match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    if anthropic {
        json!({ "type": "error", "error": { "type": kind, "message": message } })
    } else {
        json!({ "error": { "message": message, "type": kind, "code": null } })
    }
}
