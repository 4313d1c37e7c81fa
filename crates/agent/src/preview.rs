//! What a person sees before approving a call: the tool's own preview when it has one (the
//! command with its working directory, environment and timeout; the request with headers and
//! body; the whole diff of a write or edit; the MCP server, tool and arguments), otherwise every
//! argument. Never cut: surfaces page or scroll a long preview.

use pryx_tools::{Tool, ToolContext};
use serde_json::Value;
use std::sync::Arc;

/// The full preview of a call.
pub(crate) async fn approval_preview(
    name: &str,
    args: &Value,
    tool: &Arc<dyn Tool>,
    ctx: ToolContext,
) -> String {
    match tool.preview(args.clone(), ctx).await {
        Ok(Some(p)) => p,
        Ok(None) => every_argument(name, args),
        Err(e) => format!(
            "{}\n(the tool could not preview this call: {e})",
            every_argument(name, args)
        ),
    }
}

/// The call with every argument, for tools without a preview of their own.
pub(crate) fn every_argument(name: &str, args: &Value) -> String {
    let shown = serde_json::to_string_pretty(args).unwrap_or_else(|_| args.to_string());
    format!("{name} with arguments:\n{shown}")
}

/// The kinds of well-known secret shapes in the preview or any string of the arguments, each
/// once. They are named next to the call, never hidden.
pub(crate) fn secret_lookalikes(preview: &str, arguments: &Value) -> Vec<String> {
    fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k);
                strings(v, out);
            }),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    let mut texts = vec![preview];
    strings(arguments, &mut texts);
    let mut kinds: Vec<String> = Vec::new();
    for text in texts {
        for kind in pryx_telemetry::looks_like_secret(text) {
            if !kinds.iter().any(|k| k == kind) {
                kinds.push(kind.to_string());
            }
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_argument_is_shown() {
        let shown = every_argument(
            "files.put",
            &json!({"path": "a", "mode": "0777", "nested": {"x": [1, 2]}}),
        );
        assert!(shown.starts_with("files.put with arguments:\n{"), "{shown}");
        for part in ["\"path\": \"a\"", "\"mode\": \"0777\"", "\"x\": ["] {
            assert!(shown.contains(part), "{part} missing: {shown}");
        }
    }

    #[test]
    fn lookalikes_are_found_in_the_preview_and_in_nested_arguments() {
        let found = secret_lookalikes(
            "$ echo hi",
            &json!({"headers": {"Authorization": "Bearer abcdefghijklmnop"}, "k": ["sk-abcdefghijklmnopqrstuv"]}),
        );
        assert_eq!(found, ["a bearer token", "an API key (sk-…)"]);
        assert!(secret_lookalikes("$ ls", &json!({"command": "ls"})).is_empty());
    }
}
