//! Typed view of `config.json` (PRD §11.2 plus providers, models and agent settings).
//! Validation happens on the raw JSON first (see `schema`), so these derive plain serde.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole `config.json`. Every section has defaults, so a missing file is a valid config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Schema version of the file.
    pub version: String,
    /// Export of traces/metrics; off until the user opts in.
    pub telemetry: Telemetry,
    /// Defaults for new sessions.
    pub defaults: Defaults,
    /// Web UI settings.
    pub ui: Ui,
    /// Update checks.
    pub updates: Updates,
    /// Skills discovery and per-skill settings.
    pub skills: Skills,
    /// MCP servers.
    pub mcp: Mcp,
    /// LLM providers keyed by provider id.
    pub providers: BTreeMap<String, Provider>,
    /// Model catalog behaviour and per-model overrides.
    pub models: Models,
    /// Agent loop limits.
    pub agent: Agent,
    /// Named agent profiles keyed by id. `main` exists without an entry (the defaults); an entry
    /// named `main` overrides them.
    pub agents: BTreeMap<String, AgentProfile>,
    /// Chat channels and inbound webhooks keyed by channel id.
    pub channels: BTreeMap<String, super::Channel>,
    /// Bumped by every write through [`Config::edit`]; a write based on an older revision is
    /// refused instead of overwriting a change made elsewhere.
    pub revision: u64,
}

/// Current (and only accepted) config schema version.
pub const CONFIG_VERSION: &str = "1.0";

impl Default for Config {
    fn default() -> Self {
        Self {
            version: CONFIG_VERSION.to_string(),
            telemetry: Telemetry::default(),
            defaults: Defaults::default(),
            ui: Ui::default(),
            updates: Updates::default(),
            skills: Skills::default(),
            mcp: Mcp::default(),
            providers: BTreeMap::new(),
            models: Models::default(),
            agent: Agent::default(),
            agents: BTreeMap::new(),
            channels: BTreeMap::new(),
            revision: 0,
        }
    }
}

/// OTLP export settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Telemetry {
    /// Nothing leaves the machine unless this is true.
    pub enabled: bool,
    /// OTLP/HTTP endpoint chosen by the user.
    pub endpoint: Option<String>,
    /// Fraction of traces exported, 0.0–1.0.
    pub sampling_ratio: f64,
    /// Kept for older files: export always redacts personal data, whatever this says.
    pub redact_pii: bool,
    /// How much is exported (see [`TelemetryTier`]).
    pub tier: TelemetryTier,
    /// Extra HTTP headers for the collector (e.g. its auth header), by name; each value is a
    /// secret reference (`secret:NAME` or `env:VAR`), never the value itself.
    pub headers: BTreeMap<String, String>,
}

pub use pryx_protocol::api::TelemetryTier;

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            enabled: false,
            endpoint: None,
            sampling_ratio: 1.0,
            redact_pii: true,
            tier: TelemetryTier::Standard,
            headers: BTreeMap::new(),
        }
    }
}

/// Defaults for new sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Defaults {
    /// `provider/model`.
    pub model: Option<String>,
    /// Default workspace directory (`~` allowed).
    pub workspace: Option<String>,
    /// Policy preset or the name of a file under `policies/`.
    pub policy: String,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            model: None,
            workspace: None,
            policy: "workspace-only".to_string(),
        }
    }
}

/// Web UI settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ui {
    /// `system`, `light` or `dark`.
    pub theme: String,
    /// Fixed port of the core; `None` picks a free one.
    pub port: Option<u16>,
}

impl Default for Ui {
    fn default() -> Self {
        Self {
            theme: "system".to_string(),
            port: None,
        }
    }
}

/// Update checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Updates {
    /// `stable`, `beta` or `alpha`.
    pub channel: String,
    /// Checking contacts the network, so it is opt-in like telemetry.
    pub auto_check: bool,
    /// Where releases are fetched from (signed manifests and archives); a mirror or a
    /// self-hosted release directory works the same.
    pub url: String,
}

/// The release server `updates.url` names by default.
pub const DEFAULT_UPDATES_URL: &str = "https://get.pryx.dev";

impl Default for Updates {
    fn default() -> Self {
        Self {
            channel: "stable".to_string(),
            auto_check: false,
            url: DEFAULT_UPDATES_URL.to_string(),
        }
    }
}

/// Skills settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Skills {
    /// Master switch.
    pub enabled: bool,
    /// Extra directories scanned for skills.
    #[serde(rename = "extraDirs")]
    pub extra_dirs: Vec<String>,
    /// Per-skill settings keyed by skill name.
    pub entries: BTreeMap<String, SkillEntry>,
}

impl Default for Skills {
    fn default() -> Self {
        Self {
            enabled: true,
            extra_dirs: Vec::new(),
            entries: BTreeMap::new(),
        }
    }
}

/// Settings of one skill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SkillEntry {
    /// Whether the skill may be used.
    pub enabled: bool,
    /// Extra environment for the skill's scripts.
    pub env: BTreeMap<String, String>,
    /// Secret reference (`secret:NAME` or `env:VAR`).
    #[serde(rename = "apiKey", skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Free-form skill configuration.
    pub config: serde_json::Map<String, serde_json::Value>,
}

impl Default for SkillEntry {
    fn default() -> Self {
        Self {
            enabled: true,
            env: BTreeMap::new(),
            api_key: None,
            config: serde_json::Map::new(),
        }
    }
}

/// MCP settings; server definitions are free-form objects owned by the MCP manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mcp {
    /// Master switch.
    pub enabled: bool,
    /// Server definitions keyed by server name.
    pub servers: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl Default for Mcp {
    fn default() -> Self {
        Self {
            enabled: true,
            servers: BTreeMap::new(),
        }
    }
}

/// Wire format spoken by a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderKind {
    /// OpenAI chat-completions compatible (OpenAI, OpenRouter, Ollama, vLLM, ...).
    #[serde(rename = "openai-compatible")]
    OpenAiCompatible,
    /// Anthropic Messages API.
    #[serde(rename = "anthropic")]
    Anthropic,
}

/// One LLM provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Wire format.
    pub kind: ProviderKind,
    /// API base URL; `None` means the kind's public default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Secret reference (`secret:NAME` or `env:VAR`), never a literal key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Model used when a request names only the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
    /// Extra request headers (e.g. attribution headers).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// TCP/TLS connect timeout.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_ms: u64,
    /// Time allowed until the first streamed token.
    #[serde(default = "default_first_token_timeout")]
    pub first_token_timeout_ms: u64,
    /// Longest silence allowed in the middle of a streamed answer, once it has started; a
    /// server that stops sending would otherwise hold the turn forever.
    #[serde(default = "default_stream_idle_timeout")]
    pub stream_idle_timeout_ms: u64,
    /// Longest a whole model call may take, retries included, however steadily the server
    /// sends; the last guard against an answer that never ends.
    #[serde(default = "default_call_timeout")]
    pub call_timeout_ms: u64,
    /// models.dev provider id used for prices; defaults to the provider's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
}

fn default_connect_timeout() -> u64 {
    10_000
}
fn default_first_token_timeout() -> u64 {
    60_000
}
fn default_stream_idle_timeout() -> u64 {
    60_000
}
fn default_call_timeout() -> u64 {
    1_800_000
}

impl Provider {
    /// The models.dev provider id for pricing: `catalog_id` or the provider's key.
    pub fn catalog_id<'a>(&'a self, key: &'a str) -> &'a str {
        self.catalog_id.as_deref().unwrap_or(key)
    }
}

/// Model catalog behaviour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Models {
    /// Fetch a fresh catalog from the network (opt-in).
    pub auto_refresh: bool,
    /// Overrides keyed by `provider/model`.
    pub overrides: BTreeMap<String, ModelOverride>,
}

/// Per-model overrides of catalog data. Costs are USD per million tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelOverride {
    /// Context window in tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<u64>,
    /// Maximum output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<u64>,
    /// Input price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_cost: Option<f64>,
    /// Output price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_cost: Option<f64>,
    /// Cache read price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_cost: Option<f64>,
    /// Cache write price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_cost: Option<f64>,
    /// Supports tool calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call: Option<bool>,
    /// Accepts attachments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<bool>,
    /// Has a reasoning mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<bool>,
}

/// Agent loop limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Agent {
    /// Model/tool round trips per turn.
    pub max_steps: u32,
    /// Spend cap per session in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_budget_usd: Option<f64>,
    /// Spend cap per agent profile per UTC day in USD (a profile may set its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_daily_budget_usd: Option<f64>,
    /// Spend cap of all agents together per UTC day in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_budget_usd: Option<f64>,
    /// Spend cap of all agents together per UTC calendar month in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_budget_usd: Option<f64>,
    /// Unanswered approvals are denied after this long.
    pub approval_timeout_secs: u64,
    /// Older messages are summarised before a model call once the prompt fills this share of
    /// the model's window, in percent (the warning comes 10 points earlier, at 80 at most).
    pub compact_at_percent: u8,
    /// Old tool results are trimmed, then elided, in steps of this many turns (the last 3
    /// turns never); 0 never prunes.
    pub prune_after_turns: u32,
    /// Workspaces the user confirmed although they are the root directory, the home directory
    /// or hold the data dir: every tool reaches all of such a directory (except the data dir).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub broad_workspaces: Vec<String>,
}

impl Default for Agent {
    fn default() -> Self {
        Self {
            max_steps: 50,
            session_budget_usd: None,
            agent_daily_budget_usd: None,
            daily_budget_usd: None,
            monthly_budget_usd: None,
            approval_timeout_secs: 300,
            compact_at_percent: 90,
            prune_after_turns: 10,
            broad_workspaces: Vec::new(),
        }
    }
}

/// The profile every session gets when it names none.
pub const MAIN_AGENT: &str = "main";

/// One named agent: where its sessions work, on which model, under which policy and limits.
/// Unset fields fall back to `defaults` and `agent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentProfile {
    /// Workspace directory (`~` allowed); default: `defaults.workspace`, else the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// `provider/model`; default: `defaults.model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Models tried in order when the model fails (`provider/model`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Policy preset or file name; default: `defaults.policy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// A file (relative to the workspace) whose text joins the system prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Only these skills are offered (all when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
    /// Only these tools are offered: names, or `server.*` for all tools of an MCP server (all
    /// when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
    /// Model/tool round trips per turn; default: `agent.max_steps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    /// Spend cap per session in USD; default: `agent.session_budget_usd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_budget_usd: Option<f64>,
    /// This profile's spend cap per UTC day in USD; default: `agent.agent_daily_budget_usd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_budget_usd: Option<f64>,
}
