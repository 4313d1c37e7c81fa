//! Renders a scripted turn as the SSE frames of either wire format, or as one JSON document.

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

/// Index of the frame carrying the first piece of content (the first one a client turns into
/// an event), so failure modes can strike right after the answer has started.
pub(crate) fn first_content(anthropic: bool, turn: &Turn) -> usize {
    match (anthropic, turn.reasoning.is_some() || turn.text.is_some()) {
        // The role chunk, then content.
        (false, _) => 1,
        // `message_start`, `ping`, the block start, then its first delta.
        (true, true) => 3,
        // A tool call's block start is its first event.
        (true, false) => 2,
    }
}

/// The whole reply as one Chat Completions `chat.completion` document.
pub(crate) fn openai_document(turn: &Turn, model: &str) -> Value {
    let mut message = json!({ "role": "assistant", "content": turn.text });
    if let Some(r) = &turn.reasoning {
        message["reasoning_content"] = json!(r);
    }
    if !turn.tool_calls.is_empty() {
        message["tool_calls"] = turn
            .tool_calls
            .iter()
            .map(|c| json!({ "id": c.id, "type": "function", "function": { "name": c.name, "arguments": c.arguments } }))
            .collect();
    }
    let default_finish = if turn.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    let finish = turn.finish_reason.as_deref().unwrap_or(default_finish);
    json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
        "usage": openai_usage(&turn.usage.unwrap_or_default()),
    })
}

/// The whole reply as one Messages `message` document.
pub(crate) fn anthropic_document(turn: &Turn, model: &str) -> Value {
    let mut content = Vec::new();
    if let Some(r) = &turn.reasoning {
        let sig = turn.signature.as_deref().unwrap_or("c2lnbmF0dXJl");
        content.push(json!({ "type": "thinking", "thinking": r, "signature": sig }));
    }
    if let Some(t) = &turn.text {
        content.push(json!({ "type": "text", "text": t }));
    }
    for c in &turn.tool_calls {
        let input: Value = serde_json::from_str(&c.arguments).unwrap_or_else(|_| json!({}));
        content.push(json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": input }));
    }
    let default_stop = if turn.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let u = turn.usage.unwrap_or_default();
    json!({
        "id": "msg_scripted", "type": "message", "role": "assistant", "model": model,
        "content": content,
        "stop_reason": turn.finish_reason.as_deref().unwrap_or(default_stop),
        "stop_sequence": null,
        "usage": {
            "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
            "cache_creation_input_tokens": u.cache_write_tokens, "cache_read_input_tokens": u.cache_read_tokens,
        },
    })
}

/// Stands in for padding in a rendered frame or body, to split it into what comes before and
/// after the padding.
const PAD_MARK: &str = "PRYXPADDINGMARK";

/// A huge error body as (prefix, suffix): `message` then padding go inside its message string.
pub(crate) fn huge_error_parts(anthropic: bool, status: u16, message: &str) -> (String, String) {
    split_at_mark(error_body(anthropic, status, &format!("{message} {PAD_MARK}")).to_string())
}

/// The frames of a reply whose text is one piece of padding, as (frames before the padded
/// frame, its prefix, its suffix, frames after).
pub(crate) fn huge_line_parts(
    anthropic: bool,
    model: &str,
) -> (Vec<String>, String, String, Vec<String>) {
    let turn = Turn::text(PAD_MARK).with_chunk_chars(PAD_MARK.len());
    let mut frames = if anthropic {
        self::anthropic(&turn, model)
    } else {
        openai(&turn, model)
    };
    let at = first_content(anthropic, &turn);
    let after = frames.split_off(at + 1);
    let padded = frames.pop().unwrap_or_default();
    let (prefix, suffix) = split_at_mark(padded);
    (frames, prefix, suffix, after)
}

fn split_at_mark(s: String) -> (String, String) {
    match s.split_once(PAD_MARK) {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (s, String::new()),
    }
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
