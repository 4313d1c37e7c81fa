//! [`McpManager`]: all configured servers, connected lazily, their tools as `Arc<dyn Tool>`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use pryx_config::DataDir;
use pryx_tools::Tool;

use crate::McpError;
use crate::callbacks::{ClientCallbacks, DefaultCallbacks};
use crate::config::{ConfigProblem, ServersFile};
use crate::connection::{ServerConnection, ServerStatus, Shared};
use crate::pins::{PinStore, ToolsChanged};
use crate::tool::{McpTool, canonical_name};

/// `mcp/pins.json`: what each server was and each tool said when it last ran.
fn pins_file(dir: &DataDir) -> PathBuf {
    dir.mcp_servers_file().with_file_name("pins.json")
}

/// Forgets what a removed server's tools looked like (for `pryx mcp remove`), so a program
/// added later under the same name starts with nothing of it.
pub fn forget_server(dir: &DataDir, name: &str) -> Result<(), McpError> {
    Ok(PinStore::new(pins_file(dir)).forget(name)?)
}

/// How the manager is set up by its host.
#[derive(Clone)]
pub struct McpOptions {
    pub data_dir: DataDir,
    /// Roots offered to servers (the workspace).
    pub roots: Vec<PathBuf>,
    /// Variables passed from our environment to stdio servers; all others are cleared.
    pub allowed_env: Vec<String>,
    pub callbacks: Arc<dyn ClientCallbacks>,
}

impl McpOptions {
    /// Defaults: no roots, the tool crate's environment allow-list, declining callbacks.
    pub fn new(data_dir: DataDir) -> Self {
        Self {
            data_dir,
            roots: Vec::new(),
            allowed_env: pryx_tools::DEFAULT_ALLOWED_ENV
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            callbacks: Arc::new(DefaultCallbacks),
        }
    }

    pub fn with_roots(mut self, roots: Vec<PathBuf>) -> Self {
        self.roots = roots;
        self
    }

    pub fn with_callbacks(mut self, callbacks: Arc<dyn ClientCallbacks>) -> Self {
        self.callbacks = callbacks;
        self
    }
}

/// The configured servers. Nothing starts until a tool list or a call needs it.
pub struct McpManager {
    shared: Arc<Shared>,
    servers: BTreeMap<String, Arc<ServerConnection>>,
    problems: Vec<ConfigProblem>,
    failures: Mutex<Vec<(String, String)>>,
}

impl McpManager {
    /// Reads `mcp/servers.json`. Invalid entries are skipped and kept in [`Self::problems`];
    /// a file that is not JSON at all is an error.
    pub fn load(options: McpOptions) -> Result<Self, McpError> {
        let file = ServersFile::load(&options.data_dir.mcp_servers_file())?;
        Ok(Self::from_file(&file, options))
    }

    /// Builds the manager from an already parsed file.
    pub fn from_file(file: &ServersFile, options: McpOptions) -> Self {
        let pins = PinStore::new(pins_file(&options.data_dir));
        let shared = Arc::new(Shared {
            data_dir: options.data_dir,
            roots: options.roots,
            allowed_env: options.allowed_env,
            pins,
            callbacks: options.callbacks,
            on_tools_changed: Mutex::new(None),
        });
        let servers = file
            .servers()
            .iter()
            .map(|(name, cfg)| {
                (
                    name.clone(),
                    Arc::new(ServerConnection::new(name, cfg.clone(), shared.clone())),
                )
            })
            .collect();
        for p in file.problems() {
            tracing::warn!("{}: {p}; entry skipped", file.path().display());
        }
        Self {
            shared,
            servers,
            problems: file.problems().to_vec(),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// Entries of `servers.json` that were skipped.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }

    /// One server by name.
    pub fn server(&self, name: &str) -> Option<Arc<ServerConnection>> {
        self.servers.get(name).cloned()
    }

    /// Names of the valid entries.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.servers.keys().map(String::as_str)
    }

    /// Called when a server's tool list changed: after it announced
    /// `notifications/tools/list_changed` (the list is fetched again at once) or when a new
    /// listing differs from the last. The next [`Self::tools`] returns the new list; tools
    /// made earlier pin the new definitions, so their next call asks again. Applies to
    /// sessions started afterwards.
    pub fn on_tools_changed(&self, hook: impl Fn(&ToolsChanged) + Send + Sync + 'static) {
        *self
            .shared
            .on_tools_changed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
    }

    /// Tools of one server (connecting to it if needed).
    pub async fn server_tools(&self, name: &str) -> Result<Vec<Arc<McpTool>>, McpError> {
        let conn = self
            .server(name)
            .ok_or_else(|| McpError::UnknownServer(name.to_owned()))?;
        let defs = conn.list_tools().await?;
        let (tools, refused) = distinct_tools(&conn, &defs);
        conn.set_notice(match refused.as_slice() {
            [] => None,
            errs => Some(
                errs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        });
        for e in &refused {
            tracing::warn!("{e}");
        }
        Ok(tools)
    }

    /// Tools a server offers whose names collide once made safe (`a.b` and `a_b`), as errors.
    /// The first of each name is kept; the others are refused.
    pub async fn refused_tools(&self, name: &str) -> Result<Vec<McpError>, McpError> {
        let conn = self
            .server(name)
            .ok_or_else(|| McpError::UnknownServer(name.to_owned()))?;
        let defs = conn.list_tools().await?;
        Ok(distinct_tools(&conn, &defs).1)
    }

    /// Tools of every enabled server, fetched concurrently. A server that fails is left out
    /// (its error is in [`Self::status`] and [`Self::last_failures`]); the others still count.
    pub async fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.mcp_tools()
            .await
            .into_iter()
            .map(|t| t as Arc<dyn Tool>)
            .collect()
    }

    /// Like [`Self::tools`], keeping the concrete type so callers can read
    /// [`McpTool::hints`] (read-only / destructive annotations) for the policy decision.
    pub async fn mcp_tools(&self) -> Vec<Arc<McpTool>> {
        let names: Vec<String> = self
            .servers
            .iter()
            .filter(|(_, c)| c.config().enabled)
            .map(|(n, _)| n.clone())
            .collect();
        let results =
            futures_util::future::join_all(names.iter().map(|n| self.server_tools(n))).await;
        let mut out = Vec::new();
        let mut failures = Vec::new();
        for (name, res) in names.into_iter().zip(results) {
            match res {
                Ok(tools) => {
                    let off = self
                        .servers
                        .get(&name)
                        .map(|c| c.config().disabled_tools.clone())
                        .unwrap_or_default();
                    let prefix = format!("{name}.");
                    out.extend(tools.into_iter().filter(|t| {
                        let short = t.name().strip_prefix(&prefix).unwrap_or(t.name());
                        !off.iter().any(|d| d == short)
                    }));
                }
                Err(e) => {
                    tracing::warn!("MCP server `{name}` left out: {e}");
                    failures.push((name, e.to_string()));
                }
            }
        }
        *self.failures.lock().unwrap_or_else(PoisonError::into_inner) = failures;
        out
    }

    /// Servers that failed during the last [`Self::tools`], with the error.
    pub fn last_failures(&self) -> Vec<(String, String)> {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Servers removed from the manager's view because a name collides are in
    /// [`Self::problems`]; this is the status of every valid one, without connecting.
    pub fn status(&self) -> Vec<ServerStatus> {
        self.servers.values().map(|c| c.status()).collect()
    }

    /// Ends every session (HTTP `DELETE`, stdio process groups killed).
    pub async fn shutdown(&self) {
        futures_util::future::join_all(self.servers.values().map(|c| c.shutdown())).await;
    }
}

/// One tool per canonical name: the first of colliding names is kept, the others are refused
/// with an error that names both (never silently overwritten).
fn distinct_tools(
    conn: &Arc<ServerConnection>,
    defs: &[rmcp::model::Tool],
) -> (Vec<Arc<McpTool>>, Vec<McpError>) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut tools = Vec::new();
    let mut refused = Vec::new();
    for d in defs {
        let canonical = canonical_name(conn.name(), &d.name);
        if let Some(first) = seen.get(&canonical) {
            refused.push(McpError::ToolCollision {
                server: conn.name().to_owned(),
                tool: d.name.to_string(),
                first: first.clone(),
                canonical,
            });
            continue;
        }
        seen.insert(canonical, d.name.to_string());
        tools.push(Arc::new(McpTool::new(conn.clone(), d)));
    }
    (tools, refused)
}
