//! MCP tools as the agents get them: the server's tool unchanged, with an approval preview that
//! names the server, the tool's own name on it and every argument (an MCP tool has no preview of
//! its own, and its canonical name alone hides which server runs it).

use async_trait::async_trait;
use pryx_mcp::McpTool;
use pryx_protocol::ToolKind;
use pryx_tools::{Tool, ToolContext, ToolError, ToolOutput};
use serde_json::Value;
use std::sync::Arc;

/// One MCP tool, previewed for approvals.
pub(crate) struct Previewed(pub Arc<McpTool>);

#[async_trait]
impl Tool for Previewed {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn description(&self) -> &str {
        self.0.description()
    }

    fn schema(&self) -> Value {
        self.0.schema()
    }

    fn kind(&self) -> ToolKind {
        self.0.kind()
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        self.0.execute(args, ctx).await
    }

    /// The tool's own preview says what changed since the definition was pinned (above its
    /// arguments); that note comes first, then the server, the tool and every argument.
    async fn preview(&self, args: Value, ctx: ToolContext) -> Result<Option<String>, ToolError> {
        let changed = self.0.preview(args.clone(), ctx).await?.map(|p| {
            // Its arguments are shown below; keep only the note.
            let tail = format!("\n{} ", self.0.name());
            match p.rsplit_once(&tail) {
                Some((note, _)) => note.to_string(),
                None => p,
            }
        });
        let (read_only, destructive) = self.0.hints();
        let described = describe(
            self.0.server(),
            self.0.remote_name(),
            self.0.trusted(),
            (read_only, destructive),
            &args,
        );
        Ok(Some(match changed {
            Some(note) => format!("{note}\n{described}"),
            None => described,
        }))
    }

    fn read_only_hint(&self) -> bool {
        self.0.read_only_hint()
    }

    fn destructive_hint(&self) -> bool {
        self.0.destructive_hint()
    }

    fn resolved_reads(&self, args: &Value) -> Option<Result<Vec<std::path::PathBuf>, String>> {
        self.0.resolved_reads(args)
    }

    /// Approvals bind to the server's identity and the tool's definition: never lose it.
    fn pin(&self) -> Option<String> {
        self.0.pin()
    }
}

/// The server, the tool and every argument.
fn describe(
    server: &str,
    tool: &str,
    trusted: bool,
    (read_only, destructive): (bool, bool),
    args: &Value,
) -> String {
    let trust = if trusted {
        "trusted"
    } else {
        "not marked trusted"
    };
    let claims = match (read_only, destructive) {
        (true, _) => "claims to only read",
        (false, true) => "may change or destroy data",
        (false, false) => "may change data",
    };
    let shown = serde_json::to_string_pretty(args).unwrap_or_else(|_| args.to_string());
    format!("MCP server: {server} ({trust})\ntool: {tool} ({claims})\narguments:\n{shown}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_tool_and_every_argument_are_shown() {
        let shown = describe(
            "files",
            "write file",
            false,
            (false, true),
            &json!({"path": "/etc/passwd", "content": "x", "mode": 420}),
        );
        assert!(
            shown.starts_with(
                "MCP server: files (not marked trusted)\ntool: write file (may change or destroy data)\narguments:\n{"
            ),
            "{shown}"
        );
        for part in [
            "\"path\": \"/etc/passwd\"",
            "\"content\": \"x\"",
            "\"mode\": 420",
        ] {
            assert!(shown.contains(part), "{part}: {shown}");
        }
    }
}
