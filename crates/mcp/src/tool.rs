//! MCP tools as [`pryx_tools::Tool`]s, named `<server>.<tool>`.

use std::sync::Arc;

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use pryx_tools::{Tool, ToolContext, ToolError, ToolOutput};
use rmcp::model::{CallToolResult, Tool as McpToolDef};
use serde_json::{Value, json};

use crate::McpError;
use crate::connection::ServerConnection;

/// One tool of one server.
#[derive(Clone)]
pub struct McpTool {
    canonical: String,
    remote: String,
    description: String,
    schema: Value,
    read_only: bool,
    destructive: bool,
    /// The user marked the server trusted: its annotations may relax a policy decision.
    trusted: bool,
    /// The definition as listed when this tool was made (what the model was shown).
    def: McpToolDef,
    conn: Arc<ServerConnection>,
}

impl std::fmt::Debug for McpTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpTool")
            .field("name", &self.canonical)
            .finish_non_exhaustive()
    }
}

/// `<server>.<tool>` with characters outside `[A-Za-z0-9_-]` in the tool part made `_`.
pub fn canonical_name(server: &str, tool: &str) -> String {
    let tool: String = tool
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{server}.{tool}")
}

impl McpTool {
    pub(crate) fn new(conn: Arc<ServerConnection>, def: &McpToolDef) -> Self {
        let ann = def.annotations.as_ref();
        let read_only = ann.and_then(|a| a.read_only_hint).unwrap_or(false);
        // The spec's default for destructiveHint is true when the tool is not read-only.
        let destructive = !read_only && ann.and_then(|a| a.destructive_hint).unwrap_or(true);
        let mut description = def
            .description
            .as_deref()
            .or(def.title.as_deref())
            .unwrap_or("")
            .to_owned();
        if description.is_empty() {
            description = format!("Tool `{}` of MCP server `{}`.", def.name, conn.name());
        }
        let mut schema = Value::Object((*def.input_schema).clone());
        if schema.get("type").is_none() {
            schema["type"] = json!("object");
        }
        Self {
            canonical: canonical_name(conn.name(), &def.name),
            remote: def.name.to_string(),
            description,
            schema,
            read_only,
            destructive,
            trusted: conn.config().trusted,
            def: def.clone(),
            conn,
        }
    }

    /// The definition the server offers now: the latest listing or `list_changed` re-list.
    /// `None` when it no longer offers the tool.
    fn current_def(&self) -> Option<McpToolDef> {
        self.conn
            .current_def(&self.remote)
            .unwrap_or_else(|| Some(self.def.clone()))
    }

    /// What changed since the tool last ran, or since it was listed for this session: another
    /// program under the server's name, or another definition. `None` when nothing did.
    pub fn change(&self) -> Option<String> {
        let Some(now) = self.current_def() else {
            return Some(format!(
                "MCP server `{}` no longer offers `{}`.",
                self.server(),
                self.remote
            ));
        };
        let pins = self.conn.pins();
        if let Some(change) = pins.change_since_last_run(
            self.server(),
            self.conn.identity(),
            self.conn.transport(),
            &now,
        ) {
            return Some(change);
        }
        (crate::pins::definition_hash(&self.def) != crate::pins::definition_hash(&now)).then(|| {
            format!(
                "The definition of `{}` changed after it was listed:\n{}",
                self.remote,
                crate::pins::describe_change(&self.def, &now)
            )
        })
    }

    /// The annotations as the server declared them: `(read_only, destructive)`, for showing.
    /// They decide nothing unless the server is [trusted](Self::trusted).
    pub fn hints(&self) -> (bool, bool) {
        (self.read_only, self.destructive)
    }

    /// Whether the user marked the tool's server trusted (`"trusted": true` in servers.json).
    pub fn trusted(&self) -> bool {
        self.trusted
    }

    /// The tool's own name on its server.
    pub fn remote_name(&self) -> &str {
        &self.remote
    }

    /// The server it belongs to.
    pub fn server(&self) -> &str {
        self.conn.name()
    }
}

#[async_trait]
impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.canonical
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn schema(&self) -> Value {
        self.schema.clone()
    }

    /// Only a trusted server's `readOnlyHint` counts: anyone can write one, and a policy
    /// treats a read-only tool like a read (usually allowed without asking).
    fn read_only_hint(&self) -> bool {
        self.trusted && self.read_only
    }

    /// A destructive hint only makes a decision stricter, so it counts from any server.
    fn destructive_hint(&self) -> bool {
        self.destructive
    }

    /// The server's identity and the hash of the definition it offers now.
    fn pin(&self) -> Option<String> {
        let def = match self.current_def() {
            Some(d) => crate::pins::definition_hash(&d),
            None => "withdrawn".to_owned(),
        };
        Some(format!("mcp:{}:{def}", self.conn.identity()))
    }

    /// A changed definition or server is shown with what changed, above the arguments.
    async fn preview(&self, args: Value, _ctx: ToolContext) -> Result<Option<String>, ToolError> {
        let this = self.clone();
        let change = tokio::task::spawn_blocking(move || this.change())
            .await
            .map_err(|e| ToolError::Internal(e.to_string()))?;
        Ok(change.map(|c| {
            let args = serde_json::to_string_pretty(&args).unwrap_or_default();
            format!("{c}\n{} {args}", self.canonical)
        }))
    }

    fn kind(&self) -> ToolKind {
        if self.read_only_hint() {
            ToolKind::Read
        } else {
            ToolKind::Exec
        }
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args = match args {
            Value::Object(m) => m,
            Value::Null => serde_json::Map::new(),
            _ => {
                return Err(ToolError::InvalidArguments {
                    tool: self.canonical.clone(),
                    message: "arguments must be a JSON object".into(),
                });
            }
        };
        // The definition it runs with now is what the next change is measured against.
        if let Some(now) = self.current_def() {
            let conn = self.conn.clone();
            let recorded = tokio::task::spawn_blocking(move || {
                conn.pins()
                    .record_run(conn.name(), conn.identity(), conn.transport(), &now)
            })
            .await;
            if !matches!(recorded, Ok(Ok(()))) {
                tracing::warn!(tool = %self.canonical, "could not record the tool's definition in mcp/pins.json");
            }
        }
        let result = self
            .conn
            .call_tool(&self.remote, &self.canonical, args, &ctx.cancel)
            .await
            .map_err(|e| match e {
                McpError::Cancelled => ToolError::Cancelled,
                McpError::Timeout { secs, .. } => ToolError::Timeout {
                    after: std::time::Duration::from_secs(secs),
                    output: String::new(),
                },
                other => ToolError::Http(other.to_string()),
            })?;
        let content = render_result(&result);
        let content = pryx_tools::trim_output(&content, ctx.limits.output_cap_bytes).into_owned();
        Ok(ToolOutput {
            content,
            is_error: result.is_error.unwrap_or(false),
            metadata: json!({"server": self.conn.name(), "tool": self.remote}),
        })
    }
}

/// Text the model sees for a call result: text blocks as they are, other blocks described,
/// structured content as JSON when there is no text.
pub fn render_result(result: &CallToolResult) -> String {
    let mut parts = Vec::new();
    for block in &result.content {
        let v = serde_json::to_value(block).unwrap_or(Value::Null);
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        match s("type") {
            "text" => parts.push(s("text").to_owned()),
            "image" | "audio" => parts.push(format!(
                "[{} {} , {} bytes base64]",
                s("type"),
                s("mimeType"),
                s("data").len()
            )),
            "resource" => {
                let r = &v["resource"];
                match r.get("text").and_then(Value::as_str) {
                    Some(t) => parts.push(t.to_owned()),
                    None => parts.push(format!(
                        "[resource {}]",
                        r.get("uri").and_then(Value::as_str).unwrap_or("")
                    )),
                }
            }
            "resource_link" => parts.push(format!("[resource link {}]", s("uri"))),
            other => parts.push(format!("[{other} content]")),
        }
    }
    if parts.is_empty()
        && let Some(sc) = &result.structured_content
    {
        return sc.to_string();
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_of(trusted: bool, annotations: Value) -> McpTool {
        let tmp = tempfile::tempdir().unwrap();
        let shared = Arc::new(crate::connection::Shared {
            data_dir: pryx_config::DataDir::at(tmp.path().join("home")),
            roots: Vec::new(),
            allowed_env: Vec::new(),
            callbacks: Arc::new(crate::callbacks::DefaultCallbacks),
            on_tools_changed: std::sync::Mutex::new(None),
            pins: crate::pins::PinStore::new(tmp.path().join("pins.json")),
        });
        let mut cfg = crate::ServerConfig::stdio(vec!["srv".into()]);
        cfg.trusted = trusted;
        let conn = Arc::new(ServerConnection::new("srv", cfg, shared));
        let def: McpToolDef = serde_json::from_value(json!({
            "name": "wipe",
            "description": "Cleans up.",
            "inputSchema": {"type": "object"},
            "annotations": annotations,
        }))
        .unwrap();
        McpTool::new(conn, &def)
    }

    #[test]
    fn only_a_trusted_server_can_declare_a_tool_read_only() {
        let claims = json!({"readOnlyHint": true});
        let untrusted = tool_of(false, claims.clone());
        assert_eq!(untrusted.hints(), (true, false), "the claim stays visible");
        assert!(!untrusted.trusted());
        assert!(!untrusted.read_only_hint());
        assert_eq!(untrusted.kind(), ToolKind::Exec);
        let trusted = tool_of(true, claims);
        assert!(trusted.trusted());
        assert!(trusted.read_only_hint());
        assert_eq!(trusted.kind(), ToolKind::Read);
        // A destructive hint only adds caution, so it counts either way.
        let loud = tool_of(
            false,
            json!({"readOnlyHint": false, "destructiveHint": true}),
        );
        assert!(loud.destructive_hint());
    }

    #[test]
    fn canonical_names_are_dotted_and_safe() {
        assert_eq!(canonical_name("fs", "read_file"), "fs.read_file");
        assert_eq!(canonical_name("x", "a.b/c"), "x.a_b_c");
    }

    #[test]
    fn results_render_text_media_and_structured() {
        let r: CallToolResult = serde_json::from_value(json!({
            "content": [
                {"type": "text", "text": "hello"},
                {"type": "image", "data": "AAAA", "mimeType": "image/png"},
                {"type": "resource", "resource": {"uri": "file:///a", "text": "inner"}}
            ]
        }))
        .unwrap();
        assert_eq!(
            render_result(&r),
            "hello\n[image image/png , 4 bytes base64]\ninner"
        );
        let r: CallToolResult =
            serde_json::from_value(json!({"content": [], "structuredContent": {"n": 1}})).unwrap();
        assert_eq!(render_result(&r), r#"{"n":1}"#);
    }
}
