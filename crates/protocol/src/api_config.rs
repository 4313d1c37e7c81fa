//! `config.json` over the API (`GET/PATCH /config`, `GET /config/schema`) and the dashboard's
//! Settings pages: the document with its revision, the keys the schema knows (so forms and
//! their tests are generated from it), and a change set checked against a revision.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What a key holds: decides the form field and how its text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConfigKind {
    Bool,
    /// Any string.
    Text,
    /// An `http://` or `https://` URL.
    Url,
    /// `provider/model`.
    ModelRef,
    /// 1–64 letters, digits, `_`, `.`, `-`.
    Name,
    /// `secret:NAME` or `env:VAR`, never a literal credential.
    SecretRef,
    /// One of `choices`.
    Choice,
    /// One of `choices`, or a name (a policy file).
    ChoiceOrName,
    /// A number between `min` and `max`.
    Number,
    /// A whole number between `min` and `max`.
    Integer,
    /// A list of `item` values.
    List,
    /// Names to `item` values (headers, environment references).
    Map,
    /// A free-form JSON object owned by another component.
    Json,
}

/// One key of the schema. Keys inside a collection carry its placeholder (`providers.<id>.kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfigKey {
    pub key: String,
    pub kind: ConfigKind,
    /// `null` is accepted (and means "not set").
    pub nullable: bool,
    /// Must be present in its object.
    pub required: bool,
    /// For `choice` and `choice_or_name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// What a `list` or `map` holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ConfigKind>,
    /// A value the schema accepts (not the default).
    pub example: Value,
}

/// A map of named entries (`providers`, `agents`, `channels`, ...): entries are added and removed
/// as a whole, their keys are listed with `<id>` in [`ConfigSchema::keys`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfigCollection {
    /// Where the map is (`providers`, `skills.entries`).
    pub key: String,
    /// The placeholder its keys use (`<id>`).
    pub placeholder: String,
    /// What an entry's name must be (`name` or `model_ref`).
    pub id: ConfigKind,
    /// A name the schema accepts.
    pub example_id: String,
    /// The smallest valid entry (its required keys).
    pub example: Value,
}

/// `GET /config/schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfigSchema {
    pub keys: Vec<ConfigKey>,
    pub collections: Vec<ConfigCollection>,
}

/// `GET /config`: the effective document (defaults filled in, credentials masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfigDocument {
    /// Bumped by every write; send it back as `base_revision` so a change made elsewhere
    /// meanwhile is refused rather than overwritten.
    pub revision: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub config: Value,
}

/// One change: `value` sets the key, no value removes it (its default applies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    /// Dotted key (`telemetry.enabled`; `models.overrides["a/b"].context` for keys with dots
    /// or slashes).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 512))]
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub value: Option<Value>,
}

/// `PATCH /config`: applied together, validated as a whole, written atomically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfigChanges {
    /// The revision the changes were made against; a file changed since is a 409.
    #[serde(default, deserialize_with = "crate::whole::option_u64")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 0, maximum = 9_007_199_254_740_991_i64)
    )]
    pub base_revision: Option<u64>,
    #[cfg_attr(feature = "openapi", schema(max_items = 512))]
    pub changes: Vec<ConfigChange>,
}

/// A key the change set would make invalid (in a 422's `details.problems`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfigProblem {
    /// Dotted key; empty for the document.
    pub key: String,
    /// What is wrong and how to fix it.
    pub message: String,
}
