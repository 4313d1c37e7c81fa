//! What the agent can use besides its built-in tools, as `/skills` and `/mcp-servers` of the API
//! and the dashboard's Skills and MCP pages show it: SKILL.md skills with why each can or cannot
//! be used, and MCP servers with their live status, tools, resources and prompts.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Where a skill was found; an earlier one shadows a later one of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SkillOrigin {
    /// `<workspace>/.pryx/skills`.
    Workspace,
    /// `skills/` of the data directory (where `pryx skills add` puts them).
    Managed,
    /// Compiled into the binary.
    Bundled,
    /// A folder of `skills.extraDirs`.
    Extra,
}

impl SkillOrigin {
    /// As written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SkillOrigin::Workspace => "workspace",
            SkillOrigin::Managed => "managed",
            SkillOrigin::Bundled => "bundled",
            SkillOrigin::Extra => "extra",
        }
    }
}

/// A skill as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillSummary {
    pub name: String,
    pub description: String,
    pub origin: SkillOrigin,
    /// Its switch (`skills.entries.<key>.enabled`).
    pub enabled: bool,
    /// Enabled and nothing it requires is missing: the agent is offered it.
    pub usable: bool,
    /// What keeps it from being used besides its switch (a missing binary, variable, OS…).
    pub blocked: Vec<String>,
    /// Its folder; absent for a bundled skill.
    #[serde(default)]
    pub path: Option<String>,
}

/// `GET /skills`: the skills of the main agent's workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillList {
    /// The master switch (`skills.enabled`).
    pub skills_enabled: bool,
    /// Where added skills go.
    pub managed_dir: String,
    pub skills: Vec<SkillSummary>,
}

/// The exact steps that install a skill's dependencies, as shown before they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillInstallPlan {
    /// The installer's id (pass it back to run these steps).
    pub installer: String,
    /// `brew`, `node`, `go`, `uv` or `download`.
    pub kind: String,
    pub steps: Vec<String>,
    /// The only folder they write to.
    pub writes_to: String,
}

/// `GET /skills/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillDetail {
    pub skill: SkillSummary,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub homepage: Option<String>,
    pub allowed_tools: Vec<String>,
    /// What is odd about its SKILL.md without making it unusable.
    pub warnings: Vec<String>,
    /// SKILL.md's instructions (markdown, untrusted).
    pub body: String,
    /// How its dependencies would be installed; absent when `install_unavailable` says why not.
    #[serde(default)]
    pub install: Option<SkillInstallPlan>,
    #[serde(default)]
    pub install_unavailable: Option<String>,
}

/// `PUT /skills/{name}/enabled`, `PUT /mcp-servers/{name}/enabled` and
/// `PUT /mcp-servers/{name}/tools/{tool}/enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub enabled: bool,
}

/// `POST /skills/{name}/install`: run the steps `GET /skills/{name}` showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SkillInstallRequest {
    /// The installer's id from the plan.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub installer: String,
    /// Must be true: the caller has seen the exact steps.
    pub confirm: bool,
}

/// How an installation went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillInstallOutcome {
    /// What the steps printed, and where the programs are.
    pub output: String,
}

/// `POST /skills`: add skills from a folder, an archive or a git repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SkillAddRequest {
    /// A folder or archive (`.zip`, `.tar.gz`, `.tgz`, `.tar.bz2`) on this machine, an
    /// http(s) URL of an archive, or a git repository (`https://….git`, `git@host:path`,
    /// `ssh://`, `git://`, `git+https://…`, `file://`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2048))]
    pub source: String,
    /// Which skills of a source that holds several (default: all of them).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub skills: Vec<String>,
    /// A branch or tag of a git source.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub git_ref: Option<String>,
    /// Replace skills of the same name added before, instead of refusing.
    #[serde(default)]
    pub replace: bool,
}

/// One skill `POST /skills` placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillAdded {
    pub name: String,
    /// Its folder under the managed skills folder.
    pub path: String,
    /// It replaced a skill of the same name.
    pub replaced: bool,
}

/// What `POST /skills` added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillsAdded {
    pub added: Vec<SkillAdded>,
}

/// How an MCP server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum McpTransport {
    Stdio,
    /// Streamable HTTP (with a fallback to HTTP+SSE).
    Http,
    /// The older HTTP+SSE transport only.
    Sse,
}

impl McpTransport {
    /// As written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            McpTransport::Stdio => "stdio",
            McpTransport::Http => "http",
            McpTransport::Sse => "sse",
        }
    }
}

/// An MCP server's state as the main agent's turns see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum McpServerState {
    Connected,
    /// Not started yet (servers start with the first turn that needs them).
    Idle,
    Failed,
    Disabled,
}

impl McpServerState {
    /// As written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            McpServerState::Connected => "connected",
            McpServerState::Idle => "idle",
            McpServerState::Failed => "failed",
            McpServerState::Disabled => "disabled",
        }
    }
}

/// One tool an MCP server offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct McpToolView {
    /// The server's own name for it.
    pub name: String,
    /// As the model calls it: `server.tool`.
    pub full_name: String,
    pub description: String,
    /// Offered to the agent (not in the server's `disabled_tools`).
    pub enabled: bool,
    /// The server's annotations, honoured only for a trusted server.
    pub read_only: bool,
    pub destructive: bool,
}

/// A server of `servers.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct McpServerSummary {
    pub name: String,
    pub transport: McpTransport,
    /// The command it runs, or its URL.
    pub target: String,
    pub enabled: bool,
    /// Its tool annotations are believed.
    pub trusted: bool,
    pub state: McpServerState,
    #[serde(default)]
    pub tool_count: Option<u64>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// The tools the agent is offered from it.
    pub offered_tools: Vec<McpOfferedTool>,
    /// The last OAuth sign-in started from the dashboard or the API, while this core runs.
    #[serde(default)]
    pub sign_in: Option<McpSignIn>,
}

/// Where an OAuth sign-in started with `POST /mcp-servers/{name}/sign-in` stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum McpSignIn {
    /// The person is to open this URL and approve; a listener on this machine waits for the
    /// authorization server's redirect.
    Waiting {
        authorization_url: String,
    },
    /// The tokens are in the secret store under this reference; the servers restart with it.
    Done {
        token_ref: String,
    },
    Failed {
        error: String,
    },
}

/// A tool the agent is offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct McpOfferedTool {
    /// As the model calls it: `server.tool`.
    pub name: String,
    pub description: String,
}

/// `GET /mcp-servers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct McpServerList {
    /// The master switch (`mcp.enabled`).
    pub mcp_enabled: bool,
    pub servers: Vec<McpServerSummary>,
    /// Why `servers.json`, or some of its entries, could not be used.
    pub problems: Vec<String>,
}

/// A resource an MCP server offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct McpResourceView {
    pub uri: String,
    pub name: String,
    pub description: String,
    pub mime_type: String,
}

/// A prompt an MCP server offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct McpPromptView {
    pub name: String,
    pub description: String,
    /// Argument names, `(required)` after the required ones.
    pub arguments: Vec<String>,
}

/// `GET /mcp-servers/{name}`: what a connected server offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct McpServerDetail {
    pub name: String,
    pub trusted: bool,
    pub tools: Vec<McpToolView>,
    pub resources: Vec<McpResourceView>,
    pub prompts: Vec<McpPromptView>,
    /// What could not be listed (a server without resources says so here).
    pub problems: Vec<String>,
}

/// `POST /mcp-servers`: a server to test, then save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct McpServerAdd {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_-]+$")
    )]
    pub name: String,
    /// A command line (stdio) or an http(s) URL.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4096))]
    pub target: String,
    /// Believe its tool annotations (read-only, destructive).
    #[serde(default)]
    pub trusted: bool,
}

/// What `POST /mcp-servers` saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct McpServerAdded {
    pub name: String,
    /// It listed this many tools when tested.
    #[serde(default)]
    pub tool_count: Option<u64>,
    /// It asked for an OAuth sign-in before listing its tools (`pryx mcp auth`, or the
    /// dashboard's Sign in).
    pub needs_sign_in: bool,
}
