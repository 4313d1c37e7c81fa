//! Request body for Chat Completions.

use serde_json::{Value, json};

use crate::tool_names::ToolNameMap;
use crate::types::{AssistantPart, ChatRequest, Message, UserPart};

/// The streaming request body; tool names go out in wire form.
pub fn request_body(req: &ChatRequest, names: &ToolNameMap) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(json!({ "role": "system", "content": system }));
    }
    for m in &req.messages {
        messages.push(message(m, names));
    }
    let mut body = json!({
        "model": req.model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": { "name": names.wire(&t.name), "description": t.description, "parameters": t.parameters },
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    if let Some(max) = req.max_tokens {
        body["max_tokens"] = json!(max);
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    body
}

fn message(m: &Message, names: &ToolNameMap) -> Value {
    match m {
        Message::User { content } => {
            let only_text = content.iter().all(|p| matches!(p, UserPart::Text { .. }));
            if only_text {
                let text: Vec<&str> = content
                    .iter()
                    .filter_map(|p| match p {
                        UserPart::Text { text } => Some(text.as_str()),
                        UserPart::Image(_) => None,
                    })
                    .collect();
                return json!({ "role": "user", "content": text.join("\n") });
            }
            let parts: Vec<Value> = content
                .iter()
                .map(|p| match p {
                    UserPart::Text { text } => json!({ "type": "text", "text": text }),
                    UserPart::Image(img) => json!({
                        "type": "image_url",
                        "image_url": { "url": format!("data:{};base64,{}", img.media_type, img.data_base64) },
                    }),
                })
                .collect();
            json!({ "role": "user", "content": parts })
        }
        Message::Assistant { content } => {
            let mut text = String::new();
            let mut calls = Vec::new();
            for p in content {
                match p {
                    AssistantPart::Text { text: t } => text.push_str(t),
                    AssistantPart::ToolCall(c) => calls.push(json!({
                        "id": c.id,
                        "type": "function",
                        "function": {
                            "name": names.wire(&c.name),
                            "arguments": if c.arguments.trim().is_empty() { "{}" } else { c.arguments.as_str() },
                        },
                    })),
                    // Reasoning is not sent back: most compatible servers reject or ignore it.
                    AssistantPart::Reasoning { .. } | AssistantPart::RedactedReasoning { .. } => {}
                }
            }
            let mut msg = json!({ "role": "assistant", "content": if text.is_empty() { Value::Null } else { Value::String(text) } });
            if !calls.is_empty() {
                msg["tool_calls"] = Value::Array(calls);
            }
            msg
        }
        Message::Tool(r) => {
            json!({ "role": "tool", "tool_call_id": r.call_id, "content": r.content })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ImageData, ToolCall, ToolSpec};

    #[test]
    fn encodes_a_full_conversation() {
        let req = ChatRequest {
            model: "gpt-4o-mini".into(),
            system: Some("be brief".into()),
            messages: vec![
                Message::User {
                    content: vec![
                        UserPart::Text {
                            text: "what is this?".into(),
                        },
                        UserPart::Image(ImageData {
                            media_type: "image/png".into(),
                            data_base64: "AAAA".into(),
                        }),
                    ],
                },
                Message::Assistant {
                    content: vec![
                        AssistantPart::Reasoning {
                            text: "hmm".into(),
                            signature: None,
                        },
                        AssistantPart::ToolCall(ToolCall {
                            id: "c1".into(),
                            name: "fs.read".into(),
                            arguments: String::new(),
                        }),
                    ],
                },
                Message::tool_result("c1", "file body", false),
            ],
            tools: vec![ToolSpec {
                name: "fs.read".into(),
                description: "read".into(),
                parameters: json!({"type":"object"}),
            }],
            max_tokens: Some(100),
            temperature: Some(0.5),
            ..ChatRequest::default()
        };
        let names = ToolNameMap::new(["fs.read"]);
        let body = request_body(&req, &names);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(
            body["messages"][0],
            json!({"role":"system","content":"be brief"})
        );
        assert_eq!(
            body["messages"][1]["content"][1]["image_url"]["url"],
            "data:image/png;base64,AAAA"
        );
        assert_eq!(body["messages"][2]["content"], Value::Null);
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["name"],
            "fs__read"
        );
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{}"
        );
        assert_eq!(
            body["messages"][3],
            json!({"role":"tool","tool_call_id":"c1","content":"file body"})
        );
        assert_eq!(body["tools"][0]["function"]["name"], "fs__read");
        assert_eq!(body["max_tokens"], 100);
        assert_eq!(body["temperature"], 0.5);
    }
}
