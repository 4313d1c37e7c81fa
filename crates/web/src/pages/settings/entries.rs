//! Adding and removing entries of a settings collection, and testing a provider from its entry.

use super::fields::Posted;
use super::section::{Redraw, anchor_of, lookup, page, top};
use crate::Web;
use crate::page::{Viewer, see_other};
use axum::extract::{Path, State};
use axum::response::Response;
use pryx_config::keys::{self, PLACEHOLDER};
use pryx_config::{ConfigError, Edit};
use pryx_core::CoreError;
use serde_json::Value;
use std::sync::Arc;

/// Adds an entry to a collection: its name and its required keys.
pub async fn add(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(name): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::parse(pairs);
    let schema = keys::schema();
    let collection = posted.extra("collection");
    let Some(c) = schema
        .collections
        .iter()
        .find(|c| c.key == collection && top(&c.key) == name)
    else {
        return page(
            &web,
            &viewer,
            &name,
            Redraw {
                notes: vec![format!(
                    "`{collection}` is not a collection of this section."
                )],
                ..Redraw::default()
            },
        );
    };
    let anchor = format!("c-{}", c.key.replace('.', "-"));
    let id = posted.extra("id").to_string();
    let mut redraw = Redraw {
        anchor: anchor.clone(),
        new_id: id.clone(),
        revision: posted.revision,
        posted: posted
            .fields
            .iter()
            .filter(|(k, _)| k.starts_with("new:"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..Redraw::default()
    };
    let doc = web.core.config_document();
    let entry_key = keys::concrete(&format!("{}.{PLACEHOLDER}", c.key), &id);
    if id.is_empty() {
        redraw.id_error = Some("give the new entry a name".into());
        return page(&web, &viewer, &name, redraw);
    }
    if !lookup(&doc.config, &entry_key).is_null() {
        redraw.id_error = Some(format!("`{id}` already exists; edit it below"));
        return page(&web, &viewer, &name, redraw);
    }
    let mut entry = serde_json::Map::new();
    for (field, text) in posted
        .fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("new:")?, v)))
    {
        let key = format!("{entry_key}.{field}");
        match keys::read_field(&key, text) {
            Ok(Some(v)) => {
                entry.insert(field.to_string(), v);
            }
            Ok(None) => {}
            Err(e) => {
                redraw.errors.insert(format!("new:{field}"), e);
            }
        }
    }
    if !redraw.errors.is_empty() {
        return page(&web, &viewer, &name, redraw);
    }
    let value = if entry.is_empty() {
        c.example.clone()
    } else {
        Value::Object(entry)
    };
    let edits = [Edit::Set(entry_key.clone(), value)];
    match web.core.edit_config(
        posted.revision,
        &edits,
        &format!("web:{}", viewer.session.id),
    ) {
        Ok(_) => {
            let at = format!("e-{}", anchor_of(&entry_key));
            see_other(&format!("/settings/{name}?saved={at}#{at}"))
        }
        Err(CoreError::Config(ConfigError::Stale { .. })) => {
            redraw.stale = true;
            page(&web, &viewer, &name, redraw)
        }
        Err(CoreError::Config(ConfigError::Rejected { problems, .. })) => {
            for p in problems {
                if p.path == entry_key {
                    redraw.id_error = Some(p.message);
                } else if let Some(field) = p.path.strip_prefix(&format!("{entry_key}.")) {
                    redraw.errors.insert(format!("new:{field}"), p.message);
                } else {
                    redraw.notes.push(p.to_string());
                }
            }
            page(&web, &viewer, &name, redraw)
        }
        Err(e) => {
            redraw.notes.push(e.to_string());
            page(&web, &viewer, &name, redraw)
        }
    }
}

/// Removes an entry (a provider's stored key goes with it).
pub async fn remove(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(name): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::parse(pairs);
    let key = posted.extra("key").to_string();
    let actor = format!("web:{}", viewer.session.id);
    let redraw = Redraw {
        revision: posted.revision,
        ..Redraw::default()
    };
    if top(&key) != name {
        let mut r = redraw;
        r.notes
            .push(format!("`{key}` is not an entry of this section."));
        return page(&web, &viewer, &name, r);
    }
    let segments = keys::segments(&key).unwrap_or_default();
    let result = match segments.as_slice() {
        [top, id] if top == "providers" => web.core.delete_provider(id, &actor),
        _ => web
            .core
            .edit_config(posted.revision, &[Edit::Unset(key.clone())], &actor)
            .map(|_| ()),
    };
    match result {
        Ok(()) => see_other(&format!("/settings/{name}")),
        Err(CoreError::Config(ConfigError::Stale { .. })) => {
            let mut r = redraw;
            r.stale = true;
            page(&web, &viewer, &name, r)
        }
        Err(e) => {
            let mut r = redraw;
            r.notes.push(e.to_string());
            page(&web, &viewer, &name, r)
        }
    }
}

/// Tests a provider with one tiny real call and shows the result on its entry.
pub async fn test_provider(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::parse(pairs);
    let id = posted.extra("entry").to_string();
    let mut redraw = Redraw::default();
    match web.core.test_provider(&id, None).await {
        Ok(report) => redraw.test = Some((id, report)),
        Err(e) => redraw.notes.push(e.to_string()),
    }
    page(&web, &viewer, "providers", redraw)
}
