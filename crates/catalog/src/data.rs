//! The compact catalog shape (as bundled and as cached after a refresh) and the bundled copy.
//!
//! Shape: `{"providers": {"<id>": {name, env, api, npm, doc, models: {"<id>": {...}}}}, "source"}`.
//! Every model field is optional because models.dev leaves many of them out; `ModelInfo` fills
//! the gaps with conservative defaults.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex, Weak};

use super::error::CatalogError;

/// The gzip-compressed snapshot compiled into the binary.
pub const BUNDLED_GZ: &[u8] = include_bytes!("../data/models-catalog.json.gz");

/// The MIT licence of the bundled data; ship it with anything that redistributes the catalog.
pub const BUNDLED_LICENSE: &str = include_str!("../data/models-catalog.LICENSE");

/// Whole catalog in the compact shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogData {
    /// Providers by id (`anthropic`, `openai`, ...).
    pub providers: BTreeMap<String, ProviderData>,
    /// Where the data came from (attribution and version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One provider in the compact shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Environment variables that may hold the API key, in order of preference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(default)]
    pub models: BTreeMap<String, ModelData>,
}

/// One model in the compact shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_output: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_weights: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<ModalitiesData>,
    /// `provider/model` whose figures filled this partial entry (see `fill`); never stored.
    #[serde(skip)]
    pub inferred_from: Option<String>,
}

/// Prices in USD per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CostData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// A separate price for reasoning tokens, where the provider bills them apart from output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
}

/// Token limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<u64>,
}

/// Input and output modalities (`text`, `image`, `pdf`, `audio`, `video`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModalitiesData {
    #[serde(default)]
    pub input: Vec<String>,
    #[serde(default)]
    pub output: Vec<String>,
}

impl CatalogData {
    /// Parses the compact shape and checks it is usable (see [`CatalogData::validate`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self, CatalogError> {
        let data: CatalogData =
            serde_json::from_slice(bytes).map_err(|e| CatalogError::Parse(e.to_string()))?;
        data.validate()?;
        Ok(data)
    }

    /// Number of models across all providers.
    pub fn model_count(&self) -> usize {
        self.providers.values().map(|p| p.models.len()).sum()
    }

    /// Rejects catalogs that would make every lookup fail or every price wrong: no models, or
    /// negative / non-finite prices.
    pub fn validate(&self) -> Result<(), CatalogError> {
        if self.model_count() == 0 {
            return Err(CatalogError::Invalid("the catalog lists no models".into()));
        }
        for (pid, provider) in &self.providers {
            for (mid, model) in &provider.models {
                let Some(cost) = model.cost else { continue };
                let prices = [
                    cost.input,
                    cost.output,
                    cost.cache_read,
                    cost.cache_write,
                    cost.reasoning,
                ];
                if prices.iter().flatten().any(|p| !p.is_finite() || *p < 0.0) {
                    return Err(CatalogError::Invalid(format!(
                        "model {pid}/{mid} has a negative or non-finite price"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The parsed catalog is shared while anyone holds it and freed when nobody does: a long-running
/// core resolves its model once and should not keep 5,000 models in memory for its lifetime.
static BUNDLED: Mutex<Weak<CatalogData>> = Mutex::new(Weak::new());

/// The bundled catalog, decompressed, parsed and gap-filled on first use, shared while held.
pub fn bundled() -> Result<Arc<CatalogData>, CatalogError> {
    let mut cached = BUNDLED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(data) = cached.upgrade() {
        return Ok(data);
    }
    let mut data = decode_gz(BUNDLED_GZ)?;
    super::fill::fill_gaps(&mut data);
    let data = Arc::new(data);
    *cached = Arc::downgrade(&data);
    Ok(data)
}

/// Decompresses and parses a gzip-compressed catalog in the compact shape.
pub fn decode_gz(gz: &[u8]) -> Result<CatalogData, CatalogError> {
    let mut json = Vec::with_capacity(gz.len() * 12);
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut json)
        .map_err(|e| CatalogError::Decompress(e.to_string()))?;
    CatalogData::from_json(&json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalog_parses_with_every_provider_and_model() {
        let data = bundled().unwrap();
        assert_eq!(data.providers.len(), 147);
        assert_eq!(data.model_count(), 5276);
        assert!(data.source.as_deref().unwrap_or("").contains("models.dev"));
        // Shared, not re-parsed.
        assert!(Arc::ptr_eq(&data, &bundled().unwrap()));
    }

    #[test]
    fn licence_travels_with_the_data() {
        assert!(BUNDLED_LICENSE.starts_with("MIT License"));
        assert!(BUNDLED_LICENSE.contains("models.dev"));
    }

    #[test]
    fn rejects_empty_and_negative_prices() {
        let empty = br#"{"providers":{}}"#;
        assert!(matches!(
            CatalogData::from_json(empty),
            Err(CatalogError::Invalid(_))
        ));
        let neg = br#"{"providers":{"p":{"models":{"m":{"cost":{"input":-1,"output":2}}}}}}"#;
        assert!(matches!(
            CatalogData::from_json(neg),
            Err(CatalogError::Invalid(_))
        ));
        assert!(matches!(
            CatalogData::from_json(b"{"),
            Err(CatalogError::Parse(_))
        ));
    }

    #[test]
    fn corrupt_gzip_is_an_error_not_a_panic() {
        assert!(matches!(
            decode_gz(b"not gzip"),
            Err(CatalogError::Decompress(_))
        ));
    }

    /// Prints the cost of the first use of the bundled catalog; run with `--ignored --nocapture`.
    #[test]
    #[ignore = "measurement, not a check"]
    fn measure_bundled_decode() {
        let start = std::time::Instant::now();
        let mut data = decode_gz(BUNDLED_GZ).unwrap();
        super::super::fill::fill_gaps(&mut data);
        let elapsed = start.elapsed();
        println!(
            "decompress+parse+fill of {} bytes gz ({} models): {:?}",
            BUNDLED_GZ.len(),
            data.model_count(),
            elapsed
        );
    }
}
