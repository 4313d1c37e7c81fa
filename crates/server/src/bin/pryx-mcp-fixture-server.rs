//! Test-only: Pryx's MCP server code ([`pryx_mcp::serve`]) with the fixture tools, resources and
//! prompts the MCP conformance suite's server scenarios expect (`test_simple_text`, …), served
//! over streamable HTTP at `http://127.0.0.1:<port>/mcp`. The gateway's `/mcp` runs the same
//! handler and transport with Pryx's own offer; the suite's protocol scenarios run against both.
//!
//! Usage: `pryx-mcp-fixture-server` — prints the port as its first stdout line, then serves
//! until killed.

#![allow(deprecated)] // sampling and logging, as the 2025-11-25 scenarios test them

use pryx_mcp::rmcp::ErrorData;
use pryx_mcp::rmcp::model::{
    CallToolResult, CompleteRequestParams, ContentBlock, CreateMessageRequestParams,
    ElicitRequestParams, GetPromptResult, Implementation, JsonObject, LoggingLevel,
    ProgressNotificationParam, Prompt, Resource, ResourceContents, ResourceTemplate, Tool,
};
use pryx_mcp::serve::{Asked, HttpConfig, Offer, from_json, http_service, log};
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// A 1×1 PNG.
const IMAGE: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
/// Eight samples of 8 kHz silence as WAV.
const AUDIO: &str = "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";
const SCHEMA_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// A string argument, empty when missing.
fn str_arg(arguments: &JsonObject, key: &str) -> String {
    arguments
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn text(t: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(t)])
}

fn no_args(name: &str, description: &str) -> Value {
    json!({"name": name, "description": description, "inputSchema": {"type": "object", "properties": {}}})
}

fn string_arg(name: &str, description: &str, arg: &str) -> Value {
    json!({"name": name, "description": description, "inputSchema": {
        "type": "object", "properties": {arg: {"type": "string"}}, "required": [arg]}})
}

struct Fixtures;

impl Fixtures {
    async fn elicit(&self, asked: &Asked, params: Value) -> Result<CallToolResult, ErrorData> {
        let params: ElicitRequestParams = from_json(params)?;
        match asked.peer.create_elicitation(params).await {
            Ok(r) => Ok(text(format!(
                "User response: action={}, content={}",
                serde_json::to_value(r.action).unwrap_or(Value::Null),
                r.content.unwrap_or(json!({}))
            ))),
            Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "Elicitation not supported or error: {e}"
            ))])),
        }
    }

    async fn progress(&self, asked: &Asked) -> Result<CallToolResult, ErrorData> {
        let token = asked.meta.get_progress_token();
        for step in [0.0, 50.0, 100.0] {
            if let Some(token) = &token {
                let mut p = ProgressNotificationParam::new(token.clone(), step);
                p.total = Some(100.0);
                let _ = asked.peer.notify_progress(p).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(text("Tool with progress executed successfully"))
    }
}

impl Offer for Fixtures {
    fn server_info(&self) -> Implementation {
        Implementation::new("pryx-mcp-fixtures", env!("CARGO_PKG_VERSION"))
    }

    async fn tools(&self, _asked: &Asked) -> Result<Vec<Tool>, ErrorData> {
        let tools = vec![
            no_args("test_simple_text", "Tests simple text content response"),
            no_args("test_image_content", "Tests image content response"),
            no_args("test_audio_content", "Tests audio content response"),
            no_args(
                "test_embedded_resource",
                "Tests embedded resource content response",
            ),
            no_args(
                "test_multiple_content_types",
                "Tests response with multiple content types",
            ),
            no_args(
                "test_tool_with_logging",
                "Tests tool that emits log messages",
            ),
            no_args(
                "test_tool_with_progress",
                "Tests tool that reports progress",
            ),
            no_args("test_error_handling", "Tests error response handling"),
            no_args(
                "test_reconnection",
                "Tests a call whose stream may be closed and resumed",
            ),
            string_arg("test_sampling", "Tests server-initiated sampling", "prompt"),
            string_arg(
                "test_elicitation",
                "Tests server-initiated elicitation",
                "message",
            ),
            no_args(
                "test_elicitation_sep1034_defaults",
                "Tests elicitation with defaults",
            ),
            no_args(
                "test_elicitation_sep1330_enums",
                "Tests elicitation with enum schemas",
            ),
            json!({"name": "json_schema_2020_12_tool",
                "description": "Tool with JSON Schema 2020-12 features",
                "inputSchema": {
                    "$schema": SCHEMA_2020_12, "type": "object",
                    "$defs": {"address": {"type": "object", "properties": {
                        "street": {"type": "string"}, "city": {"type": "string"}}}},
                    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                    "additionalProperties": false}}),
        ];
        tools.into_iter().map(from_json).collect()
    }

    async fn call_tool(
        &self,
        name: &str,
        arguments: JsonObject,
        asked: Asked,
    ) -> Result<CallToolResult, ErrorData> {
        let arg = |k: &str| str_arg(&arguments, k);
        let resource = |uri: &str, mime: &str, body: &str| -> Result<ContentBlock, ErrorData> {
            from_json(
                json!({"type": "resource", "resource": {"uri": uri, "mimeType": mime, "text": body}}),
            )
        };
        match name {
            "test_simple_text" => Ok(text("This is a simple text response for testing.")),
            "test_image_content" => Ok(CallToolResult::success(vec![ContentBlock::image(
                IMAGE,
                "image/png",
            )])),
            "test_audio_content" => Ok(CallToolResult::success(vec![ContentBlock::audio(
                AUDIO,
                "audio/wav",
            )])),
            "test_embedded_resource" => Ok(CallToolResult::success(vec![resource(
                "test://embedded-resource",
                "text/plain",
                "This is an embedded resource content.",
            )?])),
            "test_multiple_content_types" => Ok(CallToolResult::success(vec![
                ContentBlock::text("Multiple content types test:"),
                ContentBlock::image(IMAGE, "image/png"),
                resource(
                    "test://mixed-content-resource",
                    "application/json",
                    r#"{"test":"data","value":123}"#,
                )?,
            ])),
            "test_tool_with_logging" => {
                for (i, msg) in ["Tool execution started", "Tool processing data", "Tool execution completed"]
                    .into_iter()
                    .enumerate()
                {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    log(&asked, LoggingLevel::Info, msg).await;
                }
                Ok(text("Tool with logging executed successfully"))
            }
            "test_tool_with_progress" => self.progress(&asked).await,
            "test_error_handling" => Ok(CallToolResult::error(vec![ContentBlock::text(
                "This tool intentionally returns an error for testing",
            )])),
            "test_reconnection" => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(text("Reconnection test completed successfully."))
            }
            "test_sampling" => {
                let params: CreateMessageRequestParams = from_json(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": arg("prompt")}}],
                    "maxTokens": 100}))?;
                match asked.peer.create_message(params).await {
                    Ok(r) => {
                        let answer = serde_json::to_value(&r.message.content)
                            .ok()
                            .and_then(|c| c.get("text").and_then(Value::as_str).map(str::to_string))
                            .unwrap_or_else(|| "No response".into());
                        Ok(text(format!("LLM response: {answer}")))
                    }
                    Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                        "Sampling not supported or error: {e}"
                    ))])),
                }
            }
            "test_elicitation" => {
                self.elicit(&asked, json!({"message": arg("message"), "requestedSchema": {
                    "type": "object", "properties": {
                        "username": {"type": "string", "description": "User's response"},
                        "email": {"type": "string", "description": "User's email address"}},
                    "required": ["username", "email"]}}))
                .await
            }
            "test_elicitation_sep1034_defaults" => {
                self.elicit(&asked, json!({"message": "Please review and update the form fields with defaults",
                    "requestedSchema": {"type": "object", "properties": {
                        "name": {"type": "string", "description": "User name", "default": "John Doe"},
                        "age": {"type": "integer", "description": "User age", "default": 30},
                        "score": {"type": "number", "description": "User score", "default": 95.5},
                        "status": {"type": "string", "description": "User status",
                            "enum": ["active", "inactive", "pending"], "default": "active"},
                        "verified": {"type": "boolean", "description": "Verification status", "default": true}},
                    "required": []}}))
                .await
            }
            "test_elicitation_sep1330_enums" => {
                let titled = |a: &str, b: &str, c: &str| json!([
                    {"const": "value1", "title": a}, {"const": "value2", "title": b}, {"const": "value3", "title": c}]);
                self.elicit(&asked, json!({"message": "Please select options from the enum fields",
                    "requestedSchema": {"type": "object", "properties": {
                        "untitledSingle": {"type": "string", "description": "Select one option",
                            "enum": ["option1", "option2", "option3"]},
                        "titledSingle": {"type": "string", "description": "Select one option with titles",
                            "oneOf": titled("First Option", "Second Option", "Third Option")},
                        "legacyEnum": {"type": "string", "description": "Select one option (legacy)",
                            "enum": ["opt1", "opt2", "opt3"],
                            "enumNames": ["Option One", "Option Two", "Option Three"]},
                        "untitledMulti": {"type": "array", "description": "Select multiple options",
                            "minItems": 1, "maxItems": 3,
                            "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                        "titledMulti": {"type": "array", "description": "Select multiple options with titles",
                            "minItems": 1, "maxItems": 3,
                            "items": {"anyOf": titled("First Choice", "Second Choice", "Third Choice")}}},
                    "required": []}}))
                .await
            }
            "json_schema_2020_12_tool" => Ok(text(format!(
                "JSON Schema 2020-12 tool called with: {}",
                Value::Object(arguments)
            ))),
            other => Err(ErrorData::invalid_params(format!("unknown tool {other}"), None)),
        }
    }

    async fn resources(&self, _asked: &Asked) -> Result<Vec<Resource>, ErrorData> {
        [
            ("test://static-text", "static-text", "text/plain"),
            ("test://static-binary", "static-binary", "image/png"),
            ("test://watched-resource", "watched-resource", "text/plain"),
        ]
        .into_iter()
        .map(|(uri, name, mime)| from_json(json!({"uri": uri, "name": name, "mimeType": mime})))
        .collect()
    }

    fn resource_templates(&self) -> Vec<ResourceTemplate> {
        from_json(
            json!([{"uriTemplate": "test://template/{id}/data", "name": "template",
            "mimeType": "application/json"}]),
        )
        .unwrap_or_default()
    }

    async fn read_resource(
        &self,
        uri: &str,
        _asked: &Asked,
    ) -> Result<Vec<ResourceContents>, ErrorData> {
        let contents = match uri {
            "test://static-text" => json!({"uri": uri, "mimeType": "text/plain",
                "text": "This is the content of the static text resource."}),
            "test://static-binary" => json!({"uri": uri, "mimeType": "image/png", "blob": IMAGE}),
            "test://watched-resource" => json!({"uri": uri, "mimeType": "text/plain",
                "text": "Watched resource content"}),
            _ => match uri
                .strip_prefix("test://template/")
                .and_then(|rest| rest.strip_suffix("/data"))
            {
                Some(id) if !id.is_empty() && !id.contains('/') => json!({"uri": uri,
                    "mimeType": "application/json",
                    "text": json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string()}),
                _ => {
                    return Err(ErrorData::resource_not_found(
                        format!("no resource {uri}"),
                        None,
                    ));
                }
            },
        };
        Ok(vec![from_json(contents)?])
    }

    async fn prompts(&self, _asked: &Asked) -> Result<Vec<Prompt>, ErrorData> {
        let arg = |n: &str, d: &str| json!({"name": n, "description": d, "required": true});
        [
            json!({"name": "test_simple_prompt", "description": "A simple prompt without arguments"}),
            json!({"name": "test_prompt_with_arguments", "description": "A prompt with required arguments",
                "arguments": [arg("arg1", "First test argument"), arg("arg2", "Second test argument")]}),
            json!({"name": "test_prompt_with_embedded_resource",
                "description": "A prompt that includes an embedded resource",
                "arguments": [arg("resourceUri", "URI of the resource to embed")]}),
            json!({"name": "test_prompt_with_image", "description": "A prompt that includes image content"}),
        ]
        .into_iter()
        .map(from_json)
        .collect()
    }

    async fn get_prompt(
        &self,
        name: &str,
        arguments: JsonObject,
        _asked: &Asked,
    ) -> Result<GetPromptResult, ErrorData> {
        let arg = |k: &str| str_arg(&arguments, k);
        let user_text = |t: String| json!({"role": "user", "content": {"type": "text", "text": t}});
        let messages = match name {
            "test_simple_prompt" => {
                json!([user_text("This is a simple prompt for testing.".into())])
            }
            "test_prompt_with_arguments" => json!([user_text(format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                arg("arg1"),
                arg("arg2")
            ))]),
            "test_prompt_with_embedded_resource" => json!([
                {"role": "user", "content": {"type": "resource", "resource": {
                    "uri": arg("resourceUri"), "mimeType": "text/plain",
                    "text": "Embedded resource content for testing."}}},
                user_text("Please process the embedded resource above.".into())]),
            "test_prompt_with_image" => json!([
                {"role": "user", "content": {"type": "image", "data": IMAGE, "mimeType": "image/png"}},
                user_text("Please analyze the image above.".into())]),
            other => {
                return Err(ErrorData::invalid_params(
                    format!("unknown prompt {other}"),
                    None,
                ));
            }
        };
        from_json(json!({"messages": messages}))
    }

    fn complete(&self, request: &CompleteRequestParams) -> Vec<String> {
        let prefix = request.argument.value.as_str();
        ["paris", "park", "party"]
            .into_iter()
            .filter(|v| v.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let service = http_service(
        || Fixtures,
        HttpConfig {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into()],
            ..HttpConfig::default()
        },
    );
    let app = axum::Router::new().nest_service("/mcp", service);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{port}")?;
    out.flush()?;
    drop(out);
    axum::serve(listener, app).await
}
