//! What the screens show besides the protocol's own DTOs. A client fills these from the API; the
//! TUI never computes them itself.

use pryx_protocol::api::PutProvider;
use serde::{Deserialize, Serialize};

/// A skill as the Skills screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillView {
    pub name: String,
    pub description: String,
    /// `bundled`, `user` or `workspace`.
    pub source: String,
    pub enabled: bool,
    /// Every requirement (binaries, env vars, OS) is met.
    pub eligible: bool,
    /// Requirements that are not met, e.g. `bin:git`, `env:GITHUB_TOKEN`.
    #[serde(default)]
    pub missing: Vec<String>,
}

/// A tool an MCP server offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolView {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A configured MCP server and its health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpServerView {
    pub name: String,
    /// `stdio`, `http` or `sse`.
    pub transport: String,
    /// `connected`, `connecting`, `failed`, `disabled`, ….
    pub status: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub tools: Vec<McpToolView>,
}

/// The result of testing one MCP server's connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpTestReport {
    pub name: String,
    pub ok: bool,
    /// What happened, in words (the error when `ok` is false).
    pub message: String,
    pub tool_count: usize,
    pub latency_ms: u64,
}

/// One span of a session's trace, for the telemetry timeline. Times are Unix epoch milliseconds so
/// the TUI needs no date parsing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanView {
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    /// `turn`, `model_call`, `tool_call` or `approval_wait`.
    pub kind: String,
    pub name: String,
    pub start_ms: u64,
    /// `None` while the span runs.
    #[serde(default)]
    pub end_ms: Option<u64>,
    /// `running`, `ok`, `error` or `cancelled`.
    pub status: String,
    #[serde(default)]
    pub tokens_in: Option<u64>,
    #[serde(default)]
    pub tokens_out: Option<u64>,
    #[serde(default)]
    pub cost_usd: Option<f64>,
}

/// Formats a session can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Markdown,
    Json,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Markdown => "markdown",
            ExportFormat::Json => "json",
        }
    }
}

/// Where a provider's key comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// The provider needs none (it runs on this machine).
    None,
    /// Typed or pasted by the user; stored by the core in its secret store.
    Typed(crate::secret::Secret),
    /// This environment variable of the core, chosen by the user.
    Env(String),
}

/// A provider as the setup screen configures it. `Debug` never shows a typed key.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSetup {
    /// The provider id, which is the preset's.
    pub id: String,
    pub preset: String,
    pub key: KeySource,
    /// Set only when the user changed the preset's.
    pub base_url: Option<String>,
    /// The model a request naming only the provider runs on (the bare model name).
    pub default_model: Option<String>,
}

impl ProviderSetup {
    /// The `PUT /providers/{id}` body.
    pub fn to_put(&self) -> PutProvider {
        let (api_key, api_key_env) = match &self.key {
            KeySource::None => (None, None),
            KeySource::Typed(k) => (Some(k.expose().to_string()), None),
            KeySource::Env(var) => (None, Some(var.clone())),
        };
        PutProvider {
            preset: Some(self.preset.clone()),
            kind: None,
            base_url: self.base_url.clone(),
            api_key,
            api_key_env,
            default_model: self.default_model.clone(),
        }
    }
}
