//! Model catalog: context limits, prices and capabilities of known models (from models.dev),
//! user overrides on top, cost arithmetic, and the checks made before a request is sent.
//!
//! The catalog is bundled in the binary (gzip) and parsed on first use. `pryx models refresh`
//! can store a newer copy in the data directory; [`Catalog::load`] prefers it when it is valid.

mod cache;
mod constraints;
mod cost;
mod data;
mod error;
mod fill;
mod model;
mod refresh;

pub use cache::{CACHE_FILE, cache_path, write_cache};
pub use constraints::{Checked, ConstraintError, Unsupported, check_request, estimate_tokens};
pub use cost::{CostBreakdown, TokenUsage, cost_breakdown, cost_usd};
pub use data::{
    BUNDLED_LICENSE, CatalogData, CostData, LimitData, ModalitiesData, ModelData, ProviderData,
};
pub use error::{CatalogError, LookupError, RefreshError};
pub use model::{
    Cost, DEFAULT_CONTEXT, DEFAULT_OUTPUT, Modalities, ModelInfo, ModelOverride, ProviderInfo,
};
pub use refresh::{DEFAULT_URL, MAX_DOWNLOAD_BYTES, RefreshReport, convert_api_json, refresh};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The catalog plus user overrides. Cheap to clone (the data is shared).
#[derive(Debug, Clone)]
pub struct Catalog {
    data: Arc<CatalogData>,
    overrides: Arc<HashMap<String, ModelOverride>>,
}

/// Where the catalog in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogSource {
    /// The copy compiled into the binary.
    Bundled,
    /// A refreshed copy in the data directory.
    Cache(PathBuf),
}

/// Result of [`Catalog::load`]: the catalog, its origin, and a warning to show when a cached
/// copy was present but unusable.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub catalog: Catalog,
    pub source: CatalogSource,
    pub warning: Option<String>,
}

/// Result of [`Catalog::resolve`]: always usable figures, and whether they are real.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub info: ModelInfo,
    /// False when `info` holds the conservative defaults for an unknown or ambiguous id.
    pub known: bool,
    /// One line for the user when `known` is false.
    pub warning: Option<String>,
}

impl Catalog {
    /// The bundled catalog (decompressed and parsed once per process).
    pub fn bundled() -> Result<Self, CatalogError> {
        Ok(Self::from_data(data::bundled()?))
    }

    /// Wraps already loaded data as is (no gap filling; see [`Catalog::load`]).
    pub fn from_data(data: Arc<CatalogData>) -> Self {
        Self {
            data,
            overrides: Arc::new(HashMap::new()),
        }
    }

    /// The refreshed copy in `data_dir` when present and valid, otherwise the bundled one. A
    /// damaged cache is not an error: the bundled copy is used and `warning` says why.
    pub fn load(data_dir: &Path) -> Result<Loaded, CatalogError> {
        let path = cache_path(data_dir);
        match cache::read_cache(&path) {
            Ok(Some(mut data)) => Ok(Loaded {
                catalog: {
                    fill::fill_gaps(&mut data);
                    Self::from_data(Arc::new(data))
                },
                source: CatalogSource::Cache(path),
                warning: None,
            }),
            Ok(None) => Ok(Loaded {
                catalog: Self::bundled()?,
                source: CatalogSource::Bundled,
                warning: None,
            }),
            Err(err) => Ok(Loaded {
                catalog: Self::bundled()?,
                source: CatalogSource::Bundled,
                warning: Some(format!(
                    "ignoring the refreshed model catalog ({err}); using the built-in copy. \
                     Run `pryx models refresh` to replace it"
                )),
            }),
        }
    }

    /// Layers user overrides (keyed `provider/model`) on top; replaces earlier overrides.
    pub fn with_overrides(self, overrides: HashMap<String, ModelOverride>) -> Self {
        Self {
            data: self.data,
            overrides: Arc::new(overrides),
        }
    }

    /// The underlying data (for export or inspection).
    pub fn data(&self) -> &CatalogData {
        &self.data
    }

    /// All providers, sorted by id.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        self.data
            .providers
            .iter()
            .map(|(id, p)| ProviderInfo::from_data(id, p))
            .collect()
    }

    /// One provider by id.
    pub fn provider(&self, id: &str) -> Option<ProviderInfo> {
        self.data
            .providers
            .get(id)
            .map(|p| ProviderInfo::from_data(id, p))
    }

    /// All models, or those of one provider, sorted by provider then id, overrides applied.
    /// An unknown provider gives an empty list.
    pub fn models(&self, provider: Option<&str>) -> Vec<ModelInfo> {
        self.data
            .providers
            .iter()
            .filter(|(pid, _)| provider.is_none_or(|p| p == pid.as_str()))
            .flat_map(|(pid, p)| p.models.keys().filter_map(move |mid| self.get(pid, mid)))
            .collect()
    }

    /// Exact lookup by provider and model id, overrides applied.
    pub fn get(&self, provider: &str, model: &str) -> Option<ModelInfo> {
        let data = self.data.providers.get(provider)?.models.get(model)?;
        let mut info = ModelInfo::from_data(provider, model, data);
        if let Some(o) = self.overrides.get(&info.full_id()) {
            info.apply(o);
        }
        Some(info)
    }

    /// Looks up `provider/model`, or a bare model id when exactly one provider lists it. Model
    /// ids may contain `/` themselves (`openrouter/anthropic/claude-sonnet-4`): the part before
    /// the first `/` is tried as a provider first, then the whole string as a bare id.
    pub fn lookup(&self, id: &str) -> Result<ModelInfo, LookupError> {
        if let Some((provider, model)) = id.split_once('/')
            && let Some(info) = self.get(provider, model)
        {
            return Ok(info);
        }
        let candidates: Vec<&str> = self
            .data
            .providers
            .iter()
            .filter(|(_, p)| p.models.contains_key(id))
            .map(|(pid, _)| pid.as_str())
            .collect();
        match candidates.as_slice() {
            [] => Err(LookupError::NotFound(id.to_string())),
            [only] => self
                .get(only, id)
                .ok_or_else(|| LookupError::NotFound(id.to_string())),
            many => Err(LookupError::Ambiguous {
                id: id.to_string(),
                candidates: many.iter().map(|p| format!("{p}/{id}")).collect(),
            }),
        }
    }

    /// Like [`Catalog::lookup`] but never fails: an unknown or ambiguous id gets conservative
    /// defaults (plus any override for exactly that id) and a warning to show the user.
    pub fn resolve(&self, id: &str) -> Resolved {
        match self.lookup(id) {
            Ok(info) => Resolved {
                info,
                known: true,
                warning: None,
            },
            Err(err) => {
                let (provider, model) = match id.split_once('/') {
                    Some((p, m)) if self.data.providers.contains_key(p) => (p, m),
                    _ => ("", id),
                };
                let mut info = ModelInfo::unknown(provider, model);
                let overridden = self.overrides.get(id).inspect(|o| info.apply(o)).is_some();
                let basis = if overridden {
                    "using your overrides over conservative defaults"
                } else {
                    "using conservative defaults"
                };
                let warning = format!(
                    "{err}. {basis} (context {}, output {}, cost {})",
                    info.context,
                    info.output,
                    if info.cost.known {
                        "from override"
                    } else {
                        "unknown"
                    }
                );
                Resolved {
                    info,
                    known: false,
                    warning: Some(warning),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
