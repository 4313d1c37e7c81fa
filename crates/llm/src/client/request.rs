//! What every request of a client carries: headers from the settings, tool names, and error text.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::LlmError;
use crate::provider::{ProviderKind, ProviderSettings};
use crate::tool_names::ToolNameMap;
use crate::types::{AssistantPart, ChatRequest, Message};
use crate::wire::anthropic;

pub(super) fn headers(settings: &ProviderSettings) -> Result<HeaderMap, LlmError> {
    let bad = |what: String| LlmError::BadRequest {
        provider: settings.id.clone(),
        status: 0,
        message: what,
    };
    let mut map = HeaderMap::new();
    map.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    map.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    if let Some(key) = &settings.api_key {
        let (name, value) = match settings.kind {
            ProviderKind::OpenAiCompatible => (
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", key.expose()),
            ),
            ProviderKind::Anthropic => (
                HeaderName::from_static("x-api-key"),
                key.expose().to_string(),
            ),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            bad("the API key contains characters not allowed in an HTTP header; re-enter it".into())
        })?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    if settings.kind == ProviderKind::Anthropic {
        map.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(anthropic::ANTHROPIC_VERSION),
        );
    }
    for (name, value) in &settings.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("extra header name `{name}` is not a valid HTTP header name; fix the provider settings")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| bad(format!("extra header `{name}` has a value that is not valid in HTTP; fix the provider settings")))?;
        map.insert(name, value);
    }
    Ok(map)
}

/// The error and its causes on one line (reqwest puts the useful part in the sources).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Every tool name the request mentions, declared or in history.
pub(super) fn name_map(req: &ChatRequest) -> ToolNameMap {
    let declared = req.tools.iter().map(|t| t.name.as_str());
    let history = req.messages.iter().flat_map(|m| match m {
        Message::Assistant { content } => content
            .iter()
            .filter_map(|p| match p {
                AssistantPart::ToolCall(c) => Some(c.name.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    });
    ToolNameMap::new(declared.chain(history))
}
