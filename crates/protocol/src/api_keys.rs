//! Per-client API keys for the OpenAI-compatible `/v1` (`GET|POST /api-keys`,
//! `DELETE /api-keys/{id}`): each editor or script gets its own key, revocable on its own,
//! optionally limited to some agents. The key itself is returned once, when it is made; the
//! gateway keeps only its SHA-256.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// One API key, without the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKeyView {
    pub id: String,
    /// Who it was made for (`editor`, `nightly-script`, …).
    pub name: String,
    /// The agents it may use; empty: every agent.
    pub agents: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// When it last authenticated a `/v1` call.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// When it was revoked; a revoked key is refused.
    #[serde(default)]
    pub revoked_at: Option<String>,
}

/// `GET /api-keys`: every key, newest first, revoked ones included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKeyList {
    pub keys: Vec<ApiKeyView>,
}

/// `POST /api-keys`: the key to make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreate {
    /// Who it is for; 1–64 characters, no control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
        )
    )]
    pub name: String,
    /// The agents it may use (ids as `GET /agents` lists them); empty or absent: every agent.
    #[serde(default)]
    pub agents: Vec<String>,
}

/// `POST /api-keys` answer: the key, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKeyCreated {
    /// `pryx-sk-…`: send it as `Authorization: Bearer <key>` to `/v1`. Not retrievable later.
    pub secret: String,
    pub key: ApiKeyView,
}

/// `DELETE /api-keys/{id}` answer: the key as it is now, revoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKeyRevoked {
    pub revoked: ApiKeyView,
}
