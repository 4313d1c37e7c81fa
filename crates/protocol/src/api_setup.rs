//! Bodies of the API that configures a running core: providers (with presets and a live test),
//! agent profiles and the settings of one session.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A configured provider. The key itself is never returned, only where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderView {
    pub id: String,
    /// `openai-compatible` or `anthropic`.
    pub kind: String,
    #[serde(default)]
    pub base_url: Option<String>,
    /// Model used when a request names only the provider.
    #[serde(default)]
    pub default_model: Option<String>,
    /// `secret:NAME` or `env:VAR` when a key is configured.
    #[serde(default)]
    pub key_ref: Option<String>,
    /// Whether the key reference resolves (the secret exists, the variable is set).
    pub key_ok: bool,
    /// Runs on this machine (Ollama, LM Studio, vLLM on localhost): zero cost, no key needed.
    pub local: bool,
}

/// `GET /providers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderList {
    pub providers: Vec<ProviderView>,
}

/// What `PutProvider.base_url` must match (the OpenAPI document says the same). Stricter than
/// a URL parser on purpose, so that everything it admits parses: the last label of a host name
/// starts with a letter (a numeric last label makes parsers read the host as an IPv4 address),
/// no label holds `--` (which would make `xn--` punycode), and an IPv4 address is four octets.
pub const BASE_URL_PATTERN: &str = "^https?://(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?(/[A-Za-z0-9._~%/-]*)?$";

/// `PUT /providers/{id}`: creates or replaces a provider. With `preset`, `kind` and `base_url`
/// default to the preset's; without either, `kind` is `openai-compatible`. The key is given once,
/// stored in the secret store and never returned; `api_key_env` names an environment variable to
/// read it from instead (a given `api_key` wins over it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PutProvider {
    /// A preset id (`GET /providers/presets`).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")
    )]
    pub preset: Option<String>,
    /// `openai-compatible` or `anthropic`.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(openai-compatible|anthropic)$")
    )]
    pub kind: Option<String>,
    /// `http://` or `https://` API root with a host name or IPv4 address, e.g.
    /// `http://127.0.0.1:11434/v1` ([`BASE_URL_PATTERN`]; an IPv6 literal can be set with
    /// `pryx config set`).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2000,
            pattern = "^https?://(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?(/[A-Za-z0-9._~%/-]*)?$"
        )
    )]
    pub base_url: Option<String>,
    /// The API key; write-only.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 4096, pattern = "^[\\x21-\\x7e]+$", write_only)
    )]
    pub api_key: Option<String>,
    /// Read the key from this environment variable of the core instead.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 128, pattern = "^[A-Za-z_][A-Za-z0-9_]*$")
    )]
    pub api_key_env: Option<String>,
    /// The model used when a request names only the provider.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 256,
            pattern = "^[A-Za-z0-9][A-Za-z0-9._:@+/-]*$"
        )
    )]
    pub default_model: Option<String>,
}

/// `POST /providers/{id}/test`: which model to try (default: the provider's default model).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TestProvider {
    /// The model id as the provider knows it (without `provider/`).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 256,
            pattern = "^[A-Za-z0-9][A-Za-z0-9._:@+/-]*$"
        )
    )]
    pub model: Option<String>,
}

/// The outcome of one tiny real call to a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderTestReport {
    pub ok: bool,
    /// `provider/model` that was called.
    pub model: String,
    pub latency_ms: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// The provider's error code, when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<crate::ErrorCode>,
    /// The provider's error, when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A provider Pryx knows how to set up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderPreset {
    /// The provider id it is configured under.
    pub id: String,
    pub name: String,
    /// `openai-compatible` or `anthropic`.
    pub kind: String,
    pub base_url: String,
    /// Environment variables that usually hold its key.
    pub env: Vec<String>,
    /// The first of `env` that is set in the core's environment (offered, never used silently).
    #[serde(default)]
    pub env_found: Option<String>,
    /// Whether a key is needed.
    pub needs_key: bool,
    /// Runs on this machine: zero cost.
    pub local: bool,
    /// A sensible first model.
    #[serde(default)]
    pub suggested_model: Option<String>,
}

/// `GET /providers/presets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PresetList {
    pub presets: Vec<ProviderPreset>,
}

/// A named agent profile: where its sessions work, on which model, under which policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AgentView {
    pub id: String,
    /// Canonical workspace path.
    pub workspace: String,
    /// `provider/model`; `None` until a provider is configured.
    #[serde(default)]
    pub model: Option<String>,
    pub fallbacks: Vec<String>,
    pub policy: String,
    /// The profile sessions get when they name none (`main`).
    pub default: bool,
}

/// `GET /agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AgentList {
    pub agents: Vec<AgentView>,
}

/// `PATCH /sessions/{id}`: changes for the session's later turns. Absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSession {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub title: Option<String>,
    /// `provider/model` with a configured provider.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 3,
            max_length = 256,
            pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._:@+/-]*$"
        )
    )]
    pub model: Option<String>,
    /// A built-in mode or a policy file's name.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = "^[A-Za-z0-9][A-Za-z0-9_-]*$"
        )
    )]
    pub policy: Option<String>,
}
