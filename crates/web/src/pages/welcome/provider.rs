//! Step 2: an LLM provider — a preset (or any OpenAI-compatible server), its key (straight to
//! the secret store, never back into a page), a live test call, and the default model from
//! what the provider lists and the catalog knows, with prices and context windows.

use super::{ACTOR, FieldErrors, Progress};
use crate::Web;
use crate::page::{Layout, Viewer, render, see_other};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use pryx_core::setup::is_local_url;
use pryx_protocol::api::{ModelView, ProviderPreset, ProviderTestReport, PutProvider};
use serde::Deserialize;
use std::sync::Arc;

/// The preset choice for any other OpenAI-compatible server (base URL required).
pub const CUSTOM: &str = "openai-compatible";

#[derive(Template)]
#[template(path = "welcome_provider.html")]
pub(super) struct Page {
    layout: Layout,
    progress: Progress,
    presets: Vec<ProviderPreset>,
    /// The chosen preset id, or [`CUSTOM`].
    preset: String,
    base_url: String,
    /// A key is stored for the provider being set up (the field may stay empty).
    key_saved: bool,
    models: Vec<ModelOption>,
    model_custom: String,
    test: Option<TestView>,
    errors: FieldErrors,
}

impl Page {
    fn selected(&self) -> Option<&ProviderPreset> {
        self.presets.iter().find(|p| p.id == self.preset)
    }

    /// What the key field's hint says for the chosen preset.
    fn key_hint(&self) -> String {
        if self.key_saved {
            return "A key is already stored for this provider; leave this empty to keep it."
                .into();
        }
        match self.selected() {
            Some(p) if !p.needs_key => "Not needed for a server on this machine.".into(),
            Some(p) => match &p.env_found {
                Some(var) => format!("Leave empty to use ${var} from the gateway's environment."),
                None => {
                    "Stored in Pryx's secret store, never in config.json, and never shown again."
                        .into()
                }
            },
            None => "Only if your server asks for one; any value works for a local mock.".into(),
        }
    }

    fn base_url_hint(&self) -> String {
        match self.selected() {
            Some(p) => format!("Leave empty for {}.", p.base_url),
            None => "Required: the server's API root, usually ending in /v1, e.g. http://127.0.0.1:8080/v1.".into(),
        }
    }
}

/// An entry of the model list.
pub(super) struct ModelOption {
    /// The model id as the provider knows it.
    value: String,
    label: String,
    selected: bool,
    /// Only the preset's suggestion (scripts replace it when the preset changes).
    suggested: bool,
}

/// What the live test found.
pub(super) struct TestView {
    ok: bool,
    model: String,
    latency_ms: u64,
    tokens_in: u64,
    tokens_out: u64,
    cost: String,
    error: Option<String>,
}

impl TestView {
    fn from_report(r: ProviderTestReport) -> TestView {
        TestView {
            ok: r.ok,
            model: r.model,
            latency_ms: r.latency_ms,
            tokens_in: r.tokens_in,
            tokens_out: r.tokens_out,
            cost: if r.cost_usd == 0.0 {
                "$0".to_string()
            } else {
                format!("${:.6}", r.cost_usd)
            },
            error: r.error.map(|e| match r.error_code {
                Some(code) => format!("{e} ({})", code.as_str()),
                None => e,
            }),
        }
    }
}

/// A model's entry in the list: its name, price per million tokens and context window.
fn label(m: &ModelView, local: bool) -> String {
    let price = if local {
        "free (this machine)".to_string()
    } else if m.input_cost == 0.0 && m.output_cost == 0.0 {
        "no price listed".to_string()
    } else {
        format!(
            "${} in / ${} out per Mtok",
            money(m.input_cost),
            money(m.output_cost)
        )
    };
    let context = if m.context >= 1000 {
        format!("{}k context", m.context / 1000)
    } else if m.context > 0 {
        format!("{} context", m.context)
    } else {
        "context unknown".to_string()
    };
    let name = m.id.split_once('/').map_or(m.id.as_str(), |(_, n)| n);
    if m.name.is_empty() || m.name == name || m.name == m.id {
        format!("{name} — {price}, {context}")
    } else {
        format!("{name} ({}) — {price}, {context}", m.name)
    }
}

fn money(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() { "0".into() } else { s.into() }
}

/// The provider the step shows: the default model's, else the first configured one.
fn current(web: &Web) -> Option<String> {
    let snap = web.core.settings();
    let config = &snap.config;
    config
        .defaults
        .model
        .as_deref()
        .and_then(|m| m.split_once('/'))
        .map(|(p, _)| p.to_string())
        .filter(|p| config.providers.contains_key(p))
        .or_else(|| config.providers.keys().next().cloned())
}

/// The provider id a choice is configured under.
fn provider_id(preset: &str, base_url: &str) -> String {
    if preset != CUSTOM {
        preset.to_string()
    } else if is_local_url(base_url) {
        "local".to_string()
    } else {
        "custom".to_string()
    }
}

/// The models of provider `id` for the list, `chosen` selected (it is added if missing).
async fn model_options(web: &Web, id: &str, chosen: Option<&str>) -> Vec<ModelOption> {
    let local = web.core.provider(id).is_ok_and(|p| p.local);
    let listed = web.core.models(Some(id)).await.unwrap_or_default();
    let mut out: Vec<ModelOption> = listed
        .iter()
        .map(|m| {
            let value =
                m.id.strip_prefix(&format!("{id}/"))
                    .unwrap_or(&m.id)
                    .to_string();
            ModelOption {
                selected: chosen.map_or(m.default, |c| c == value),
                label: label(m, local),
                value,
                suggested: false,
            }
        })
        .collect();
    if let Some(c) = chosen.filter(|c| !c.is_empty())
        && !out.iter().any(|o| o.value == c)
    {
        out.insert(
            0,
            ModelOption {
                value: c.to_string(),
                label: c.to_string(),
                selected: true,
                suggested: false,
            },
        );
    }
    out
}

pub async fn show(web: &Web, viewer: &Viewer) -> Response {
    let presets = web.core.provider_presets().presets;
    let page = match current(web) {
        Some(id) => {
            let view = web.core.provider(&id).ok();
            let preset = if presets.iter().any(|p| p.id == id) {
                id.clone()
            } else {
                CUSTOM.to_string()
            };
            let default = web
                .core
                .settings()
                .config
                .defaults
                .model
                .as_deref()
                .and_then(|m| m.strip_prefix(&format!("{id}/")))
                .map(str::to_string);
            Page {
                layout: Layout::new(web, viewer, "Welcome: provider", "welcome"),
                progress: Progress::new(web, 2),
                preset,
                base_url: view
                    .as_ref()
                    .and_then(|v| v.base_url.clone())
                    .unwrap_or_default(),
                key_saved: view.is_some_and(|v| v.key_ok),
                models: model_options(web, &id, default.as_deref()).await,
                presets,
                model_custom: String::new(),
                test: None,
                errors: FieldErrors::default(),
            }
        }
        None => {
            let preset = presets
                .iter()
                .find(|p| p.env_found.is_some())
                .or_else(|| presets.first())
                .map_or_else(|| CUSTOM.to_string(), |p| p.id.clone());
            let models = presets
                .iter()
                .find(|p| p.id == preset)
                .and_then(|p| p.suggested_model.clone())
                .map(|m| {
                    vec![ModelOption {
                        label: format!("{m} (suggested)"),
                        value: m,
                        selected: true,
                        suggested: true,
                    }]
                })
                .unwrap_or_default();
            Page {
                layout: Layout::new(web, viewer, "Welcome: provider", "welcome"),
                progress: Progress::new(web, 2),
                presets,
                preset,
                base_url: String::new(),
                key_saved: false,
                models,
                model_custom: String::new(),
                test: None,
                errors: FieldErrors::default(),
            }
        }
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
pub struct Form {
    #[serde(default)]
    preset: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    model_custom: String,
    /// `test` or `save`.
    #[serde(default)]
    action: String,
}

/// What a posted form asks for, checked; errors name their field.
#[derive(Debug)]
struct Checked {
    id: String,
    body: PutProvider,
    model: Option<String>,
}

fn check(form: &Form, presets: &[ProviderPreset], key_saved: bool) -> Result<Checked, FieldErrors> {
    let mut errors = FieldErrors::default();
    let preset = form.preset.trim();
    let known = presets.iter().find(|p| p.id == preset);
    if known.is_none() && preset != CUSTOM {
        errors.set("preset", "Choose a provider from the list.");
    }
    let base_url = form.base_url.trim();
    if base_url.is_empty() {
        if preset == CUSTOM {
            errors.set(
                "base_url",
                "Give the server's address, e.g. http://127.0.0.1:8080/v1.",
            );
        }
    } else if !url_ok(base_url) {
        errors.set(
            "base_url",
            "Give an http:// or https:// address with a host and no spaces, e.g. http://127.0.0.1:8080/v1.",
        );
    }
    let key = form.key.trim();
    if !key.is_empty() && (key.len() > 4096 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b))) {
        errors.set(
            "key",
            "An API key is 1–4096 printable characters without spaces; paste it again.",
        );
    }
    let env = known.and_then(|p| p.env_found.clone());
    let local = if base_url.is_empty() {
        known.is_some_and(|p| p.local)
    } else {
        is_local_url(base_url)
    };
    if key.is_empty() && !key_saved && env.is_none() && known.is_some_and(|p| p.needs_key) && !local
    {
        errors.set(
            "key",
            format!(
                "{} needs an API key; paste it here.",
                known.map_or("This provider", |p| p.name.as_str())
            ),
        );
    }
    let model = match form.model_custom.trim() {
        "" => form.model.trim(),
        typed => typed,
    };
    if !model.is_empty() && !model_name(model) {
        errors.set(
            "model",
            "A model id is the provider's name for it (letters, digits and . _ : @ + / -), at most 256 characters.",
        );
    }
    if form.action != "test" && model.is_empty() && !errors.has("preset") {
        errors.set(
            "model",
            "Choose the default model (test the connection to list them, or type an id).",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let custom = preset == CUSTOM;
    Ok(Checked {
        id: provider_id(preset, base_url),
        body: PutProvider {
            preset: (!custom).then(|| preset.to_string()),
            kind: custom.then(|| CUSTOM.to_string()),
            base_url: (!base_url.is_empty()).then(|| base_url.to_string()),
            api_key: (!key.is_empty()).then(|| key.to_string()),
            api_key_env: if key.is_empty() && !key_saved {
                env
            } else {
                None
            },
            default_model: (!model.is_empty()).then(|| model.to_string()),
        },
        model: (!model.is_empty()).then(|| model.to_string()),
    })
}

/// What the API accepts as a base URL, in short: http(s), a host, no spaces.
fn url_ok(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    url.len() <= 2000
        && !host.is_empty()
        && !host.starts_with(':')
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A model id as the provider knows it (the API's rule).
fn model_name(m: &str) -> bool {
    m.len() <= 256
        && m.starts_with(|c: char| c.is_ascii_alphanumeric())
        && m.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '+' | '/' | '-')
        })
}

pub async fn save(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let presets = web.core.provider_presets().presets;
    let id = provider_id(form.preset.trim(), form.base_url.trim());
    let key_saved = web.core.provider(&id).is_ok_and(|p| p.key_ok);
    let checked = match check(&form, &presets, key_saved) {
        Ok(c) => c,
        Err(errors) => {
            let page = again(&web, &viewer, &form, presets, key_saved, None, errors).await;
            return render(StatusCode::BAD_REQUEST, &page);
        }
    };
    if let Err(e) = web.core.put_provider(&checked.id, &checked.body, ACTOR) {
        let mut errors = FieldErrors::default();
        errors.set("preset", format!("Could not save the provider: {e}"));
        let page = again(&web, &viewer, &form, presets, key_saved, None, errors).await;
        return render(StatusCode::BAD_REQUEST, &page);
    }
    let key_saved = web.core.provider(&checked.id).is_ok_and(|p| p.key_ok);
    if form.action == "test" {
        let (test, errors) = match web
            .core
            .test_provider(&checked.id, checked.model.as_deref())
            .await
        {
            Ok(report) => (Some(TestView::from_report(report)), FieldErrors::default()),
            Err(e) => {
                let mut errors = FieldErrors::default();
                errors.set("test", format!("The test could not run: {e}"));
                (None, errors)
            }
        };
        let page = again(&web, &viewer, &form, presets, key_saved, test, errors).await;
        return render(StatusCode::OK, &page);
    }
    let model = checked.model.unwrap_or_default();
    match web
        .core
        .set_default_model(&format!("{}/{model}", checked.id), ACTOR)
    {
        Ok(full) => {
            tracing::info!(provider = %checked.id, model = %full, by = ACTOR, "provider set up in the onboarding wizard");
            see_other("/welcome?step=3")
        }
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.set("model", format!("Could not make it the default: {e}"));
            let page = again(&web, &viewer, &form, presets, key_saved, None, errors).await;
            render(StatusCode::BAD_REQUEST, &page)
        }
    }
}

/// The step again after a post, with what was typed — except the key, which never goes back
/// into a page.
async fn again(
    web: &Web,
    viewer: &Viewer,
    form: &Form,
    presets: Vec<ProviderPreset>,
    key_saved: bool,
    test: Option<TestView>,
    errors: FieldErrors,
) -> Page {
    let id = provider_id(form.preset.trim(), form.base_url.trim());
    let chosen = match form.model_custom.trim() {
        "" => form.model.trim(),
        typed => typed,
    };
    // Nothing named: the model a successful test used (the first the provider listed).
    let tested = test
        .as_ref()
        .filter(|t| t.ok)
        .and_then(|t| t.model.strip_prefix(&format!("{id}/")))
        .map(str::to_string);
    let preferred = if chosen.is_empty() {
        tested
    } else {
        Some(chosen.to_string())
    };
    let models = if web.core.provider(&id).is_ok() {
        model_options(web, &id, preferred.as_deref()).await
    } else if chosen.is_empty() {
        Vec::new()
    } else {
        vec![ModelOption {
            value: chosen.to_string(),
            label: chosen.to_string(),
            selected: true,
            suggested: false,
        }]
    };
    Page {
        layout: Layout::new(web, viewer, "Welcome: provider", "welcome"),
        progress: Progress::new(web, 2),
        presets,
        preset: form.preset.trim().to_string(),
        base_url: form.base_url.trim().to_string(),
        key_saved,
        models,
        model_custom: String::new(),
        test,
        errors,
    }
}

#[cfg(test)]
#[path = "provider_tests.rs"]
mod tests;
