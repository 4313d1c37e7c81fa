//! One settings section (`/settings/{section}`): the keys under one top-level name of
//! `config.json`, and its collections (providers, agents, channels, ...) as one form per entry
//! plus an "add" form. Everything is generated from the schema, saved through the one config
//! writer against the revision the form was drawn at, and refused values are shown beside their
//! fields with the config crate's own message.

use super::fields::{self, FieldView, Posted};
use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pryx_config::keys::{self, PLACEHOLDER};
use pryx_config::{ConfigError, Edit};
use pryx_core::CoreError;
use pryx_protocol::api::{ConfigCollection, ConfigKey, ConfigSchema, ProviderTestReport};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A section's title and what it is for; a top-level key missing here still gets a page.
const ABOUT: &[(&str, &str, &str)] = &[
    (
        "providers",
        "Providers",
        "Where model calls go. A key is stored in the secret store and never shown again.",
    ),
    (
        "defaults",
        "Defaults",
        "The model, workspace and policy of new sessions.",
    ),
    (
        "agent",
        "Limits",
        "Steps per turn, budgets, approvals and context for every agent.",
    ),
    (
        "agents",
        "Agents",
        "Agent profiles: each with its workspace, model, fallbacks, policy and budgets.",
    ),
    (
        "models",
        "Models",
        "Catalog refresh and per-model overrides of prices and limits.",
    ),
    (
        "channels",
        "Channels",
        "Telegram bots and webhooks; the Channels page shows their status.",
    ),
    (
        "skills",
        "Skills",
        "Which SKILL.md skills may be used, and their settings.",
    ),
    ("mcp", "MCP", "MCP servers and their master switch."),
    (
        "telemetry",
        "Telemetry",
        "Export to an OpenTelemetry collector. Off by default: nothing leaves the machine.",
    ),
    ("updates", "Updates", "Release channel and update checks."),
    ("ui", "Interface", "Theme and port."),
];

/// The sections, in the schema's order: `(name, title, about)`.
pub fn sections(schema: &ConfigSchema) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for k in &schema.keys {
        let top = k.key.split('.').next().unwrap_or_default();
        if out.iter().any(|(n, ..)| n == top) {
            continue;
        }
        let (title, about) = ABOUT
            .iter()
            .find(|(n, ..)| *n == top)
            .map_or((top.to_string(), String::new()), |(_, t, a)| {
                ((*t).to_string(), (*a).to_string())
            });
        out.push((top.to_string(), title, about));
    }
    out
}

/// One form: the section's own keys, or one entry of a collection.
pub struct FormView {
    /// Anchor and element id.
    pub anchor: String,
    /// The entry's name (for an entry form).
    pub entry: Option<String>,
    pub fields: Vec<FieldView>,
    /// The entry's key path, for its Remove button.
    pub remove: Option<String>,
    /// A provider entry: the write-only key field and the Test button.
    pub provider: bool,
    pub test: Option<ProviderTestReport>,
    /// A provider's key now: whether it is fine, and in words.
    pub key_note: Option<(bool, String)>,
    pub saved: bool,
}

/// A collection: its entries' forms and the add form.
pub struct CollectionView {
    pub key: String,
    pub anchor: String,
    pub entries: Vec<FormView>,
    /// The entry's required keys, asked when adding one (`new:<field>`).
    pub required: Vec<FieldView>,
    pub new_id: String,
    pub id_hint: String,
    pub id_error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_section.html")]
struct SectionPage {
    layout: Layout,
    name: String,
    title: String,
    about: String,
    sections: Vec<(String, String, String)>,
    revision: u64,
    own: Option<FormView>,
    collections: Vec<CollectionView>,
    /// Shown at the top: a stale save, or problems no field owns.
    stale: bool,
    notes: Vec<String>,
    /// Fields with an error (element id, key), linked from the top of the page.
    fixes: Vec<(String, String)>,
    /// The telemetry section: the export's state and what the current tier would send.
    telemetry: Option<pryx_protocol::api::TelemetryStatus>,
}

/// What a refused or tested POST gives back to the page it redraws.
#[derive(Default)]
pub(super) struct Redraw {
    /// Which form was posted (its anchor).
    pub(super) anchor: String,
    pub(super) posted: BTreeMap<String, String>,
    pub(super) errors: BTreeMap<String, String>,
    pub(super) revision: Option<u64>,
    pub(super) stale: bool,
    pub(super) notes: Vec<String>,
    pub(super) new_id: String,
    pub(super) id_error: Option<String>,
    pub(super) test: Option<(String, ProviderTestReport)>,
    pub(super) saved: Option<String>,
}

#[derive(Deserialize)]
pub struct Shown {
    saved: Option<String>,
}

pub async fn show(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(q): Query<Shown>,
) -> Response {
    let redraw = Redraw {
        saved: q.saved,
        ..Redraw::default()
    };
    page(&web, &viewer, &name, redraw)
}

pub(super) fn page(web: &Web, viewer: &Viewer, name: &str, redraw: Redraw) -> Response {
    let schema = keys::schema();
    let all = sections(&schema);
    let Some((_, title, about)) = all.iter().find(|(n, ..)| n == name).cloned() else {
        return problem(
            web,
            Some(viewer),
            StatusCode::NOT_FOUND,
            "No such settings section",
            "Pick a section from the Settings page.",
        );
    };
    let doc = web.core.config_document();
    let key_ok: BTreeMap<String, (bool, String)> = if name == "providers" {
        web.core
            .providers()
            .into_iter()
            .map(|p| {
                let note = match (&p.key_ref, p.key_ok, p.local) {
                    (Some(r), true, _) => (true, format!("The key ({r}) resolves.")),
                    (Some(r), false, _) => (
                        false,
                        format!(
                            "The key ({r}) does not resolve: its secret or variable is missing."
                        ),
                    ),
                    (None, _, true) => (true, "No key: none needed on this machine.".to_string()),
                    (None, _, false) => (false, "No key is set.".to_string()),
                };
                (p.id, note)
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    let at = |key: &str| lookup(&doc.config, key);
    let in_collection = |k: &ConfigKey| k.key.contains(PLACEHOLDER);
    let own_keys: Vec<&ConfigKey> = schema
        .keys
        .iter()
        .filter(|k| top(&k.key) == name && !in_collection(k))
        .collect();
    let status = if redraw.errors.is_empty() && !redraw.stale && redraw.notes.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let own = (!own_keys.is_empty()).then(|| FormView {
        anchor: format!("{name}-own"),
        entry: None,
        fields: own_keys
            .iter()
            .map(|k| field_of(k, None, &at(&k.key), &redraw))
            .collect(),
        remove: None,
        provider: false,
        test: None,
        key_note: None,
        saved: redraw.saved.as_deref() == Some(&format!("{name}-own")),
    });
    let collections: Vec<CollectionView> = schema
        .collections
        .iter()
        .filter(|c| top(&c.key) == name)
        .map(|c| collection(&schema, c, &at(&c.key), &redraw, &key_ok))
        .collect();
    let fixes = own
        .iter()
        .chain(
            collections
                .iter()
                .flat_map(|c: &CollectionView| c.entries.iter()),
        )
        .flat_map(|f| f.fields.iter())
        .chain(collections.iter().flat_map(|c| c.required.iter()))
        .filter(|f| f.error.is_some())
        .map(|f| (f.id.clone(), f.key.clone()))
        .collect();
    render(
        status,
        &SectionPage {
            layout: Layout::new(web, viewer, format!("Settings: {title}"), "settings"),
            name: name.to_string(),
            title,
            about,
            sections: all,
            revision: redraw.revision.unwrap_or(doc.revision),
            own,
            collections,
            stale: redraw.stale,
            notes: redraw.notes,
            fixes,
            telemetry: (name == "telemetry")
                .then(|| web.core.telemetry_status().ok())
                .flatten(),
        },
    )
}

fn collection(
    schema: &ConfigSchema,
    c: &ConfigCollection,
    current: &Value,
    redraw: &Redraw,
    key_ok: &BTreeMap<String, (bool, String)>,
) -> CollectionView {
    let prefix = format!("{}.{PLACEHOLDER}", c.key);
    let entry_keys: Vec<&ConfigKey> = schema
        .keys
        .iter()
        .filter(|k| k.key == prefix || k.key.starts_with(&format!("{prefix}.")))
        .collect();
    let anchor = format!("c-{}", c.key.replace('.', "-"));
    let providers = c.key == "providers";
    let entries = current
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(id, value)| {
                    let entry_key = keys::concrete(&prefix, id);
                    let form_anchor = format!("e-{}", anchor_of(&entry_key));
                    FormView {
                        fields: entry_keys
                            .iter()
                            .map(|k| {
                                let rest = k.key.strip_prefix(&prefix).unwrap_or_default();
                                let v = if rest.is_empty() {
                                    value.clone()
                                } else {
                                    lookup(value, rest.trim_start_matches('.'))
                                };
                                field_of(k, Some(id), &v, redraw)
                            })
                            .collect(),
                        remove: Some(entry_key),
                        entry: Some(id.clone()),
                        provider: providers,
                        test: redraw
                            .test
                            .as_ref()
                            .filter(|(t, _)| t == id && providers)
                            .map(|(_, r)| r.clone()),
                        key_note: key_ok.get(id).cloned(),
                        saved: redraw.saved.as_deref() == Some(&form_anchor),
                        anchor: form_anchor,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let required = entry_keys
        .iter()
        .filter(|k| k.required && k.key.starts_with(&format!("{prefix}.")))
        .map(|k| {
            let name = format!("new:{}", k.key.rsplit('.').next().unwrap_or_default());
            let mut f = fields::field(
                k,
                None,
                &Value::Null,
                redraw.posted.get(&name).map(String::as_str),
                redraw.errors.get(&name).cloned(),
            );
            f.key = name;
            f.id = format!("{anchor}-{}", f.id);
            f
        })
        .collect();
    CollectionView {
        key: c.key.clone(),
        entries,
        required,
        new_id: if redraw.anchor == anchor {
            redraw.new_id.clone()
        } else {
            String::new()
        },
        id_hint: match c.id {
            pryx_protocol::api::ConfigKind::ModelRef => "provider/model, e.g. openai/gpt-4o".into(),
            _ => "Letters, digits, _ . - (up to 64)".into(),
        },
        id_error: if redraw.anchor == anchor {
            redraw.id_error.clone()
        } else {
            None
        },
        anchor,
    }
}

fn field_of(spec: &ConfigKey, id: Option<&str>, current: &Value, redraw: &Redraw) -> FieldView {
    let key = match id {
        Some(id) => keys::concrete(&spec.key, id),
        None => spec.key.clone(),
    };
    fields::field(
        spec,
        id,
        current,
        redraw.posted.get(&key).map(String::as_str),
        redraw.errors.get(&key).cloned(),
    )
}

pub(super) fn top(key: &str) -> &str {
    key.split('.').next().unwrap_or_default()
}

pub(super) fn anchor_of(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The value at a key path inside `root` (`null` when absent).
pub(super) fn lookup(root: &Value, key: &str) -> Value {
    let Some(segments) = keys::segments(key) else {
        return Value::Null;
    };
    let mut cur = root;
    for s in &segments {
        match cur.get(s.as_str()) {
            Some(v) => cur = v,
            None => return Value::Null,
        }
    }
    cur.clone()
}

/// Saves one form of the section: the fields that changed, as one edit against its revision.
pub async fn save(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(name): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::parse(pairs);
    let anchor = posted.extra("anchor").to_string();
    let doc = web.core.config_document();
    let mut redraw = Redraw {
        anchor: anchor.clone(),
        posted: posted.fields.clone(),
        revision: posted.revision,
        ..Redraw::default()
    };
    // Only keys of this section are taken from this page's forms.
    if let Some(k) = posted.fields.keys().find(|k| top(k) != name) {
        redraw
            .notes
            .push(format!("`{k}` is not a setting of this section."));
        return page(&web, &viewer, &name, redraw);
    }
    let mut edits = match fields::changes(&posted, |k| lookup(&doc.config, k)) {
        Ok(edits) => edits,
        Err(errors) => {
            redraw.errors = errors;
            return page(&web, &viewer, &name, redraw);
        }
    };
    // A provider's new key goes to the secret store; config keeps the reference.
    let new_key = posted.extra("provider_key");
    if !new_key.is_empty() {
        let id = posted.extra("entry");
        match web.core.store_provider_key(id, new_key) {
            Ok(reference) => {
                let key = keys::concrete("providers.<id>.api_key", id);
                edits.retain(|e| e.key() != key);
                edits.push(Edit::Set(key, reference.into()));
            }
            Err(e) => {
                redraw
                    .errors
                    .insert(format!("provider_key:{id}"), e.to_string());
                return page(&web, &viewer, &name, redraw);
            }
        }
    }
    if edits.is_empty() {
        return see_other(&format!("/settings/{name}?saved={anchor}#{anchor}"));
    }
    apply(&web, &viewer, &name, &posted, edits, redraw, &anchor)
}

/// Writes `edits`, or draws the page again with why not.
fn apply(
    web: &Web,
    viewer: &Viewer,
    name: &str,
    posted: &Posted,
    edits: Vec<Edit>,
    mut redraw: Redraw,
    anchor: &str,
) -> Response {
    match web.core.edit_config(
        posted.revision,
        &edits,
        &format!("web:{}", viewer.session.id),
    ) {
        Ok(_) => see_other(&format!("/settings/{name}?saved={anchor}#{anchor}")),
        Err(CoreError::Config(ConfigError::Stale { .. })) => {
            redraw.stale = true;
            page(web, viewer, name, redraw)
        }
        Err(CoreError::Config(ConfigError::Rejected { problems, .. })) => {
            for p in problems {
                match fields::owner(&p.path, posted.fields.keys()) {
                    Some(field) => {
                        redraw.errors.entry(field).or_insert(p.message);
                    }
                    None => redraw.notes.push(p.to_string()),
                }
            }
            page(web, viewer, name, redraw)
        }
        Err(e) => {
            redraw.notes.push(e.to_string());
            page(web, viewer, name, redraw)
        }
    }
}
