//! Which model to call, through which configured provider, with which key.

use anyhow::{Context, anyhow, bail};
use pryx_catalog::{Catalog, ModelInfo, ModelOverride};
use pryx_config::{Config, DataDir, SecretStore};
use pryx_llm::{Provider, ProviderKind, ProviderSettings, SecretString};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A model picked for a run: the configured provider id, its config and the catalog figures.
#[derive(Debug, Clone)]
pub struct ModelChoice {
    pub provider_id: String,
    pub provider: pryx_config::Provider,
    /// `provider` is the configured provider id; `id` is what the API is asked for.
    pub info: ModelInfo,
    /// Set when the model is not in the catalog (conservative defaults are used).
    pub warning: Option<String>,
}

/// How old a refreshed catalog may get before `models.auto_refresh` fetches a new one.
const AUTO_REFRESH_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// When the user turned `models.auto_refresh` on and the refreshed copy is missing or a week old,
/// fetches a new one (saying so on stderr). A failure is a warning: the current copy stays in use.
pub async fn auto_refresh_catalog(dir: &DataDir, config: &Config) {
    if !config.models.auto_refresh {
        return;
    }
    let path = pryx_catalog::cache_path(dir.root());
    let age = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok());
    if age.is_some_and(|a| a < AUTO_REFRESH_AFTER) {
        return;
    }
    eprintln!("refreshing the model catalog (models.auto_refresh is on)…");
    let result = pryx_catalog::refresh(
        pryx_catalog::DEFAULT_URL,
        dir.root(),
        pryx_catalog::MAX_DOWNLOAD_BYTES,
    )
    .await;
    if let Err(e) = result {
        eprintln!("warning: catalog refresh failed, keeping the current copy: {e}");
    }
}

/// The catalog in use (a refreshed copy when valid) with the user's overrides applied.
pub fn load_catalog(dir: &DataDir, config: &Config) -> anyhow::Result<Catalog> {
    let loaded = Catalog::load(dir.root()).context("cannot load the model catalog")?;
    if let Some(w) = &loaded.warning {
        eprintln!("warning: {w}");
    }
    let overrides = catalog_overrides(config);
    Ok(loaded.catalog.with_overrides(overrides))
}

/// The config's `models.overrides` in the catalog's terms (limits past `u32` saturate).
pub fn catalog_overrides(config: &Config) -> HashMap<String, ModelOverride> {
    let clamp = |v: Option<u64>| v.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    config
        .models
        .overrides
        .iter()
        .map(|(id, o)| {
            let o = ModelOverride {
                context: clamp(o.context),
                output: clamp(o.output),
                input_cost: o.input_cost,
                output_cost: o.output_cost,
                cache_read_cost: o.cache_read_cost,
                cache_write_cost: o.cache_write_cost,
                tool_call: o.tool_call,
                attachment: o.attachment,
                reasoning: o.reasoning,
            };
            (id.clone(), o)
        })
        .collect()
}

/// Resolves `provider/model` (from `--model`, else `defaults.model`, else the only provider's
/// default model) against the configured providers and the catalog.
pub fn choose_model(
    config: &Config,
    catalog: &Catalog,
    requested: Option<&str>,
) -> anyhow::Result<ModelChoice> {
    let spec = match requested
        .map(str::to_string)
        .or_else(|| config.defaults.model.clone())
    {
        Some(s) => s,
        None => match config
            .providers
            .iter()
            .find_map(|(id, p)| p.default_model.as_ref().map(|m| format!("{id}/{m}")))
        {
            Some(s) => s,
            None => bail!(
                "no model chosen: pass --model PROVIDER/MODEL or set one with \
                 `pryx config set defaults.model PROVIDER/MODEL` (configure providers under `providers`)"
            ),
        },
    };
    let (provider_id, model) = match spec.split_once('/') {
        Some((p, m)) if config.providers.contains_key(p) => (p.to_string(), m.to_string()),
        _ => match config
            .providers
            .get(&spec)
            .and_then(|p| p.default_model.clone())
        {
            Some(m) => (spec.clone(), m),
            None => {
                let known: Vec<&str> = config.providers.keys().map(String::as_str).collect();
                bail!(
                    "model {spec:?} does not name a configured provider (configured: {}); use PROVIDER/MODEL \
                     and add providers with `pryx config set providers.NAME.kind openai-compatible`",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            }
        },
    };
    let provider = config
        .providers
        .get(&provider_id)
        .cloned()
        .ok_or_else(|| anyhow!("provider {provider_id} vanished"))?;
    let catalog_provider = provider
        .catalog_id
        .clone()
        .unwrap_or_else(|| provider_id.clone());
    let resolved = catalog.resolve(&format!("{catalog_provider}/{model}"));
    let mut info = resolved.info;
    info.provider = provider_id.clone();
    info.id = model;
    Ok(ModelChoice {
        provider_id,
        provider,
        info,
        warning: resolved.warning,
    })
}

/// Builds the provider client; the API key comes from the config's secret reference, else from
/// the provider's usual environment variables (catalog `env`). Returns the key too, so callers can
/// mask it wherever arguments or results are recorded.
pub fn build_provider(
    dir: &DataDir,
    catalog: &Catalog,
    choice: &ModelChoice,
) -> anyhow::Result<(Arc<dyn Provider>, Option<String>)> {
    let p = &choice.provider;
    let catalog_id = p
        .catalog_id
        .clone()
        .unwrap_or_else(|| choice.provider_id.clone());
    let catalog_provider = catalog.provider(&catalog_id);
    let key = match &p.api_key {
        Some(reference) => {
            let store = SecretStore::open(dir).context("cannot open the secret store")?;
            let secret = store.resolve(reference).with_context(|| {
                format!(
                    "cannot read the API key of provider {} ({reference})",
                    choice.provider_id
                )
            })?;
            Some(secret.expose().to_string())
        }
        None => catalog_provider.as_ref().and_then(|cp| {
            cp.env
                .iter()
                .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        }),
    };
    let kind = match p.kind {
        pryx_config::ProviderKind::OpenAiCompatible => ProviderKind::OpenAiCompatible,
        pryx_config::ProviderKind::Anthropic => ProviderKind::Anthropic,
    };
    let base_url = p
        .base_url
        .clone()
        .or_else(|| catalog_provider.as_ref().and_then(|cp| cp.api.clone()))
        .unwrap_or_else(|| match kind {
            ProviderKind::OpenAiCompatible => "https://api.openai.com/v1".to_string(),
            ProviderKind::Anthropic => "https://api.anthropic.com/v1".to_string(),
        });
    let mut settings = ProviderSettings::new(choice.provider_id.clone(), kind, base_url);
    settings.api_key = key.clone().map(SecretString::new);
    settings.headers = p
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    settings.connect_timeout = Duration::from_millis(p.connect_timeout_ms);
    settings.first_token_timeout = Duration::from_millis(p.first_token_timeout_ms);
    let provider = pryx_llm::build_provider(settings)?;
    Ok((provider, key))
}
