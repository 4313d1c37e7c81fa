//! What the TUI does beside the core because the API has no route for it yet: skills and MCP
//! servers come from their own crates and files (as `pryx skills` / `pryx mcp` do), and exports
//! are written from the session the API returned. Nothing here opens the database.

use pryx_config::{Config, DataDir};
use pryx_mcp::{McpManager, McpOptions, ServersFile};
use pryx_protocol::api::SessionDetail;
use pryx_skills::SkillIndex;
use pryx_tools::Tool;
use pryx_tui::model::{ExportFormat, McpServerView, McpTestReport, McpToolView, SkillView};
use pryx_tui::{ApiError, ApiResult};
use std::path::Path;
use std::time::Instant;

/// A local failure in the API's error shape.
pub fn failed(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Api {
        code: "LOCAL_ERROR".into(),
        message: format!("{what}: {e}"),
    }
}

/// Every skill of the workspace, the data dir and the binary.
pub fn skills(workspace: &Path, dir: DataDir) -> Vec<SkillView> {
    let catalog = SkillIndex::open(workspace, dir).catalog();
    catalog
        .skills
        .iter()
        .filter(|s| s.shadowed_by.is_none())
        .map(|s| SkillView {
            name: s.name().to_string(),
            description: s.manifest.description.clone(),
            source: s.origin.as_str().to_string(),
            enabled: s.eligibility.is_enabled(),
            eligible: s.is_usable(),
            missing: s
                .eligibility
                .reasons
                .iter()
                .map(|r| r.to_string())
                .collect(),
        })
        .collect()
}

/// Sets `skills.entries.<key>.enabled` in config.json (the core reads it on its next start).
pub fn set_skill(workspace: &Path, dir: DataDir, name: &str, on: bool) -> ApiResult<()> {
    let catalog = SkillIndex::open(workspace, dir.clone()).catalog();
    let skill = catalog.get(name).ok_or_else(|| ApiError::Api {
        code: "NOT_FOUND".into(),
        message: format!("no skill named `{name}`"),
    })?;
    let key = skill.switch_path();
    Config::set_path(&dir, &key, if on { "true" } else { "false" })
        .map(|_| ())
        .map_err(|e| failed("cannot change config.json", e))
}

fn manager(dir: &DataDir, workspace: &Path) -> ApiResult<(ServersFile, McpManager)> {
    let file = ServersFile::load(&dir.mcp_servers_file())
        .map_err(|e| failed("cannot read the MCP server list", e))?;
    let opts = McpOptions::new(dir.clone()).with_roots(vec![workspace.to_path_buf()]);
    let mgr = McpManager::from_file(&file, opts);
    Ok((file, mgr))
}

/// Connects to every configured MCP server and reports its health and tools.
pub async fn mcp_servers(dir: &DataDir, workspace: &Path) -> ApiResult<Vec<McpServerView>> {
    let (file, mgr) = manager(dir, workspace)?;
    let tools = mgr.mcp_tools().await;
    let mut out: Vec<McpServerView> = mgr
        .status()
        .into_iter()
        .map(|s| McpServerView {
            tools: tools
                .iter()
                .filter(|t| t.server() == s.name)
                .map(|t| McpToolView {
                    name: t.remote_name().to_string(),
                    description: t.description().to_string(),
                })
                .collect(),
            transport: s.transport.as_str().to_string(),
            status: s.status.to_string(),
            error: s.last_error,
            name: s.name,
        })
        .collect();
    mgr.shutdown().await;
    for p in file.problems() {
        out.push(McpServerView {
            name: p.server.clone().unwrap_or_else(|| "(config)".into()),
            transport: "?".into(),
            status: "failed".into(),
            error: Some(p.to_string()),
            tools: Vec::new(),
        });
    }
    Ok(out)
}

/// Connects to one server and lists its tools, timing both.
pub async fn mcp_test(dir: &DataDir, workspace: &Path, name: &str) -> ApiResult<McpTestReport> {
    let (_, mgr) = manager(dir, workspace)?;
    let Some(conn) = mgr.server(name) else {
        return Err(ApiError::Api {
            code: "NOT_FOUND".into(),
            message: format!("no usable MCP server named `{name}`"),
        });
    };
    let t0 = Instant::now();
    let result = match conn.connect().await {
        Ok(()) => conn.list_tools().await,
        Err(e) => Err(e),
    };
    let latency_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    mgr.shutdown().await;
    Ok(match result {
        Ok(tools) => McpTestReport {
            name: name.to_string(),
            ok: true,
            message: format!("connected over {}", conn.status().wire.unwrap_or("?")),
            tool_count: tools.len(),
            latency_ms,
        },
        Err(e) => McpTestReport {
            name: name.to_string(),
            ok: false,
            message: e.to_string(),
            tool_count: 0,
            latency_ms,
        },
    })
}

/// Writes `exports/<id>.md` or `.json` and returns its path.
pub fn export(dir: &Path, detail: &SessionDetail, format: ExportFormat) -> ApiResult<String> {
    std::fs::create_dir_all(dir).map_err(|e| failed("cannot create the exports folder", e))?;
    let safe: String = detail
        .session
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let (ext, body) = match format {
        ExportFormat::Json => (
            "json",
            serde_json::to_string_pretty(detail).map_err(|e| failed("cannot encode", e))?,
        ),
        ExportFormat::Markdown => ("md", pryx_core::export::session_markdown(detail)),
    };
    let path = dir.join(format!("{safe}.{ext}"));
    pryx_config::atomic_write(&path, body.as_bytes())
        .map_err(|e| failed("cannot write the export", e))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_protocol::api::{MessageView, SessionSummary};
    use pryx_protocol::message::Message;

    fn detail() -> SessionDetail {
        let msg = |seq, content: Message| MessageView {
            id: format!("m{seq}"),
            seq,
            role: content.role(),
            text: content.text(),
            content,
            tool_call_id: None,
            model: None,
            tokens_in: 0,
            tokens_out: 0,
            cost_usd: 0.0,
            created_at: "t".into(),
            pinned: false,
        };
        SessionDetail {
            session: SessionSummary {
                id: "../s1".into(),
                workspace_id: None,
                title: "Greeting".into(),
                status: "idle".into(),
                model: None,
                agent: None,
                policy: None,
                workspace: None,
                workspace_warning: None,
                created_at: "t".into(),
                updated_at: "t".into(),
                total_tokens_in: 0,
                total_tokens_out: 0,
                total_cost_usd: 0.0,
                busy: false,
                parent_id: None,
                snippet: None,
            },
            messages: vec![
                msg(1, Message::user("hi")),
                msg(2, Message::tool_result("c1", "", false)),
                msg(3, Message::assistant("hello")),
            ],
            last_version: 3,
        }
    }

    #[test]
    fn exports_stay_in_the_folder_and_show_empty_results_as_such() {
        let tmp = tempfile::tempdir().unwrap();
        let path = export(tmp.path(), &detail(), ExportFormat::Markdown).unwrap();
        assert_eq!(path, tmp.path().join("s1.md").display().to_string());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# Greeting\n\n- Session: `../s1`\n- Agent: main · Model: (default) · Policy: (default)\n\
             - Created: t · Updated: t\n- Usage: 0 tokens in, 0 out · $0.0000\n\n\
             ## User\n\nhi\n\n### Tool result `tool` (c1)\n\n*(no output)*\n\n\
             ## Assistant\n\nhello\n"
        );
        let path = export(tmp.path(), &detail(), ExportFormat::Json).unwrap();
        let back: SessionDetail =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(back, detail());
    }
}
