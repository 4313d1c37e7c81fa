//! What of a stored span may leave the machine, by tier. An allowlist: names, kinds,
//! durations, tokens, costs, statuses and error codes, under the OpenTelemetry GenAI semantic
//! conventions where one exists. Prompts, messages, results and identifiers of people are never
//! read here; the debug tier adds tool arguments and error messages, both redacted.

use crate::redaction::scrub;
use opentelemetry::KeyValue;
use pryx_protocol::api::TelemetryTier;
use pryx_store::{Span, SpanKind, SpanStatus};
use pryx_telemetry::Redactor;
use serde_json::Value;

/// A span reduced to what its tier sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub name: String,
    pub attributes: Vec<KeyValue>,
    /// `Some(description)` when the span failed: an error code, or (debug) the redacted message.
    pub error: Option<String>,
}

/// `args`: the tool call's arguments, read only for the debug tier.
pub fn map(span: &Span, tier: TelemetryTier, redactor: &Redactor, args: Option<&Value>) -> Mapped {
    let attr = |k: &str| span.attributes.get(k);
    let text = |k: &str| attr(k).and_then(Value::as_str).map(str::to_string);
    let mut out: Vec<KeyValue> = vec![
        KeyValue::new("pryx.span.kind", span.kind.as_str()),
        KeyValue::new("pryx.span.status", span.status.as_str()),
    ];
    let debug = tier == TelemetryTier::Debug;
    let name = match span.kind {
        SpanKind::Turn => {
            if let Some(surface) = text("surface") {
                out.push(KeyValue::new("pryx.surface", surface));
            }
            if let Some(model) = text("model") {
                push_model(&mut out, &model);
            }
            if attr("direct").and_then(Value::as_bool) == Some(true) {
                out.push(KeyValue::new("pryx.turn.direct", true));
            }
            "invoke_agent pryx".to_string()
        }
        SpanKind::ModelCall => {
            out.push(KeyValue::new("gen_ai.operation.name", "chat"));
            let model = text("model").unwrap_or_else(|| span.name.clone());
            push_model(&mut out, &model);
            if let Some(n) = attr("max_tokens").and_then(Value::as_u64) {
                out.push(KeyValue::new("gen_ai.request.max_tokens", to_i64(n)));
            }
            if let Some(reason) = text("stop_reason") {
                out.push(KeyValue::new(
                    "gen_ai.response.finish_reasons",
                    opentelemetry::Value::Array(
                        vec![opentelemetry::StringValue::from(reason)].into(),
                    ),
                ));
            }
            if let Some(purpose) = text("purpose") {
                out.push(KeyValue::new("pryx.model_call.purpose", purpose));
            }
            if let Some(from) = text("fallback_from") {
                out.push(KeyValue::new("pryx.fallback.from", from));
            }
            if let Some(code) = text("fallback_reason") {
                out.push(KeyValue::new("pryx.fallback.reason", code));
            }
            format!("chat {}", model_part(&model))
        }
        SpanKind::ToolCall => {
            out.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
            out.push(KeyValue::new("gen_ai.tool.name", span.name.clone()));
            if let Some(decision) = text("decision") {
                out.push(KeyValue::new("pryx.tool.decision", decision));
            }
            if debug && let Some(args) = args {
                let shown = serde_json::to_string(args).unwrap_or_default();
                out.push(KeyValue::new(
                    "pryx.tool.arguments",
                    scrub(redactor, &shown),
                ));
            }
            format!("execute_tool {}", span.name)
        }
        SpanKind::ApprovalWait => {
            out.push(KeyValue::new("gen_ai.tool.name", span.name.clone()));
            out.push(KeyValue::new("pryx.approval.outcome", span.status.as_str()));
            format!("approval_wait {}", span.name)
        }
    };
    if let Some(n) = span.tokens_in {
        out.push(KeyValue::new("gen_ai.usage.input_tokens", to_i64(n)));
    }
    if let Some(n) = span.tokens_out {
        out.push(KeyValue::new("gen_ai.usage.output_tokens", to_i64(n)));
    }
    if let Some(cost) = span.cost_usd {
        out.push(KeyValue::new("pryx.cost_usd", cost));
    }
    let code = text("error_code");
    if let Some(code) = &code {
        out.push(KeyValue::new("error.type", code.clone()));
    }
    let error = (span.status == SpanStatus::Error).then(|| match (debug, text("error")) {
        (true, Some(message)) => scrub(redactor, &message),
        _ => code.unwrap_or_else(|| "error".to_string()),
    });
    Mapped {
        name,
        attributes: out,
        error,
    }
}

/// `provider/model` as `gen_ai.system` and `gen_ai.request.model`.
fn push_model(out: &mut Vec<KeyValue>, model: &str) {
    if let Some((provider, _)) = model.split_once('/') {
        out.push(KeyValue::new("gen_ai.system", provider.to_string()));
    }
    out.push(KeyValue::new(
        "gen_ai.request.model",
        model_part(model).to_string(),
    ));
}

fn model_part(model: &str) -> &str {
    model.split_once('/').map_or(model, |(_, m)| m)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn span(kind: SpanKind, name: &str, status: SpanStatus, attributes: Value) -> Span {
        Span {
            id: "0190-a".into(),
            trace_id: "0123456789abcdef0123456789abcdef".into(),
            parent_id: None,
            session_id: Some("s-1".into()),
            kind,
            name: name.into(),
            started_at: "2026-12-03T10:00:00.000000Z".into(),
            ended_at: Some("2026-12-03T10:00:01.500000Z".into()),
            status,
            tokens_in: Some(120),
            tokens_out: Some(30),
            cost_usd: Some(0.0021),
            attributes,
        }
    }

    fn get<'a>(m: &'a Mapped, key: &str) -> Option<&'a opentelemetry::Value> {
        m.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn a_model_call_carries_gen_ai_attributes_and_an_error_code_but_not_the_message() {
        let s = span(
            SpanKind::ModelCall,
            "openai/gpt-4o",
            SpanStatus::Error,
            json!({"max_tokens": 4096, "error": "401 for ada@example.com", "error_code": "PROVIDER_AUTH"}),
        );
        let m = map(&s, TelemetryTier::Standard, &Redactor::default(), None);
        assert_eq!(m.name, "chat gpt-4o");
        assert_eq!(get(&m, "gen_ai.system").unwrap().as_str(), "openai");
        assert_eq!(get(&m, "gen_ai.request.model").unwrap().as_str(), "gpt-4o");
        assert_eq!(
            get(&m, "gen_ai.usage.input_tokens"),
            Some(&opentelemetry::Value::I64(120))
        );
        assert_eq!(m.error.as_deref(), Some("PROVIDER_AUTH"));
        let all = format!("{m:?}");
        assert!(!all.contains("ada@example.com"), "{all}");

        let debug = map(&s, TelemetryTier::Debug, &Redactor::default(), None);
        let message = debug.error.unwrap();
        assert!(message.contains("401 for"), "{message}");
        assert!(!message.contains("ada@example.com"), "{message}");
    }

    #[test]
    fn tool_arguments_go_only_with_debug_and_redacted() {
        let s = span(
            SpanKind::ToolCall,
            "shell",
            SpanStatus::Ok,
            json!({"tool_call_id": "tc-1", "decision": "ask"}),
        );
        let args = json!({"command": "mail bob@example.org < /home/ada/notes.txt"});
        let standard = map(
            &s,
            TelemetryTier::Standard,
            &Redactor::default(),
            Some(&args),
        );
        assert!(get(&standard, "pryx.tool.arguments").is_none());
        assert_eq!(
            get(&standard, "pryx.tool.decision").unwrap().as_str(),
            "ask"
        );
        let debug = map(&s, TelemetryTier::Debug, &Redactor::default(), Some(&args));
        let shown = get(&debug, "pryx.tool.arguments").unwrap().as_str();
        assert!(shown.contains("mail"), "{shown}");
        assert!(!shown.contains("bob@example.org"), "{shown}");
        assert!(!shown.contains("/home/ada"), "{shown}");
        assert!(get(&debug, "pryx.tool.call_id").is_none(), "no ids of rows");
    }
}
