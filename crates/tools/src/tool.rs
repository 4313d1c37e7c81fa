//! The `Tool` trait and the values passed in and out of a call.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::ToolError;

/// A capability the model can call. Object-safe so registries hold `Arc<dyn Tool>`; MCP tools
/// implement it too.
#[async_trait]
pub trait Tool: Send + Sync {
    /// Canonical dotted name, e.g. `fs.read`.
    fn name(&self) -> &str;
    /// One or two sentences for the model; the whole default set must stay small.
    fn description(&self) -> &str;
    /// JSON Schema of the arguments object.
    fn schema(&self) -> Value;
    fn kind(&self) -> ToolKind;
    /// Runs the call. Must honour `ctx.cancel` for anything that can take long.
    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError>;
    /// What the call would change, without changing it (a unified diff for file writes), for the
    /// approval prompt. `None` when the tool has nothing to preview.
    async fn preview(&self, _args: Value, _ctx: ToolContext) -> Result<Option<String>, ToolError> {
        Ok(None)
    }
    /// The tool declares it only reads (MCP `readOnlyHint`); policies may then allow it like a read.
    fn read_only_hint(&self) -> bool {
        false
    }
    /// The tool declares it may destroy data (MCP `destructiveHint`); policies then ask.
    fn destructive_hint(&self) -> bool {
        false
    }
    /// For a tool whose path arguments are not workspace paths (`skills.read` names a file in a
    /// skill's folder): the real files the call would read, resolved by the tool with symlinks
    /// followed, so the policy judges each as `fs.read` of that path. `None` when the tool reads
    /// no files of its own; `Err` (what to do) when the call cannot be resolved, which the
    /// policy denies.
    fn resolved_reads(&self, _args: &Value) -> Option<Result<Vec<PathBuf>, String>> {
        None
    }
    /// The identity of what the user approves when it is more than the name: for an MCP tool,
    /// its server's identity and a hash of its definition. Approvals and grants bind to it, so
    /// a changed definition or another server under the same name asks again. `None` for tools
    /// whose name says it all (the built-ins).
    fn pin(&self) -> Option<String> {
        None
    }
}

/// The result handed back to the model (`content`) plus structured data for traces and UIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolOutput {
    pub content: String,
    /// The call ran but reports failure (e.g. a command exited non-zero).
    #[serde(default)]
    pub is_error: bool,
    #[serde(default)]
    pub metadata: Value,
}

impl ToolOutput {
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            is_error: false,
            metadata: Value::Null,
        }
    }

    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }
}

/// What the model sees of a tool in the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments.
    pub parameters: Value,
    pub kind: ToolKind,
}

/// Size and time limits applied by the built-ins.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest tool result in bytes; longer output is trimmed head + tail.
    pub output_cap_bytes: usize,
    /// Timeout for `shell.exec` when the call gives none.
    pub default_timeout: Duration,
    /// Upper bound on a timeout the model may ask for.
    pub max_timeout: Duration,
    /// Largest file `fs.read`/`fs.edit` will load.
    pub max_file_bytes: u64,
    /// Most matches `fs.search` reports; most entries `fs.list` reports.
    pub max_results: usize,
    /// Largest HTTP response body read.
    pub max_response_bytes: usize,
    /// Timeout of one HTTP request.
    pub http_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            output_cap_bytes: 30_000,
            default_timeout: Duration::from_secs(120),
            max_timeout: Duration::from_secs(600),
            max_file_bytes: 10 * 1024 * 1024,
            max_results: 500,
            max_response_bytes: 5 * 1024 * 1024,
            http_timeout: Duration::from_secs(30),
        }
    }
}

/// Which hosts `http.request` may reach.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpPolicy {
    /// Host names allowed; `example.com` matches exactly, `*.example.com` any subdomain.
    /// Empty means no host restriction (the policy engine already gated the call).
    pub allowed_domains: Vec<String>,
    /// Allow loopback, private, link-local and metadata addresses. Off by default.
    pub allow_private: bool,
}

/// How `shell.exec` starts the sandbox helper: `program args… <spec as JSON>`.
/// Usually the running `pryx` binary with a hidden subcommand that calls
/// [`crate::sandbox_exec_main`].
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxLauncher {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Kernel features to treat as missing (from `PRYX_SANDBOX_ASSUME`).
    pub assume: crate::Assume,
}

impl SandboxLauncher {
    /// The current executable with one hidden argument (e.g. `__sandbox-exec`).
    pub fn current_exe(hidden_arg: &str) -> std::io::Result<Self> {
        // On Linux the running file itself, even once `pryx update` renamed a new binary over
        // its path: a core left on the old version keeps a helper of its own version.
        let running = std::path::Path::new("/proc/self/exe");
        let program = if cfg!(target_os = "linux") && running.exists() {
            running.to_path_buf()
        } else {
            std::env::current_exe()?
        };
        Ok(Self {
            program,
            args: vec![hidden_arg.to_owned()],
            assume: crate::Assume::from_env(),
        })
    }
}

/// Environment variables passed through to commands by default.
pub const DEFAULT_ALLOWED_ENV: &[&str] = &[
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "USER", "LOGNAME", "SHELL", "TMPDIR",
    "TZ",
];

/// Everything a call needs besides its arguments. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// Canonical workspace root; every path argument is confined to it.
    pub workspace: PathBuf,
    pub cancel: CancellationToken,
    pub limits: Limits,
    /// Names of environment variables `shell.exec` passes through; all others are cleared.
    pub allowed_env: Vec<String>,
    pub http: HttpPolicy,
    /// Network `shell.exec` commands may reach in this call; none unless the policy granted it.
    pub network: crate::Network,
    /// When set, `shell.exec` runs commands through the sandbox helper.
    pub sandbox: Option<SandboxLauncher>,
    /// Canonical directories no tool may read, change or list (Pryx's data directory, which
    /// holds the secret store and the policies), even when they lie inside the workspace.
    pub protected: Vec<PathBuf>,
    /// Code-bearing files in the workspace (`.git/config`, hooks, `Makefile`…) stay writable
    /// for `shell.exec`: a person approved the call, or the policy named the files it writes.
    pub code_files_writable: bool,
    /// The session the call runs in, which owns the background processes it starts.
    pub session_id: Option<String>,
    /// Where background processes live (`shell.exec` with `background`, `process.*`).
    pub processes: Option<crate::process::ProcessTable>,
}

impl ToolContext {
    /// A context with default limits for `workspace`, which must exist (it is canonicalised).
    pub fn new(workspace: impl AsRef<Path>) -> Result<Self, ToolError> {
        let ws = workspace.as_ref();
        let canonical =
            std::fs::canonicalize(ws).map_err(|e| ToolError::io(&ws.display().to_string(), &e))?;
        Ok(Self {
            workspace: canonical,
            cancel: CancellationToken::new(),
            limits: Limits::default(),
            allowed_env: DEFAULT_ALLOWED_ENV
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            http: HttpPolicy::default(),
            network: crate::Network::None,
            sandbox: None,
            protected: Vec::new(),
            code_files_writable: false,
            session_id: None,
            processes: None,
        })
    }

    /// Adds directories no tool may touch. Each is canonicalised when it exists, so the
    /// comparison with resolved paths holds; one that does not exist yet is kept as given.
    #[must_use]
    pub fn with_protected(mut self, dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        for dir in dirs {
            let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
            if !self.protected.contains(&dir) {
                self.protected.push(dir);
            }
        }
        self
    }
}
