//! Request body for Messages.
//!
//! The system prompt and the last tool carry `cache_control: ephemeral`, so the stable prefix
//! of every turn is cached. Signed reasoning blocks are passed back as `thinking` blocks.

use serde_json::{Value, json};

use crate::tool_names::ToolNameMap;
use crate::types::{AssistantPart, ChatRequest, Message, UserPart};

/// Value of the `anthropic-version` header.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Output budget when the request names none (the API requires one).
const DEFAULT_MAX_TOKENS: u32 = 8192;

/// The streaming request body; tool names go out in wire form.
pub fn request_body(req: &ChatRequest, names: &ToolNameMap) -> Value {
    let thinking = req.thinking_budget.filter(|b| *b > 0).map(|b| b.max(1024));
    let mut max_tokens = req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    if let Some(budget) = thinking {
        // The budget counts against max_tokens and must stay below it.
        if max_tokens <= budget {
            max_tokens = budget.saturating_add(DEFAULT_MAX_TOKENS);
        }
    }
    let mut body = json!({
        "model": req.model,
        "max_tokens": max_tokens,
        "messages": messages(&req.messages, names),
        "stream": true,
    });
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        body["system"] =
            json!([{ "type": "text", "text": system, "cache_control": { "type": "ephemeral" } }]);
    }
    if !req.tools.is_empty() {
        let mut tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({ "name": names.wire(&t.name), "description": t.description, "input_schema": t.parameters }))
            .collect();
        if let Some(last) = tools.last_mut() {
            last["cache_control"] = json!({ "type": "ephemeral" });
        }
        body["tools"] = Value::Array(tools);
    }
    match thinking {
        // Thinking requires the default temperature.
        Some(budget) => body["thinking"] = json!({ "type": "enabled", "budget_tokens": budget }),
        None => {
            if let Some(t) = req.temperature {
                body["temperature"] = json!(t);
            }
        }
    }
    body
}

/// Converts messages, merging neighbours of the same role (tool results travel as user content).
fn messages(msgs: &[Message], names: &ToolNameMap) -> Vec<Value> {
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for m in msgs {
        let (role, blocks) = match m {
            Message::User { content } => {
                ("user", content.iter().map(user_block).collect::<Vec<_>>())
            }
            Message::Assistant { content } => (
                "assistant",
                content
                    .iter()
                    .filter_map(|p| assistant_block(p, names))
                    .collect(),
            ),
            Message::Tool(r) => (
                "user",
                vec![
                    json!({ "type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error }),
                ],
            ),
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last_role, last_blocks)) if last_role == role => last_blocks.extend(blocks),
            _ => out.push((role.to_string(), blocks)),
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect()
}

fn user_block(p: &UserPart) -> Value {
    match p {
        UserPart::Text { text } => json!({ "type": "text", "text": text }),
        UserPart::Image(img) => json!({
            "type": "image",
            "source": { "type": "base64", "media_type": img.media_type, "data": img.data_base64 },
        }),
    }
}

fn assistant_block(p: &AssistantPart, names: &ToolNameMap) -> Option<Value> {
    Some(match p {
        AssistantPart::Text { text } if text.is_empty() => return None,
        AssistantPart::Text { text } => json!({ "type": "text", "text": text }),
        // Unsigned reasoning (from another provider) cannot be verified by the API: drop it.
        AssistantPart::Reasoning {
            signature: None, ..
        } => return None,
        AssistantPart::Reasoning {
            text,
            signature: Some(sig),
        } => {
            json!({ "type": "thinking", "thinking": text, "signature": sig })
        }
        AssistantPart::RedactedReasoning { data } => {
            json!({ "type": "redacted_thinking", "data": data })
        }
        AssistantPart::ToolCall(c) => {
            let input = c
                .arguments_json()
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            json!({ "type": "tool_use", "id": c.id, "name": names.wire(&c.name), "input": input })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ImageData, ToolCall, ToolSpec};

    fn spec(name: &str) -> ToolSpec {
        ToolSpec {
            name: name.into(),
            description: "d".into(),
            parameters: json!({"type":"object"}),
        }
    }

    #[test]
    fn encodes_caching_thinking_and_history() {
        let req = ChatRequest {
            model: "claude-sonnet-4-5".into(),
            system: Some("you are pryx".into()),
            messages: vec![
                Message::User {
                    content: vec![
                        UserPart::Text {
                            text: "look".into(),
                        },
                        UserPart::Image(ImageData {
                            media_type: "image/jpeg".into(),
                            data_base64: "QUJD".into(),
                        }),
                    ],
                },
                Message::Assistant {
                    content: vec![
                        AssistantPart::Reasoning {
                            text: "plan".into(),
                            signature: Some("sig==".into()),
                        },
                        AssistantPart::Reasoning {
                            text: "unsigned".into(),
                            signature: None,
                        },
                        AssistantPart::RedactedReasoning {
                            data: "opaque".into(),
                        },
                        AssistantPart::ToolCall(ToolCall {
                            id: "t1".into(),
                            name: "fs.read".into(),
                            arguments: r#"{"path":"a"}"#.into(),
                        }),
                        AssistantPart::ToolCall(ToolCall {
                            id: "t2".into(),
                            name: "fs.list".into(),
                            arguments: "not json".into(),
                        }),
                    ],
                },
                Message::tool_result("t1", "contents", false),
                Message::tool_result("t2", "boom", true),
                Message::user("thanks"),
            ],
            tools: vec![spec("fs.read"), spec("fs.list")],
            max_tokens: Some(2000),
            temperature: Some(0.2),
            thinking_budget: Some(4000),
            ..ChatRequest::default()
        };
        let names = ToolNameMap::new(["fs.read", "fs.list"]);
        let body = request_body(&req, &names);
        assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
        assert!(body["tools"][0].get("cache_control").is_none());
        assert_eq!(body["tools"][1]["cache_control"]["type"], "ephemeral");
        assert_eq!(body["tools"][1]["name"], "fs__list");
        assert_eq!(
            body["thinking"],
            json!({"type":"enabled","budget_tokens":4000})
        );
        assert!(body["max_tokens"].as_u64().unwrap_or(0) > 4000);
        assert!(body.get("temperature").is_none());
        let msgs = body["messages"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            msgs.len(),
            3,
            "tool results and the next user text merge into one user turn"
        );
        assert_eq!(msgs[0]["content"][1]["source"]["data"], "QUJD");
        let assistant = &msgs[1]["content"];
        assert_eq!(
            assistant[0],
            json!({"type":"thinking","thinking":"plan","signature":"sig=="})
        );
        assert_eq!(
            assistant[1],
            json!({"type":"redacted_thinking","data":"opaque"})
        );
        assert_eq!(assistant[2]["input"], json!({"path":"a"}));
        assert_eq!(assistant[2]["name"], "fs__read");
        assert_eq!(assistant[3]["input"], json!({}));
        assert_eq!(msgs[2]["content"][0]["tool_use_id"], "t1");
        assert_eq!(msgs[2]["content"][1]["is_error"], true);
        assert_eq!(msgs[2]["content"][2]["text"], "thanks");
    }

    #[test]
    fn temperature_without_thinking_and_default_max_tokens() {
        let req = ChatRequest {
            model: "m".into(),
            messages: vec![Message::user("hi")],
            temperature: Some(0.3),
            ..ChatRequest::default()
        };
        let body = request_body(&req, &ToolNameMap::default());
        assert_eq!(body["max_tokens"], 8192);
        assert!(body.get("system").is_none() && body.get("thinking").is_none());
        assert!((body["temperature"].as_f64().unwrap_or(0.0) - 0.3).abs() < 1e-6);
    }
}
