//! The client side of an MCP session: answers server requests (roots, elicitation, sampling)
//! and routes notifications (progress, logs, list changes) to the host.

// Roots and sampling are marked deprecated upstream (SEP-2577) but servers still use them.
#![allow(deprecated)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{
    ClientCapabilities, ClientInfo, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, ElicitationAction, ErrorData, Implementation,
    ListRootsResult, LoggingMessageNotificationParam, ProgressNotificationParam, Role, Root,
    SamplingMessageContentBlock,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient};
use serde_json::{Value, json};

use crate::callbacks::{
    ClientCallbacks, ElicitationAnswer, ElicitationRequest, Progress, SamplingMessage,
    SamplingRequest, schema_defaults,
};

/// Receives a server's tool list, fetched again after it announced a change.
pub(crate) type RelistHook = Arc<dyn Fn(Vec<rmcp::model::Tool>) + Send + Sync>;

/// Longest wait for the tool list fetched after `notifications/tools/list_changed`.
const RELIST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// State shared between a connection and its handler.
#[derive(Default)]
pub(crate) struct SessionEvents {
    /// Set by `notifications/tools/list_changed`; the tool list is fetched again when set.
    pub tools_stale: AtomicBool,
    /// Progress tokens of our own calls → canonical tool name.
    pub progress_tools: Mutex<HashMap<String, String>>,
    /// Called with the server's new tool list after `notifications/tools/list_changed`.
    pub on_change: Mutex<Option<RelistHook>>,
}

impl SessionEvents {
    pub fn track(&self, token: &str, tool: &str) {
        self.progress_tools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.to_owned(), tool.to_owned());
    }
    pub fn untrack(&self, token: &str) {
        self.progress_tools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token);
    }
}

/// One handler per connection.
#[derive(Clone)]
pub struct PryxClientHandler {
    server: Arc<str>,
    roots: Arc<Vec<PathBuf>>,
    callbacks: Arc<dyn ClientCallbacks>,
    pub(crate) events: Arc<SessionEvents>,
}

impl PryxClientHandler {
    /// A handler for `server` offering `roots` (usually the workspace).
    pub fn new(server: &str, roots: Vec<PathBuf>, callbacks: Arc<dyn ClientCallbacks>) -> Self {
        Self {
            server: server.into(),
            roots: Arc::new(roots),
            callbacks,
            events: Arc::new(SessionEvents::default()),
        }
    }

    fn err(message: impl Into<String>) -> ErrorData {
        ErrorData::internal_error(message.into(), None)
    }
}

/// What Pryx announces in `initialize`.
pub fn client_info() -> ClientInfo {
    let caps: ClientCapabilities = serde_json::from_value(json!({
        "roots": {"listChanged": true},
        "sampling": {},
        "elicitation": {"form": {}, "url": {}}
    }))
    .unwrap_or_default();
    let mut info = ClientInfo::new(caps, Implementation::new("pryx", env!("CARGO_PKG_VERSION")));
    info.protocol_version = rmcp::model::ProtocolVersion::LATEST_WITH_INITIALIZE;
    info
}

fn file_uri(path: &std::path::Path) -> String {
    match url::Url::from_file_path(path) {
        Ok(u) => u.to_string(),
        Err(()) => format!("file://{}", path.display()),
    }
}

/// Text of each sampling message (non-text blocks are described, not dropped silently).
fn sampling_messages(raw: &Value) -> Vec<SamplingMessage> {
    let mut out = Vec::new();
    for m in raw
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = m
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user")
            .to_owned();
        let blocks: Vec<&Value> = match m.get("content") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v) => vec![v],
            None => Vec::new(),
        };
        let text = blocks
            .iter()
            .map(|b| match b.get("type").and_then(Value::as_str) {
                Some("text") => b
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                Some(kind) => format!("[{kind} content]"),
                None => String::new(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.push(SamplingMessage { role, text });
    }
    out
}

impl rmcp::ClientHandler for PryxClientHandler {
    fn get_info(&self) -> ClientInfo {
        client_info()
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        let roots = self
            .roots
            .iter()
            .map(|p| {
                let mut root = Root::new(file_uri(p));
                root.name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                root
            })
            .collect();
        Ok(ListRootsResult::new(roots))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let req = match request {
            ElicitRequestParams::FormElicitationParams {
                message,
                requested_schema,
                ..
            } => {
                let schema = serde_json::to_value(&requested_schema).unwrap_or(Value::Null);
                ElicitationRequest {
                    server: self.server.to_string(),
                    message,
                    defaults: schema_defaults(&schema),
                    schema,
                    url: None,
                }
            }
            ElicitRequestParams::UrlElicitationParams { message, url, .. } => ElicitationRequest {
                server: self.server.to_string(),
                message,
                schema: Value::Null,
                defaults: serde_json::Map::new(),
                url: Some(url),
            },
            _ => return Ok(ElicitResult::new(ElicitationAction::Decline)),
        };
        let is_form = req.url.is_none();
        let defaults = req.defaults.clone();
        Ok(match self.callbacks.elicit(req).await {
            ElicitationAnswer::Accept(mut content) => {
                for (k, v) in defaults {
                    content.entry(k).or_insert(v);
                }
                let result = ElicitResult::new(ElicitationAction::Accept);
                if is_form {
                    result.with_content(Value::Object(content))
                } else {
                    result
                }
            }
            ElicitationAnswer::Decline => ElicitResult::new(ElicitationAction::Decline),
            ElicitationAnswer::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        })
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let raw = serde_json::to_value(&params).unwrap_or(Value::Null);
        let request = SamplingRequest {
            server: self.server.to_string(),
            system_prompt: params.system_prompt.clone(),
            messages: sampling_messages(&raw),
            max_tokens: params.max_tokens,
            raw,
        };
        if !self.callbacks.approve_sampling(&request).await {
            return Err(ErrorData::new(
                rmcp::model::ErrorCode(-1),
                "the user declined the sampling request",
                None,
            ));
        }
        let answer = self.callbacks.sample(request).await.map_err(Self::err)?;
        let message = rmcp::model::SamplingMessage::new(
            Role::Assistant,
            SamplingMessageContentBlock::text(answer.text),
        );
        let mut result = CreateMessageResult::new(message, answer.model);
        result.stop_reason = answer.stop_reason;
        Ok(result)
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let token = token_key(&params.progress_token);
        let tool = self
            .events
            .progress_tools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&token)
            .cloned();
        self.callbacks.progress(Progress {
            server: self.server.to_string(),
            tool,
            progress: params.progress,
            total: params.total,
            message: params.message,
        });
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_value(params.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "info".into());
        self.callbacks.log(&self.server, &level, &params.data);
    }

    /// The list is fetched again at once (in a task of its own: the session's loop must stay
    /// free to read the answer), so tools made earlier pin what the server offers now.
    async fn on_tool_list_changed(&self, context: NotificationContext<RoleClient>) {
        self.events.tools_stale.store(true, Ordering::SeqCst);
        let hook = self
            .events
            .on_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(hook) = hook else { return };
        let server = self.server.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(RELIST_TIMEOUT, context.peer.list_all_tools()).await {
                Ok(Ok(defs)) => hook(defs),
                Ok(Err(e)) => {
                    tracing::warn!(server = %server, "tools/list after list_changed failed: {e}")
                }
                Err(_) => {
                    tracing::warn!(server = %server, "tools/list after list_changed timed out")
                }
            }
        });
    }
}

/// String form of a progress token (numbers and strings never collide in our own tokens).
pub(crate) fn token_key(token: &rmcp::model::ProgressToken) -> String {
    match &token.0 {
        rmcp::model::NumberOrString::Number(n) => n.to_string(),
        rmcp::model::NumberOrString::String(s) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_text_is_extracted() {
        let raw = json!({"messages": [
            {"role": "user", "content": {"type": "text", "text": "hi"}},
            {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image"}]}
        ]});
        let m = sampling_messages(&raw);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].text, "hi");
        assert_eq!(m[1].role, "assistant");
        assert_eq!(m[1].text, "a\n[image content]");
    }

    #[test]
    fn client_info_announces_roots_sampling_elicitation() {
        let v = serde_json::to_value(client_info()).unwrap();
        let caps = &v["capabilities"];
        assert_eq!(caps["roots"]["listChanged"], true);
        assert!(caps["sampling"].is_object());
        assert!(caps["elicitation"].is_object());
        assert_eq!(v["clientInfo"]["name"], "pryx");
    }
}
