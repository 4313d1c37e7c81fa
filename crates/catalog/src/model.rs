//! Typed views of catalog entries, user overrides, and the defaults used for unknown models.

use serde::{Deserialize, Serialize};

use super::data::{ModelData, ProviderData};

/// Context window assumed when the catalog has no limit for a model.
pub const DEFAULT_CONTEXT: u32 = 8_192;
/// Output limit assumed when the catalog has no limit for a model.
pub const DEFAULT_OUTPUT: u32 = 4_096;

/// Prices in USD per million tokens. `known` is false when the catalog has no prices for the
/// model; then every price is 0 and costs computed from it must be shown as unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub input: f64,
    pub output: f64,
    /// Price of input tokens served from the prompt cache; `None` means cached tokens are
    /// billed at the input price.
    pub cache_read: Option<f64>,
    /// Price of input tokens written to the prompt cache; `None` means the input price.
    pub cache_write: Option<f64>,
    /// Separate reasoning price; `None` means reasoning tokens are billed as output.
    pub reasoning: Option<f64>,
    pub known: bool,
}

/// Input and output modalities (`text`, `image`, `pdf`, `audio`, `video`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modalities {
    pub input: Vec<String>,
    pub output: Vec<String>,
}

/// Everything the agent needs to know about one model before calling it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Provider id (`anthropic`); empty for an unknown model given without a provider.
    pub provider: String,
    /// Model id as the provider's API expects it.
    pub id: String,
    pub name: String,
    pub family: Option<String>,
    /// Context window in tokens (input + output).
    pub context: u32,
    /// Maximum output tokens per response.
    pub output: u32,
    /// Separate input limit, where the provider has one below `context`.
    pub input_limit: Option<u32>,
    /// False when `context`/`output` are the conservative defaults, not catalog figures.
    pub limits_known: bool,
    pub cost: Cost,
    pub tool_call: bool,
    /// Accepts attachments (images, files).
    pub attachment: bool,
    pub reasoning: bool,
    pub temperature: bool,
    pub modalities: Modalities,
    /// `deprecated`, `beta`, `alpha`, or `None` for generally available.
    pub status: Option<String>,
    pub release_date: Option<String>,
    /// Training-data cut-off.
    pub knowledge: Option<String>,
    /// `provider/model` this entry borrowed its limits and capabilities from, because its own
    /// catalog entry lists only prices.
    pub inferred_from: Option<String>,
}

/// Provider metadata: display name, where its API key usually lives, its endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
    /// Environment variables that may hold the API key.
    pub env: Vec<String>,
    /// Base URL for OpenAI-compatible or fixed endpoints.
    pub api: Option<String>,
    pub doc: Option<String>,
    pub model_count: usize,
}

/// User corrections to catalog figures, keyed by `provider/model` in config `models.overrides`.
/// Every field is optional; set ones replace the catalog value (or the unknown-model default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelOverride {
    pub context: Option<u32>,
    pub output: Option<u32>,
    pub input_cost: Option<f64>,
    pub output_cost: Option<f64>,
    pub cache_read_cost: Option<f64>,
    pub cache_write_cost: Option<f64>,
    pub tool_call: Option<bool>,
    pub attachment: Option<bool>,
    pub reasoning: Option<bool>,
}

impl ModelInfo {
    /// Builds the typed view of a catalog entry; missing figures get the unknown-model defaults.
    pub(crate) fn from_data(provider: &str, id: &str, m: &ModelData) -> Self {
        let limit = m.limit.unwrap_or_default();
        let limits_known = limit.context.is_some();
        let context = limit.context.map_or(DEFAULT_CONTEXT, saturate);
        let output = limit.output.map_or(DEFAULT_OUTPUT.min(context), saturate);
        let cost = match m.cost {
            Some(c) if c.input.is_some() || c.output.is_some() => Cost {
                input: c.input.unwrap_or(0.0),
                output: c.output.unwrap_or(0.0),
                cache_read: c.cache_read,
                cache_write: c.cache_write,
                reasoning: c.reasoning,
                known: true,
            },
            _ => Cost::default(),
        };
        let modalities = m
            .modalities
            .as_ref()
            .map(|x| Modalities {
                input: x.input.clone(),
                output: x.output.clone(),
            })
            .unwrap_or_default();
        Self {
            provider: provider.to_string(),
            id: id.to_string(),
            name: m.name.clone().unwrap_or_else(|| id.to_string()),
            family: m.family.clone(),
            context,
            output,
            input_limit: limit.input.map(saturate),
            limits_known,
            cost,
            tool_call: m.tool_call.unwrap_or(true),
            attachment: m.attachment.unwrap_or(false),
            reasoning: m.reasoning.unwrap_or(false),
            temperature: m.temperature.unwrap_or(true),
            modalities,
            status: m.status.clone(),
            release_date: m.release_date.clone(),
            knowledge: m.knowledge.clone(),
            inferred_from: m.inferred_from.clone(),
        }
    }

    /// Conservative stand-in for a model the catalog does not know: small context, tools
    /// allowed, no attachments, cost unknown.
    pub fn unknown(provider: &str, id: &str) -> Self {
        Self::from_data(provider, id, &ModelData::default())
    }

    /// `provider/id`, or just `id` when the provider is unknown.
    pub fn full_id(&self) -> String {
        if self.provider.is_empty() {
            self.id.clone()
        } else {
            format!("{}/{}", self.provider, self.id)
        }
    }

    /// Whether images may be sent: the model takes attachments and, where modalities are
    /// listed, `image` is one of them.
    pub fn supports_images(&self) -> bool {
        self.attachment
            && (self.modalities.input.is_empty()
                || self.modalities.input.iter().any(|m| m == "image"))
    }

    /// Applies a user override on top of the catalog figures.
    pub fn apply(&mut self, o: &ModelOverride) {
        if let Some(v) = o.context {
            self.context = v;
            self.limits_known = true;
        }
        if let Some(v) = o.output {
            self.output = v;
        }
        let prices = [
            o.input_cost,
            o.output_cost,
            o.cache_read_cost,
            o.cache_write_cost,
        ];
        if prices.iter().any(Option::is_some) {
            self.cost.known = true;
        }
        if let Some(v) = o.input_cost {
            self.cost.input = v;
        }
        if let Some(v) = o.output_cost {
            self.cost.output = v;
        }
        if o.cache_read_cost.is_some() {
            self.cost.cache_read = o.cache_read_cost;
        }
        if o.cache_write_cost.is_some() {
            self.cost.cache_write = o.cache_write_cost;
        }
        if let Some(v) = o.tool_call {
            self.tool_call = v;
        }
        if let Some(v) = o.reasoning {
            self.reasoning = v;
        }
        if let Some(v) = o.attachment {
            self.attachment = v;
            let input = &mut self.modalities.input;
            let has_image = input.iter().any(|m| m == "image");
            if v && !input.is_empty() && !has_image {
                input.push("image".into());
            }
        }
    }
}

impl ProviderInfo {
    pub(crate) fn from_data(id: &str, p: &ProviderData) -> Self {
        Self {
            id: id.to_string(),
            name: p.name.clone().unwrap_or_else(|| id.to_string()),
            env: p.env.clone(),
            api: p.api.clone(),
            doc: p.doc.clone(),
            model_count: p.models.len(),
        }
    }
}

fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CostData, LimitData};

    #[test]
    fn unknown_model_gets_conservative_defaults() {
        let m = ModelInfo::unknown("local", "my-model");
        assert_eq!((m.context, m.output), (8_192, 4_096));
        assert!(!m.limits_known);
        assert!(!m.cost.known);
        assert_eq!((m.cost.input, m.cost.output), (0.0, 0.0));
        assert!(m.tool_call);
        assert!(!m.attachment && !m.supports_images());
        assert_eq!(m.full_id(), "local/my-model");
        assert_eq!(ModelInfo::unknown("", "x").full_id(), "x");
    }

    #[test]
    fn partial_entry_keeps_known_prices_and_defaults_limits() {
        let data = ModelData {
            cost: Some(CostData {
                input: Some(1.25),
                output: Some(2.5),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = ModelInfo::from_data("p", "m", &data);
        assert!(m.cost.known && !m.limits_known);
        assert_eq!(m.cost.input, 1.25);
        assert_eq!(m.context, DEFAULT_CONTEXT);
        assert_eq!(m.name, "m");
    }

    #[test]
    fn small_context_without_output_limit_caps_output_default() {
        let data = ModelData {
            limit: Some(LimitData {
                context: Some(2_048),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(ModelInfo::from_data("p", "m", &data).output, 2_048);
    }

    #[test]
    fn override_replaces_only_what_it_sets() {
        let mut m = ModelInfo::unknown("p", "m");
        m.modalities.input = vec!["text".into()];
        m.apply(&ModelOverride {
            context: Some(32_000),
            input_cost: Some(0.5),
            attachment: Some(true),
            ..Default::default()
        });
        assert_eq!((m.context, m.output), (32_000, 4_096));
        assert!(m.cost.known && m.limits_known);
        assert_eq!((m.cost.input, m.cost.output), (0.5, 0.0));
        assert!(m.supports_images());
        m.apply(&ModelOverride {
            attachment: Some(false),
            ..Default::default()
        });
        assert!(!m.supports_images());
    }

    #[test]
    fn attachment_without_image_modality_is_not_vision() {
        let mut m = ModelInfo::unknown("p", "m");
        m.attachment = true;
        m.modalities.input = vec!["text".into(), "pdf".into()];
        assert!(!m.supports_images());
        m.modalities.input.clear();
        assert!(m.supports_images());
    }

    #[test]
    fn override_rejects_unknown_keys() {
        let err = serde_json::from_str::<ModelOverride>(r#"{"contxt": 5}"#);
        assert!(err.is_err());
        let ok: ModelOverride = serde_json::from_str(r#"{"context": 5}"#).unwrap();
        assert_eq!(ok.context, Some(5));
    }
}
