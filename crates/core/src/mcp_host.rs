//! The core's MCP servers: one manager for the servers file as it is now, replaced (and the old
//! servers stopped) when the file changes, so `pryx mcp add` reaches the next turn of a running
//! core.

use crate::live::{FileStamp, Live, Snapshot};
use pryx_mcp::{McpManager, McpOptions};
use pryx_protocol::api::McpSignIn;
use pryx_tools::Tool;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

struct Loaded {
    stamp: Option<FileStamp>,
    enabled: bool,
    manager: Option<Arc<McpManager>>,
}

/// Holder of the current MCP manager.
#[derive(Default)]
pub struct McpHost {
    loaded: tokio::sync::Mutex<Option<Loaded>>,
    /// Counts tool-list changes announced by servers; agents built before one are rebuilt.
    changes: Arc<AtomicU64>,
    /// OAuth sign-ins started while this core runs, by server.
    pub(crate) sign_ins: Arc<std::sync::Mutex<BTreeMap<String, McpSignIn>>>,
}

/// What [`McpHost::tools`] found.
pub struct McpTools {
    pub tools: Vec<Arc<dyn Tool>>,
    /// Some server could not list its tools (they are missing until a later try).
    pub incomplete: bool,
}

impl McpHost {
    /// The tools of every enabled server under the current settings. A servers file that
    /// changed since the last call replaces the manager; the old one's servers are stopped.
    pub async fn tools(&self, live: &Live, snap: &Snapshot, workspace: &Path) -> McpTools {
        let enabled = snap.config.mcp.enabled;
        let manager = {
            let mut loaded = self.loaded.lock().await;
            let fresh = loaded
                .as_ref()
                .is_some_and(|l| l.stamp == snap.mcp_stamp && l.enabled == enabled);
            if !fresh {
                let old = loaded.take().and_then(|l| l.manager);
                let manager = load(live, enabled, workspace).map(Arc::new);
                if let Some(m) = &manager {
                    let changes = self.changes.clone();
                    m.on_tools_changed(move |_| {
                        changes.fetch_add(1, Ordering::SeqCst);
                    });
                }
                *loaded = Some(Loaded {
                    stamp: snap.mcp_stamp.clone(),
                    enabled,
                    manager,
                });
                if let Some(old) = old {
                    tokio::spawn(async move { old.shutdown().await });
                }
            }
            loaded.as_ref().and_then(|l| l.manager.clone())
        };
        match manager {
            Some(m) => {
                let tools = m
                    .mcp_tools()
                    .await
                    .into_iter()
                    .map(|t| Arc::new(crate::mcp_preview::Previewed(t)) as Arc<dyn Tool>)
                    .collect();
                McpTools {
                    tools,
                    incomplete: !m.last_failures().is_empty(),
                }
            }
            None => McpTools {
                tools: Vec::new(),
                incomplete: false,
            },
        }
    }

    /// How many tool-list changes servers announced so far; an agent built under an older
    /// count offers stale tools.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// The current manager (none before the first agent is built, or with MCP off).
    pub async fn manager(&self) -> Option<Arc<pryx_mcp::McpManager>> {
        self.loaded
            .lock()
            .await
            .as_ref()
            .and_then(|l| l.manager.clone())
    }

    /// Stops every server.
    pub async fn shutdown(&self) {
        let manager = self.loaded.lock().await.take().and_then(|l| l.manager);
        if let Some(m) = manager {
            m.shutdown().await;
        }
    }
}

fn load(live: &Live, enabled: bool, workspace: &Path) -> Option<McpManager> {
    let dir = live.dir();
    if !enabled || !dir.mcp_servers_file().exists() {
        return None;
    }
    let options = McpOptions::new(dir.clone()).with_roots(vec![workspace.to_path_buf()]);
    match McpManager::load(options) {
        Ok(m) => {
            for problem in m.problems() {
                tracing::warn!("mcp/servers.json: {problem}");
            }
            Some(m)
        }
        Err(e) => {
            tracing::warn!(error = %e, "MCP servers not loaded");
            None
        }
    }
}

impl crate::Core {
    /// The MCP manager the main agent's turns use (loaded and connected as they would be), for
    /// browsing a server's tools, resources and prompts.
    pub async fn mcp_manager(&self) -> Option<Arc<pryx_mcp::McpManager>> {
        // Building the agent loads (and connects) the servers of the current settings.
        let _ = self.profile_agent(None).await;
        self.inner.mcp.manager().await
    }

    /// The MCP servers as the main agent's turns see them: connected, failed or idle, their tool
    /// counts and last errors, and the tools they offer (`server.tool` names).
    pub async fn mcp_status(
        &self,
    ) -> (Vec<pryx_mcp::ServerStatus>, Vec<pryx_tools::ToolDefinition>) {
        let tools = match self.profile_agent(None).await {
            Ok(agent) => agent.tools().definitions(),
            Err(_) => Vec::new(),
        };
        let status = self
            .inner
            .mcp
            .manager()
            .await
            .map(|m| m.status())
            .unwrap_or_default();
        (status, tools)
    }
}
