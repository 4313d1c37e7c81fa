//! The onboarding wizard (`/welcome`): pick a workspace, set up a provider with a live test
//! and a default model, see what integrations there are, then start chatting. Every step is a
//! plain HTML form (scripts only make it smoother), can be skipped and re-run with
//! `/welcome?step=N`.

#[cfg(test)]
mod flow_tests;
mod integrations;
mod provider;
mod workspace;

use crate::Web;
use crate::page::{Viewer, see_other};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use std::sync::Arc;

/// Who the audit log names for changes made here.
const ACTOR: &str = "dashboard";

/// The wizard's steps, in order.
const STEPS: [&str; 3] = ["Workspace", "Provider", "Integrations"];

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/welcome", get(show))
        .route("/welcome/workspace", post(workspace::save))
        .route("/welcome/provider", post(provider::save))
        .route("/welcome/mcp", post(integrations::toggle_mcp))
        .route("/welcome/skill", post(integrations::toggle_skill))
        .route("/welcome/start", post(integrations::start))
        .route("/welcome/skip", post(skip))
}

/// The progress indicator's entries.
pub struct Step {
    pub number: usize,
    pub name: &'static str,
    pub current: bool,
    pub done: bool,
}

/// Where the wizard is, for its progress indicator.
pub struct Progress {
    pub step: usize,
    pub total: usize,
    pub steps: Vec<Step>,
}

impl Progress {
    fn new(web: &Web, step: usize) -> Progress {
        let config = &web.core.settings().config;
        let done = [
            config.defaults.workspace.is_some(),
            !config.providers.is_empty() && config.defaults.model.is_some(),
            false,
        ];
        Progress {
            step,
            total: STEPS.len(),
            steps: STEPS
                .iter()
                .enumerate()
                .map(|(i, name)| Step {
                    number: i + 1,
                    name,
                    current: i + 1 == step,
                    done: done[i],
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    step: Option<String>,
    /// The folder the workspace step's browser shows.
    path: Option<String>,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(q): Query<ShowQuery>) -> Response {
    let step = q
        .step
        .as_deref()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|s| (1..=STEPS.len() + 1).contains(s))
        .unwrap_or_else(|| first_open_step(&web));
    match step {
        1 => workspace::show(&web, &viewer, q.path.as_deref()),
        2 => provider::show(&web, &viewer).await,
        _ => integrations::show(&web, &viewer, None),
    }
}

/// The first step that still needs something.
fn first_open_step(web: &Web) -> usize {
    let config = &web.core.settings().config;
    if config.defaults.workspace.is_none() {
        1
    } else if config.providers.is_empty() || config.defaults.model.is_none() {
        2
    } else {
        3
    }
}

#[derive(Deserialize, Default)]
struct SkipForm {
    #[serde(default)]
    from: String,
}

/// Skips a step (or the rest of the wizard): `/` goes to the chat from now on.
async fn skip(
    State(web): State<Arc<Web>>,
    _viewer: Viewer,
    axum::Form(form): axum::Form<SkipForm>,
) -> Response {
    web.skip_onboarding();
    match form.from.trim().parse::<usize>() {
        Ok(n) if (1..STEPS.len()).contains(&n) => see_other(&format!("/welcome?step={}", n + 1)),
        _ => see_other("/chat"),
    }
}

/// A form error shown next to its field.
#[derive(Default, Debug)]
pub struct FieldErrors {
    pub fields: Vec<(&'static str, String)>,
}

impl FieldErrors {
    pub fn set(&mut self, field: &'static str, message: impl Into<String>) {
        self.fields.push((field, message.into()));
    }

    /// The error of `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// `value` for use inside a URL query.
pub fn query_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
