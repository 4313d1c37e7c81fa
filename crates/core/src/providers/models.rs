//! The models of the configured providers: what each lists itself, then the catalog's.

use super::{configured, unknown};
use crate::core::Core;
use crate::error::CoreError;
use crate::setup;
use pryx_protocol::api::ModelView;
use std::collections::HashMap;

/// How long the models a provider listed are reused.
const LISTED_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Models providers listed, per provider, with when and under which settings generation.
#[derive(Default)]
pub(crate) struct Discovery {
    listed: std::sync::Mutex<HashMap<String, Listed>>,
}

/// One provider's answer: when, under which settings generation, which ids.
struct Listed {
    at: std::time::Instant,
    generation: u64,
    ids: Vec<String>,
}

impl Discovery {
    fn get(&self, id: &str, generation: u64) -> Option<Vec<String>> {
        let listed = self.listed.lock().unwrap_or_else(|e| e.into_inner());
        listed
            .get(id)
            .filter(|l| l.generation == generation && l.at.elapsed() < LISTED_TTL)
            .map(|l| l.ids.clone())
    }

    fn put(&self, id: &str, generation: u64, ids: Vec<String>) {
        let mut listed = self.listed.lock().unwrap_or_else(|e| e.into_inner());
        let at = std::time::Instant::now();
        listed.insert(
            id.to_string(),
            Listed {
                at,
                generation,
                ids,
            },
        );
    }
}

impl Core {
    /// Models of the configured providers (or of one), the default first: the ones each
    /// OpenAI-compatible provider lists itself (`GET …/models`, reused for a minute), then the
    /// catalog's. Models served on this machine cost nothing.
    pub async fn models(&self, provider: Option<&str>) -> Result<Vec<ModelView>, CoreError> {
        let snap = self.settings();
        if let Some(id) = provider
            && !snap.config.providers.contains_key(id)
        {
            return Err(unknown(id, &snap.config));
        }
        let wanted: Vec<String> = snap
            .config
            .providers
            .keys()
            .filter(|id| provider.is_none_or(|f| f == id.as_str()))
            .cloned()
            .collect();
        let listed = futures_util::future::join_all(wanted.iter().map(|id| self.listed(id))).await;
        let listed: HashMap<String, Vec<String>> = wanted.into_iter().zip(listed).collect();
        let provider = provider.map(str::to_string);
        self.blocking(move |core| core.model_views(provider.as_deref(), &listed))
            .await
    }

    /// What provider `id` lists, from the cache when fresh; a provider that cannot list (or is
    /// down) lists nothing, and is asked again next time.
    pub(super) async fn listed(&self, id: &str) -> Vec<String> {
        let snap = self.settings();
        if let Some(hit) = self.discovery().get(id, snap.generation) {
            return hit;
        }
        self.list_now(id).await
    }

    /// Asks provider `id` for its models now (and keeps the answer for [`Core::listed`]).
    pub(super) async fn list_now(&self, id: &str) -> Vec<String> {
        let snap = self.settings();
        let Some(p) = snap.config.providers.get(id) else {
            return Vec::new();
        };
        if p.kind != pryx_config::ProviderKind::OpenAiCompatible {
            return Vec::new();
        }
        let client = self.client_of(id);
        let listed = match client {
            Ok(c) => c.list_models().await,
            Err(e) => {
                tracing::debug!(provider = %id, error = %e, "cannot list models");
                return Vec::new();
            }
        };
        match listed {
            Ok(ids) => {
                self.discovery().put(id, snap.generation, ids.clone());
                ids
            }
            Err(e) => {
                tracing::debug!(provider = %id, error = %e, "provider does not list models");
                Vec::new()
            }
        }
    }

    /// A client of provider `id` that is not tied to a model (for listing its models).
    pub(super) fn client_of(
        &self,
        id: &str,
    ) -> Result<std::sync::Arc<dyn pryx_llm::Provider>, CoreError> {
        let snap = self.settings();
        let p = configured(&snap, id)?;
        let catalog = snap.catalog(self.dir())?;
        let choice = setup::ModelChoice {
            provider_id: id.to_string(),
            provider: p.clone(),
            info: pryx_catalog::ModelInfo::unknown(id, ""),
            warning: None,
        };
        Ok(setup::build_probe_provider(self.dir(), &catalog, &choice)?.0)
    }

    fn model_views(
        &self,
        provider: Option<&str>,
        listed: &HashMap<String, Vec<String>>,
    ) -> Result<Vec<ModelView>, CoreError> {
        let snap = self.settings();
        let config = &snap.config;
        let catalog = snap.catalog(self.dir())?;
        let default = self.profile(None).ok().and_then(|p| p.model);
        let mut out: Vec<ModelView> = Vec::new();
        for (id, p) in config
            .providers
            .iter()
            .filter(|(id, _)| provider.is_none_or(|f| f == *id))
        {
            let mut names: Vec<String> = Vec::new();
            if let Some(d) = default
                .as_deref()
                .and_then(|d| d.strip_prefix(&format!("{id}/")))
            {
                names.push(d.to_string());
            }
            names.extend(p.default_model.clone());
            names.extend(listed.get(id).into_iter().flatten().cloned());
            names.extend(
                catalog
                    .models(Some(p.catalog_id(id)))
                    .into_iter()
                    .map(|m| m.id),
            );
            let mut seen = std::collections::HashSet::new();
            for name in names.into_iter().filter(|n| seen.insert(n.clone())) {
                let full = format!("{id}/{name}");
                let Ok(choice) = setup::choose_model(config, &catalog, Some(&full)) else {
                    continue;
                };
                let info = choice.info;
                out.push(ModelView {
                    default: default.as_deref() == Some(full.as_str()),
                    id: full,
                    provider: id.clone(),
                    name: if info.name.is_empty() {
                        name.clone()
                    } else {
                        info.name.clone()
                    },
                    context: info.context,
                    output: info.output,
                    tool_call: info.tool_call,
                    reasoning: info.reasoning,
                    input_cost: info.cost.input,
                    output_cost: info.cost.output,
                });
            }
        }
        out.sort_by_key(|m| !m.default);
        Ok(out)
    }
}
