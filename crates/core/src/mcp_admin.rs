//! The MCP servers of `servers.json` as `/mcp-servers` of the API and the dashboard's MCP pages
//! show them (live status as the main agent's turns see it, what each offers), and the changes
//! made there: add a server once a test connection listed its tools, remove one (with the
//! grants given to its tools), switch a server or one of its tools on or off.

use crate::{Core, CoreError};
use pryx_mcp::{McpManager, McpOptions, ServerConfig, ServersFile, TransportKind};
use pryx_protocol::api::{
    McpOfferedTool, McpPromptView, McpResourceView, McpServerAdd, McpServerAdded, McpServerDetail,
    McpServerList, McpServerState, McpServerSummary, McpToolView, McpTransport,
};
use pryx_tools::Tool;
use std::time::Duration;

/// How long the test of a new server may take.
const TEST_LIMIT: Duration = Duration::from_secs(20);
/// Longest resource text handed out.
const READ_CHARS: usize = 20_000;

fn transport(t: TransportKind) -> McpTransport {
    match t {
        TransportKind::Stdio => McpTransport::Stdio,
        TransportKind::Http => McpTransport::Http,
        TransportKind::Sse => McpTransport::Sse,
    }
}

fn state(s: &str) -> McpServerState {
    match s {
        "connected" => McpServerState::Connected,
        "failed" => McpServerState::Failed,
        "disabled" => McpServerState::Disabled,
        _ => McpServerState::Idle,
    }
}

/// What a configured server runs or where it is.
fn target(s: &ServerConfig) -> String {
    s.url
        .clone()
        .or_else(|| (!s.command.is_empty()).then(|| s.command.join(" ")))
        .unwrap_or_default()
}

fn no_server(name: &str) -> CoreError {
    CoreError::NotFound(format!(
        "no MCP server named {name} is configured, switched on and loaded; GET /api/v1/mcp-servers lists them"
    ))
}

fn file_error(e: pryx_mcp::McpError) -> CoreError {
    CoreError::Unusable(e.to_string())
}

/// What the form or request describes: an http(s) URL, or a command line for stdio.
fn config_of(target: &str, trusted: bool) -> Result<ServerConfig, String> {
    let target = target.trim();
    let mut cfg = if target.starts_with("http://") || target.starts_with("https://") {
        ServerConfig::http(target)
    } else {
        ServerConfig::stdio(pryx_mcp::split_command(target)?)
    };
    cfg.trusted = trusted;
    Ok(cfg)
}

/// Why a new server's test did not list tools.
enum Tested {
    /// It answered that it needs an OAuth sign-in.
    NeedsSignIn,
    Failed(String),
}

impl Core {
    /// The servers of `servers.json` as configured (`idle` or `disabled`, no tools yet), and
    /// why the file or some entries could not be used; nothing is started.
    pub fn mcp_servers_configured(&self) -> McpServerList {
        let mut problems = Vec::new();
        let servers = match ServersFile::load(&self.dir().mcp_servers_file()) {
            Ok(file) => {
                problems.extend(file.problems().iter().map(ToString::to_string));
                file.servers()
                    .iter()
                    .map(|(name, cfg)| McpServerSummary {
                        name: name.clone(),
                        transport: transport(cfg.transport_kind()),
                        target: target(cfg),
                        enabled: cfg.enabled,
                        trusted: cfg.trusted,
                        state: if cfg.enabled {
                            McpServerState::Idle
                        } else {
                            McpServerState::Disabled
                        },
                        tool_count: None,
                        last_error: None,
                        offered_tools: Vec::new(),
                        sign_in: self.mcp_sign_in(name),
                    })
                    .collect()
            }
            Err(e) => {
                problems.push(e.to_string());
                Vec::new()
            }
        };
        McpServerList {
            mcp_enabled: self.settings().config.mcp.enabled,
            servers,
            problems,
        }
    }

    /// The servers of `servers.json` with their live status and the tools the agent gets
    /// (loading them as the main agent's next turn would).
    pub async fn mcp_servers(&self) -> McpServerList {
        let mut list = self.mcp_servers_configured();
        let (status, tools) = self.mcp_status().await;
        for server in &mut list.servers {
            let prefix = format!("{}.", server.name);
            if let Some(live) = status.iter().find(|s| s.name == server.name) {
                server.state = state(live.status);
                server.tool_count = live.tool_count.map(|n| n as u64);
                server.last_error = live.last_error.clone();
            }
            server.offered_tools = tools
                .iter()
                .filter(|t| t.name.starts_with(&prefix))
                .map(|t| McpOfferedTool {
                    name: t.name.clone(),
                    description: t.description.clone(),
                })
                .collect();
        }
        list
    }

    /// What a loaded server offers: tools (with their switches and annotations), resources and
    /// prompts, asked of the connection the agent's turns use.
    pub async fn mcp_server(&self, name: &str) -> Result<McpServerDetail, CoreError> {
        let mgr = self.mcp_manager().await.ok_or_else(|| no_server(name))?;
        let conn = mgr.server(name).ok_or_else(|| no_server(name))?;
        let config = conn.config().clone();
        let mut problems = Vec::new();
        let prefix = format!("{name}.");
        let tools = match mgr.server_tools(name).await {
            Ok(tools) => tools
                .iter()
                .map(|t| {
                    let short = t
                        .name()
                        .strip_prefix(&prefix)
                        .unwrap_or(t.name())
                        .to_string();
                    let (read_only, destructive) = t.hints();
                    McpToolView {
                        enabled: !config.disabled_tools.contains(&short),
                        full_name: t.name().to_string(),
                        description: t.description().to_string(),
                        name: short,
                        read_only,
                        destructive,
                    }
                })
                .collect(),
            Err(e) => {
                problems.push(format!("tools: {e}"));
                Vec::new()
            }
        };
        let resources = match conn.list_resources().await {
            Ok(list) => list
                .into_iter()
                .map(|r| McpResourceView {
                    uri: r.uri.clone(),
                    name: r.name.clone(),
                    description: r.description.clone().unwrap_or_default(),
                    mime_type: r.mime_type.clone().unwrap_or_default(),
                })
                .collect(),
            Err(e) => {
                problems.push(format!("resources: {e}"));
                Vec::new()
            }
        };
        let prompts = match conn.list_prompts().await {
            Ok(list) => list
                .into_iter()
                .map(|p| McpPromptView {
                    name: p.name.clone(),
                    description: p.description.clone().unwrap_or_default(),
                    arguments: p
                        .arguments
                        .unwrap_or_default()
                        .into_iter()
                        .map(|a| {
                            if a.required == Some(true) {
                                format!("{} (required)", a.name)
                            } else {
                                a.name
                            }
                        })
                        .collect(),
                })
                .collect(),
            Err(e) => {
                problems.push(format!("prompts: {e}"));
                Vec::new()
            }
        };
        Ok(McpServerDetail {
            name: name.to_string(),
            trusted: config.trusted,
            tools,
            resources,
            prompts,
            problems,
        })
    }

    /// The text of one resource of a loaded server (binary parts named, not shown), cut at
    /// [`READ_CHARS`].
    pub async fn read_mcp_resource(&self, name: &str, uri: &str) -> Result<String, CoreError> {
        let mgr = self.mcp_manager().await.ok_or_else(|| no_server(name))?;
        let conn = mgr.server(name).ok_or_else(|| no_server(name))?;
        let result = conn
            .read_resource(uri)
            .await
            .map_err(|e| CoreError::Unusable(format!("cannot read {uri}: {e}")))?;
        let text = serde_json::to_value(&result.contents)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(
                |c| match c.get("text").and_then(serde_json::Value::as_str) {
                    Some(t) => t.to_string(),
                    None => "[binary content]".to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("\n");
        Ok(text.chars().take(READ_CHARS).collect())
    }

    /// Tests the server described (connect and list its tools, as `pryx mcp test`) and saves
    /// it only when that works, or when it asks for an OAuth sign-in (the next step).
    pub async fn add_mcp_server(
        &self,
        req: &McpServerAdd,
        actor: &str,
    ) -> Result<McpServerAdded, CoreError> {
        let name = req.name.trim();
        let path = self.dir().mcp_servers_file();
        let mut file = ServersFile::load(&path).map_err(file_error)?;
        if file.contains(name) {
            return Err(CoreError::Conflict(format!(
                "a server named {name} exists; remove it first"
            )));
        }
        let cfg = config_of(&req.target, req.trusted).map_err(CoreError::Unusable)?;
        let (tool_count, needs_sign_in) = match self.test_mcp_server(name, &cfg).await {
            Ok(n) => (Some(n as u64), false),
            Err(Tested::NeedsSignIn) => (None, true),
            Err(Tested::Failed(e)) => {
                return Err(CoreError::Unusable(format!(
                    "not saved: the test failed: {e}"
                )));
            }
        };
        file.upsert(name, &cfg)
            .and_then(|_| file.save())
            .map_err(file_error)?;
        self.audit_change(
            actor,
            "mcp.server_added",
            "mcp_server",
            name,
            serde_json::json!({ "target": target(&cfg), "trusted": cfg.trusted }),
            true,
        );
        Ok(McpServerAdded {
            name: name.to_string(),
            tool_count,
            needs_sign_in,
        })
    }

    /// Connects to the server described and lists its tools; nothing is saved.
    async fn test_mcp_server(&self, name: &str, cfg: &ServerConfig) -> Result<usize, Tested> {
        let scratch = self.dir().root().join(".mcp-test-never-written.json");
        let mut file = ServersFile::load(&scratch).map_err(|e| Tested::Failed(e.to_string()))?;
        file.upsert(name, cfg)
            .map_err(|e| Tested::Failed(e.to_string()))?;
        let roots = self
            .profile(None)
            .map(|p| vec![p.workspace])
            .unwrap_or_default();
        let mgr =
            McpManager::from_file(&file, McpOptions::new(self.dir().clone()).with_roots(roots));
        let Some(conn) = mgr.server(name) else {
            let why = file
                .problems()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            mgr.shutdown().await;
            return Err(Tested::Failed(why));
        };
        let outcome = tokio::time::timeout(TEST_LIMIT, async {
            conn.connect().await?;
            conn.list_tools().await
        })
        .await;
        mgr.shutdown().await;
        match outcome {
            Ok(Ok(tools)) => Ok(tools.len()),
            Ok(Err(pryx_mcp::McpError::AuthRequired(_))) => Err(Tested::NeedsSignIn),
            Ok(Err(e)) => Err(Tested::Failed(e.to_string())),
            Err(_) => Err(Tested::Failed(format!(
                "it did not answer within {} s",
                TEST_LIMIT.as_secs()
            ))),
        }
    }

    /// Removes a server from `servers.json`, forgets its pinned tool list and revokes the
    /// standing grants given to its tools.
    pub fn remove_mcp_server(&self, name: &str, actor: &str) -> Result<(), CoreError> {
        let dir = self.dir();
        let mut file = ServersFile::load(&dir.mcp_servers_file()).map_err(file_error)?;
        if !file.remove(name).map_err(file_error)? {
            return Err(no_server(name));
        }
        file.save().map_err(file_error)?;
        pryx_mcp::forget_server(dir, name).map_err(file_error)?;
        self.store()
            .revoke_grants_with_prefix(&format!("{name}."), actor)?;
        self.audit_change(
            actor,
            "mcp.server_removed",
            "mcp_server",
            name,
            serde_json::Value::Null,
            true,
        );
        Ok(())
    }

    /// Switches a server on or off in `servers.json` (the file `pryx mcp` edits).
    pub fn set_mcp_server_enabled(
        &self,
        name: &str,
        on: bool,
        actor: &str,
    ) -> Result<(), CoreError> {
        self.edit_mcp_entry(name, actor, serde_json::json!({ "enabled": on }), |e| {
            e.enabled = on;
        })
    }

    /// Offers one tool of a server to the agent, or stops offering it (`disabled_tools`).
    pub fn set_mcp_tool_enabled(
        &self,
        name: &str,
        tool: &str,
        on: bool,
        actor: &str,
    ) -> Result<(), CoreError> {
        let details = serde_json::json!({ "tool": tool, "enabled": on });
        self.edit_mcp_entry(name, actor, details, |e| {
            e.disabled_tools.retain(|t| t != tool);
            if !on {
                e.disabled_tools.push(tool.to_string());
            }
        })
    }

    fn edit_mcp_entry(
        &self,
        name: &str,
        actor: &str,
        details: serde_json::Value,
        change: impl FnOnce(&mut ServerConfig),
    ) -> Result<(), CoreError> {
        let mut file = ServersFile::load(&self.dir().mcp_servers_file()).map_err(file_error)?;
        let mut entry = file
            .servers()
            .get(name)
            .cloned()
            .ok_or_else(|| no_server(name))?;
        change(&mut entry);
        file.upsert(name, &entry)
            .and_then(|_| file.save())
            .map_err(file_error)?;
        self.audit_change(
            actor,
            "mcp.server_changed",
            "mcp_server",
            name,
            details,
            true,
        );
        Ok(())
    }
}
