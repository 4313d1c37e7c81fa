//! Which model to call, through which configured provider, with which key.

use super::SetupError;
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
/// fetches a new one (saying so in the log). A failure is a warning: the current copy stays in use.
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
    tracing::info!("refreshing the model catalog (models.auto_refresh is on)");
    let result = pryx_catalog::refresh(
        pryx_catalog::DEFAULT_URL,
        dir.root(),
        pryx_catalog::MAX_DOWNLOAD_BYTES,
    )
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "catalog refresh failed, keeping the current copy");
    }
}

/// The catalog in use (a refreshed copy when valid) with the user's overrides applied.
pub fn load_catalog(dir: &DataDir, config: &Config) -> Result<Catalog, SetupError> {
    let loaded = Catalog::load(dir.root())
        .map_err(|e| SetupError::Failed(format!("cannot load the model catalog: {e}")))?;
    if let Some(w) = &loaded.warning {
        tracing::warn!("{w}");
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
) -> Result<ModelChoice, SetupError> {
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
            None if config.providers.is_empty() => {
                return Err(SetupError::NotConfigured(
                    "no LLM provider is configured yet: set one up in the TUI (`pryx`, or `/setup`), \
                     with PUT /api/v1/providers/{id}, or with `pryx config set providers.NAME.kind openai-compatible`"
                        .into(),
                ));
            }
            None => {
                return Err(SetupError::NotConfigured(
                    "no model chosen: pass --model PROVIDER/MODEL or set a default with \
                     `pryx config set defaults.model PROVIDER/MODEL` (or PUT /api/v1/model)"
                        .into(),
                ));
            }
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
                let message = format!(
                    "model {spec:?} does not name a configured provider (configured: {}); use PROVIDER/MODEL \
                     and add providers with `pryx config set providers.NAME.kind openai-compatible`",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
                return Err(if known.is_empty() {
                    SetupError::NotConfigured(message)
                } else {
                    SetupError::Unknown(message)
                });
            }
        },
    };
    let provider =
        config.providers.get(&provider_id).cloned().ok_or_else(|| {
            SetupError::Unknown(format!("provider {provider_id} is not configured"))
        })?;
    let catalog_provider = provider
        .catalog_id
        .clone()
        .unwrap_or_else(|| provider_id.clone());
    let resolved = catalog.resolve(&format!("{catalog_provider}/{model}"));
    let mut info = resolved.info;
    let mut warning = resolved.warning;
    info.provider = provider_id.clone();
    info.id = model;
    // A model served on this machine (Ollama, LM Studio, vLLM) is free and rarely in the
    // catalog: no "unknown model" warning on every run, and its cost is a known zero.
    if warning.is_some() && provider.base_url.as_deref().is_some_and(is_local_url) {
        warning = None;
        info.cost = pryx_catalog::Cost {
            known: true,
            ..pryx_catalog::Cost::default()
        };
    }
    Ok(ModelChoice {
        provider_id,
        provider,
        info,
        warning,
    })
}

/// A base URL on this machine (no key needed, no cost).
pub fn is_local_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Builds the provider client; the API key comes from the config's secret reference, else from
/// the provider's usual environment variables (catalog `env`). Returns the key too, so callers can
/// mask it wherever arguments or results are recorded.
pub fn build_provider(
    dir: &DataDir,
    catalog: &Catalog,
    choice: &ModelChoice,
) -> Result<(Arc<dyn Provider>, Option<String>), SetupError> {
    build_with(dir, catalog, choice, pryx_llm::RetryPolicy::default())
}

/// As [`build_provider`], for a connection test: one attempt, no retries, so the answer is what
/// the provider said, at once.
pub fn build_probe_provider(
    dir: &DataDir,
    catalog: &Catalog,
    choice: &ModelChoice,
) -> Result<(Arc<dyn Provider>, Option<String>), SetupError> {
    build_with(dir, catalog, choice, pryx_llm::RetryPolicy::none())
}

fn build_with(
    dir: &DataDir,
    catalog: &Catalog,
    choice: &ModelChoice,
    policy: pryx_llm::RetryPolicy,
) -> Result<(Arc<dyn Provider>, Option<String>), SetupError> {
    let p = &choice.provider;
    let catalog_id = p
        .catalog_id
        .clone()
        .unwrap_or_else(|| choice.provider_id.clone());
    let catalog_provider = catalog.provider(&catalog_id);
    let key = match &p.api_key {
        Some(reference) => {
            let store = SecretStore::open(dir)
                .map_err(|e| SetupError::Failed(format!("cannot open the secret store: {e}")))?;
            let secret = store.resolve(reference).map_err(|e| {
                SetupError::Failed(format!(
                    "cannot read the API key of provider {} ({reference}): {e}",
                    choice.provider_id
                ))
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
    settings.stream_idle_timeout = Duration::from_millis(p.stream_idle_timeout_ms);
    settings.call_timeout = Duration::from_millis(p.call_timeout_ms);
    let provider = pryx_llm::build_provider_with(settings, policy).map_err(|e| {
        SetupError::Failed(format!(
            "cannot set up provider {}: {e}",
            choice.provider_id
        ))
    })?;
    Ok((provider, key))
}
