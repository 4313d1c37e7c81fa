//! Policies (`/policies`): the built-in modes and the files in `policies/` with their YAML (a
//! file's YAML edited here is checked by the engine's own parser before it is written), the
//! "would this be allowed?" tester (`POST /policies/check`, the real engine as a turn would judge
//! the call), and the standing grants, each revocable.

use crate::Web;
use crate::page::{Layout, Viewer, render, see_other};
use crate::pages::approvals::Grant;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use pryx_protocol::api::{PolicyAction, PolicyCheck, PolicyCheckRequest, PolicyView};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/policies", get(show))
        .route("/policies/check", post(check))
        .route("/policies/save", post(save))
        .route("/policies/remove", post(remove))
        .route("/policies/edit", get(super::policy_form::show))
        .route("/policies/form", post(super::policy_form::save))
}

/// The tester's form and its answer.
#[derive(Default)]
struct Tester {
    tool: String,
    arguments: String,
    policy: String,
    answer: Option<PolicyCheck>,
    error: Option<String>,
}

impl Tester {
    fn action(&self) -> &'static str {
        match self.answer.as_ref().map(|a| a.action) {
            Some(PolicyAction::Allow) => "allow",
            Some(PolicyAction::Ask) => "ask",
            Some(PolicyAction::Deny) => "deny",
            None => "",
        }
    }

    fn details(&self) -> String {
        self.answer
            .as_ref()
            .filter(|a| !a.details.is_null())
            .and_then(|a| serde_json::to_string_pretty(&a.details).ok())
            .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "policies.html")]
struct Page {
    layout: Layout,
    csrf: String,
    policies: Vec<PolicyView>,
    file_errors: Vec<String>,
    tools: Vec<String>,
    tester: Tester,
    grants: Vec<Grant>,
    /// The YAML editor: a file name and text given back after a refused save.
    edit_name: String,
    edit_yaml: String,
    edit_error: Option<String>,
    saved: Option<String>,
    /// A file removed, or why it was not.
    removed: Option<(bool, String)>,
}

#[derive(Deserialize)]
struct Shown {
    saved: Option<String>,
    removed: Option<String>,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(q): Query<Shown>) -> Response {
    let mut page = build(&web, &viewer, Tester::default()).await;
    page.saved = q.saved;
    page.removed = q
        .removed
        .map(|n| (true, format!("Removed the policy file {n}.")));
    render(StatusCode::OK, &page)
}

async fn build(web: &Web, viewer: &Viewer, tester: Tester) -> Page {
    let list = web.core.policies();
    let tools = match web.core.profile_agent(None).await {
        Ok(agent) => agent.tools().definitions(),
        Err(_) => pryx_tools::ToolRegistry::with_builtins().definitions(),
    }
    .into_iter()
    .map(|d| d.name)
    .collect();
    let grants = web
        .core
        .grants()
        .map(|g| g.into_iter().map(Grant::from_api).collect())
        .unwrap_or_default();
    Page {
        layout: Layout::new(web, viewer, "Policies", "policies"),
        csrf: viewer.session.csrf.clone(),
        policies: list.policies,
        file_errors: list.problems,
        tools,
        tester,
        grants,
        edit_name: String::new(),
        edit_yaml: String::new(),
        edit_error: None,
        saved: None,
        removed: None,
    }
}

#[derive(Deserialize)]
struct CheckForm {
    tool: String,
    #[serde(default)]
    arguments: String,
    #[serde(default)]
    policy: String,
}

async fn check(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<CheckForm>,
) -> Response {
    let mut tester = Tester {
        tool: form.tool.trim().to_string(),
        arguments: form.arguments.clone(),
        policy: form.policy.trim().to_string(),
        ..Tester::default()
    };
    let text = if form.arguments.trim().is_empty() {
        "{}"
    } else {
        form.arguments.as_str()
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(arguments) => {
            let req = PolicyCheckRequest {
                tool: tester.tool.clone(),
                arguments,
                policy: (!tester.policy.is_empty()).then(|| tester.policy.clone()),
                agent: None,
            };
            match web.core.check_call(&req).await {
                Ok(answer) => tester.answer = Some(answer),
                Err(e) => tester.error = Some(e.to_string()),
            }
        }
        Err(e) => tester.error = Some(format!("the arguments are not JSON: {e}")),
    }
    let status = if tester.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, &build(&web, &viewer, tester).await)
}

#[derive(Deserialize)]
struct SaveForm {
    name: String,
    yaml: String,
}

/// Saves a policy file through the core (parsed first, audited); the answer is the name
/// written, or why not.
pub(crate) fn write_policy(
    web: &Web,
    viewer: &Viewer,
    name: &str,
    yaml: &str,
) -> Result<String, String> {
    let actor = format!("web:{}", viewer.session.id);
    web.core
        .save_policy(name, yaml, &actor)
        .map(|p| p.name)
        .map_err(|e| e.to_string())
}

/// The YAML view's save.
async fn save(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<SaveForm>,
) -> Response {
    match write_policy(&web, &viewer, &form.name, &form.yaml) {
        Ok(name) => {
            tracing::info!(policy = %name, by = %viewer.session.id, "a policy file was saved from the dashboard");
            see_other(&format!("/policies?saved={name}#p-{name}"))
        }
        Err(why) => {
            let mut page = build(&web, &viewer, Tester::default()).await;
            page.edit_name = form.name.trim().to_string();
            page.edit_yaml = form.yaml;
            page.edit_error = Some(why);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(Deserialize)]
struct RemoveForm {
    name: String,
}

/// Removes a policy file nothing uses.
async fn remove(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<RemoveForm>,
) -> Response {
    let actor = format!("web:{}", viewer.session.id);
    match web.core.remove_policy(form.name.trim(), &actor) {
        Ok(()) => see_other(&format!("/policies?removed={}#list-h", form.name.trim())),
        Err(e) => {
            let mut page = build(&web, &viewer, Tester::default()).await;
            page.removed = Some((false, format!("Not removed: {e}")));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
