//! Provider management for every surface: presets, listing, setting up (the key goes to the
//! secret store, never into `config.json` nor back out), removing and a live test. A running
//! core uses a change from its next turn.

use crate::core::Core;
use crate::error::CoreError;
use crate::setup::{self, SetupError};
use pryx_config::{Edit, Secret, SecretStore};
use pryx_protocol::api::{ProviderTestReport, ProviderView, PutProvider};
use serde_json::{Map, Value};

mod models;
mod presets;

pub(crate) use models::Discovery;

/// Provider ids: the config's key rule.
fn check_id(id: &str) -> Result<(), CoreError> {
    if pryx_config::is_name(id) {
        Ok(())
    } else {
        Err(SetupError::Invalid(format!(
            "provider id {id:?} is not valid; use 1–64 letters, digits, '.', '_' or '-'"
        ))
        .into())
    }
}

/// The secret-store name of a provider's key.
fn secret_name(id: &str) -> String {
    format!("provider.{id}.api_key")
}

use crate::setup::is_local_url as is_local;

impl Core {
    /// The configured providers (keys never included).
    pub fn providers(&self) -> Vec<ProviderView> {
        let snap = self.settings();
        let secrets = SecretStore::open(self.dir()).ok();
        snap.config
            .providers
            .iter()
            .map(|(id, p)| view(id, p, secrets.as_ref()))
            .collect()
    }

    pub fn provider(&self, id: &str) -> Result<ProviderView, CoreError> {
        let snap = self.settings();
        let p = configured(&snap, id)?;
        Ok(view(id, p, SecretStore::open(self.dir()).ok().as_ref()))
    }

    /// Creates or replaces provider `id`. A key given here goes to the secret store (under
    /// `provider.<id>.api_key`) and config keeps only the reference.
    pub fn put_provider(
        &self,
        id: &str,
        body: &PutProvider,
        actor: &str,
    ) -> Result<ProviderView, CoreError> {
        check_id(id)?;
        let preset = match &body.preset {
            Some(name) => Some(presets::find(name).ok_or_else(|| {
                SetupError::Unknown(format!(
                    "unknown preset {name:?}; presets: {}",
                    presets::ids().join(", ")
                ))
            })?),
            None => None,
        };
        // Most providers speak the OpenAI wire format; that is the default without a preset.
        let kind = body
            .kind
            .clone()
            .or_else(|| preset.map(|p| p.kind.to_string()))
            .unwrap_or_else(|| "openai-compatible".to_string());
        let mut entry = Map::new();
        entry.insert("kind".into(), Value::String(kind));
        if let Some(url) = body
            .base_url
            .clone()
            .or_else(|| preset.map(|p| p.base_url.to_string()))
        {
            entry.insert("base_url".into(), Value::String(url));
        }
        if let Some(m) = body.default_model.clone().filter(|m| !m.trim().is_empty()) {
            entry.insert("default_model".into(), Value::String(m));
        }
        if let Some(c) = preset.and_then(|p| p.catalog_id) {
            entry.insert("catalog_id".into(), Value::String(c.into()));
        }
        let key_ref = match (&body.api_key, &body.api_key_env) {
            (Some(key), _) => Some(self.store_provider_key(id, key)?),
            (None, Some(var)) => Some(format!("env:{var}")),
            // Replacing a provider keeps its key unless a new one is given.
            (None, None) => self
                .settings()
                .config
                .providers
                .get(id)
                .and_then(|p| p.api_key.clone()),
        };
        if let Some(r) = key_ref {
            entry.insert("api_key".into(), Value::String(r));
        }
        self.write_config(&[Edit::Set(
            format!("providers[\"{id}\"]"),
            Value::Object(entry),
        )])?;
        self.audit_provider(actor, "provider.configured", id)?;
        self.provider(id)
    }

    /// Puts provider `id`'s key in the secret store; the answer is the reference config keeps
    /// (`secret:provider.<id>.api_key`). The key itself is never written anywhere else.
    pub fn store_provider_key(&self, id: &str, key: &str) -> Result<String, CoreError> {
        check_id(id)?;
        let key = key.trim();
        if key.is_empty() {
            return Err(SetupError::Invalid("the API key is empty".into()).into());
        }
        let store = SecretStore::open(self.dir())
            .map_err(|e| SetupError::Failed(format!("cannot open the secret store: {e}")))?;
        store
            .set(&secret_name(id), &Secret::new(key))
            .map_err(|e| SetupError::Failed(format!("cannot store the key: {e}")))?;
        Ok(format!("secret:{}", secret_name(id)))
    }

    /// Removes provider `id` and its stored key.
    pub fn delete_provider(&self, id: &str, actor: &str) -> Result<(), CoreError> {
        let snap = self.settings();
        if !snap.config.providers.contains_key(id) {
            return Err(unknown(id, &snap.config));
        }
        self.write_config(&[Edit::Unset(format!("providers[\"{id}\"]"))])?;
        if let Ok(store) = SecretStore::open(self.dir()) {
            let _ = store.remove(&secret_name(id));
        }
        self.audit_provider(actor, "provider.removed", id)
    }

    /// One tiny real call to provider `id` on `model` (default: its default model, else the
    /// core's default model when it is this provider's). The provider's own failure is a report
    /// with `ok: false`, not an error.
    pub async fn test_provider(
        &self,
        id: &str,
        model: Option<&str>,
    ) -> Result<ProviderTestReport, CoreError> {
        let snap = self.settings();
        let p = configured(&snap, id)?;
        let named = model
            .map(str::to_string)
            .or_else(|| p.default_model.clone())
            .or_else(|| {
                snap.config
                    .defaults
                    .model
                    .as_deref()
                    .and_then(|d| d.strip_prefix(&format!("{id}/")))
                    .map(str::to_string)
            });
        let name = match named {
            Some(m) => m,
            // No model chosen yet: the first one the provider lists, else listing its models
            // is the test (reachability and the key, without a model call).
            None => match self.list_now(id).await.into_iter().next() {
                Some(m) => m,
                None => return self.test_by_listing(id).await,
            },
        };
        let full = format!("{id}/{name}");
        let (dir, config) = (self.dir().clone(), snap.config.clone());
        let catalog = snap.catalog(&dir)?;
        let choice = setup::choose_model(&config, &catalog, Some(&full))?;
        // A key that cannot be read is what the test found, not a bad request.
        let (client, _key) = match setup::build_probe_provider(&dir, &catalog, &choice) {
            Ok(built) => built,
            Err(e) => return Ok(failed_report(full, e.code(), e.to_string())),
        };
        Ok(match setup::probe(client.as_ref(), &choice.info).await {
            Ok(probe) => ProviderTestReport {
                ok: true,
                model: full,
                latency_ms: u64::try_from(probe.total.as_millis()).unwrap_or(u64::MAX),
                tokens_in: probe.usage.total_input(),
                tokens_out: probe.usage.output,
                cost_usd: probe.cost_usd.unwrap_or(0.0),
                error_code: None,
                error: None,
            },
            Err(e) => failed_report(full, e.code(), e.to_string()),
        })
    }

    /// Tests a provider without a model by asking it for its model list.
    async fn test_by_listing(&self, id: &str) -> Result<ProviderTestReport, CoreError> {
        let client = match self.client_of(id) {
            Ok(c) => c,
            Err(CoreError::Setup(e)) => {
                return Ok(failed_report(String::new(), e.code(), e.to_string()));
            }
            Err(e) => return Err(e),
        };
        let started = std::time::Instant::now();
        let listed = client.list_models().await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (ok, error_code, error) = match listed {
            Ok(_) => (true, None, None),
            Err(e) => (
                false,
                Some(e.code()),
                Some(format!(
                    "no model was named, so its model list was asked for, and that failed: {e}; \
                     check the address (it usually ends in /v1) or name a model to test"
                )),
            ),
        };
        Ok(ProviderTestReport {
            ok,
            model: String::new(),
            latency_ms,
            tokens_in: 0,
            tokens_out: 0,
            cost_usd: 0.0,
            error_code,
            error,
        })
    }

    fn audit_provider(&self, actor: &str, action: &str, id: &str) -> Result<(), CoreError> {
        self.store().append_audit(&pryx_store::AuditEntry {
            actor: actor.into(),
            action: action.into(),
            resource_type: "provider".into(),
            resource_id: Some(id.to_string()),
            session_id: None,
            details: Value::Null,
            outcome: "success".into(),
        })?;
        Ok(())
    }
}

/// Provider `id` of the settings, or the "not configured" error listing the configured ones.
fn configured<'a>(
    snap: &'a crate::Snapshot,
    id: &str,
) -> Result<&'a pryx_config::Provider, CoreError> {
    snap.config
        .providers
        .get(id)
        .ok_or_else(|| unknown(id, &snap.config))
}

fn unknown(id: &str, config: &pryx_config::Config) -> CoreError {
    let known: Vec<&str> = config.providers.keys().map(String::as_str).collect();
    SetupError::Unknown(format!(
        "provider {id:?} is not configured; configured: {}",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
    .into()
}

fn view(id: &str, p: &pryx_config::Provider, secrets: Option<&SecretStore>) -> ProviderView {
    let key_ok = match &p.api_key {
        Some(r) => secrets.is_some_and(|s| s.resolve(r).is_ok()),
        None => false,
    };
    let kind = match p.kind {
        pryx_config::ProviderKind::OpenAiCompatible => "openai-compatible",
        pryx_config::ProviderKind::Anthropic => "anthropic",
    };
    ProviderView {
        id: id.to_string(),
        kind: kind.to_string(),
        base_url: p.base_url.clone(),
        default_model: p.default_model.clone(),
        key_ref: p.api_key.clone(),
        key_ok,
        local: p.base_url.as_deref().is_some_and(is_local),
    }
}

/// The report of a test that failed before any usage was measured: the provider answered with
/// an error, or its client could not be built (a key that cannot be read, an unusable address).
fn failed_report(
    model: String,
    code: pryx_protocol::ErrorCode,
    error: String,
) -> ProviderTestReport {
    ProviderTestReport {
        ok: false,
        model,
        latency_ms: 0,
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: 0.0,
        error_code: Some(code),
        error: Some(error),
    }
}

#[cfg(test)]
mod tests {
    use crate::setup::is_local_url as is_local;

    #[test]
    fn local_means_loopback() {
        for yes in [
            "http://127.0.0.1:11434/v1",
            "http://localhost:1234/v1",
            "http://[::1]:8000/v1",
        ] {
            assert!(is_local(yes), "{yes}");
        }
        for no in [
            "https://api.openai.com/v1",
            "http://10.0.0.2:8000/v1",
            "not a url",
        ] {
            assert!(!is_local(no), "{no}");
        }
    }
}
