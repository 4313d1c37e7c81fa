//! Tools and prompt text that come from outside the built-ins: SKILL.md skills and MCP servers.

use pryx_agent::PromptSource;
use pryx_config::{Config, DataDir};
use pryx_mcp::{McpManager, McpOptions};
use pryx_skills::SkillIndex;
use pryx_tools::Tool;
use std::path::Path;
use std::sync::Arc;

/// What extensions add to an agent. Call [`Extensions::shutdown`] when the run ends.
#[derive(Default)]
pub struct Extensions {
    pub tools: Vec<Arc<dyn Tool>>,
    pub prompt_sources: Vec<PromptSource>,
    mcp: Option<McpManager>,
}

impl Extensions {
    /// Ends MCP server sessions (stdio servers are stopped with their process group).
    pub async fn shutdown(self) {
        if let Some(mcp) = self.mcp {
            mcp.shutdown().await;
        }
    }
}

/// Skills of the workspace, the data dir, the bundled set and `skills.extraDirs`: their compact list
/// joins the system prompt (rescanned cheaply every turn) and `skills.load`/`skills.read` join the
/// tools. Add MCP servers with [`Extensions::add_mcp`].
pub fn extensions(dir: &DataDir, config: &Config, workspace: &Path) -> Extensions {
    let mut ext = Extensions::default();
    if config.skills.enabled {
        let index = Arc::new(SkillIndex::open(workspace, dir.clone()));
        ext.tools.extend(pryx_skills::tools(index.clone()));
        ext.prompt_sources.push(Arc::new(move || {
            index.refresh();
            pryx_skills::prompt_block(&index.catalog().skills)
        }));
    }
    ext
}

impl Extensions {
    /// Adds the tools of every enabled server in `mcp/servers.json` as `<server>.<tool>`. A server
    /// that fails to start is reported on stderr and left out; the run goes on.
    pub async fn add_mcp(&mut self, dir: &DataDir, config: &Config, workspace: &Path) {
        if !config.mcp.enabled || !dir.mcp_servers_file().exists() {
            return;
        }
        let options = McpOptions::new(dir.clone()).with_roots(vec![workspace.to_path_buf()]);
        match McpManager::load(options) {
            Ok(mcp) => {
                for problem in mcp.problems() {
                    eprintln!("warning: mcp/servers.json: {problem}");
                }
                self.tools.extend(mcp.tools().await);
                for (server, error) in mcp.last_failures() {
                    eprintln!("warning: MCP server {server} is unavailable: {error}");
                }
                self.mcp = Some(mcp);
            }
            Err(e) => eprintln!("warning: MCP servers not loaded: {e}"),
        }
    }
}
