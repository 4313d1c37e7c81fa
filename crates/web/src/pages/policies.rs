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
use pryx_policy::{BUILTIN_NAMES, builtin, load_dir, parse_policy};
use pryx_protocol::api::{PolicyAction, PolicyCheck, PolicyCheckRequest};
use serde::Deserialize;
use std::sync::Arc;

/// Largest policy file written from the page.
const MAX_YAML: usize = 256 * 1024;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/policies", get(show))
        .route("/policies/check", post(check))
        .route("/policies/save", post(save))
        .route("/policies/edit", get(super::policy_form::show))
        .route("/policies/form", post(super::policy_form::save))
}

/// One policy as listed.
struct PolicyRow {
    name: String,
    /// `built in` or the file's path.
    source: String,
    yaml: String,
    builtin: bool,
    default: bool,
    /// Agents whose profile names it.
    agents: Vec<String>,
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
    policies: Vec<PolicyRow>,
    file_errors: Vec<String>,
    tools: Vec<String>,
    tester: Tester,
    grants: Vec<Grant>,
    /// The YAML editor: a file name and text given back after a refused save.
    edit_name: String,
    edit_yaml: String,
    edit_error: Option<String>,
    saved: Option<String>,
}

#[derive(Deserialize)]
struct Shown {
    saved: Option<String>,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(q): Query<Shown>) -> Response {
    let mut page = build(&web, &viewer, Tester::default()).await;
    page.saved = q.saved;
    render(StatusCode::OK, &page)
}

async fn build(web: &Web, viewer: &Viewer, tester: Tester) -> Page {
    let snap = web.core.settings();
    let config = &snap.config;
    let uses = |name: &str| -> Vec<String> {
        config
            .agents
            .iter()
            .filter(|(_, a)| a.policy.as_deref() == Some(name))
            .map(|(id, _)| id.clone())
            .collect()
    };
    let mut policies: Vec<PolicyRow> = BUILTIN_NAMES
        .iter()
        .filter_map(|n| builtin(n))
        .map(|p| PolicyRow {
            yaml: serde_yaml_ng::to_string(&p).unwrap_or_default(),
            source: "built in".into(),
            builtin: true,
            default: config.defaults.policy == p.name,
            agents: uses(&p.name),
            name: p.name,
        })
        .collect();
    let report = load_dir(&web.core.dir().policies_dir());
    for (path, p) in report.policies {
        policies.push(PolicyRow {
            yaml: std::fs::read_to_string(&path).unwrap_or_default(),
            source: path.display().to_string(),
            builtin: false,
            default: config.defaults.policy == p.name,
            agents: uses(&p.name),
            name: p.name,
        });
    }
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
        policies,
        file_errors: report.errors.iter().map(ToString::to_string).collect(),
        tools,
        tester,
        grants,
        edit_name: String::new(),
        edit_yaml: String::new(),
        edit_error: None,
        saved: None,
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

/// Writes `policies/NAME.yaml` once the engine's parser accepts `yaml` and it names itself
/// `name`; built-in names are refused. The answer is the name written.
pub(crate) fn write_policy(web: &Web, name: &str, yaml: &str) -> Result<String, String> {
    let name = name.trim();
    let plain = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !plain {
        return Err("a policy name uses letters, digits, - and _ (up to 64)".into());
    }
    if BUILTIN_NAMES.contains(&name) {
        return Err(format!(
            "{name} is built in; save your version under another name"
        ));
    }
    if yaml.len() > MAX_YAML {
        return Err(format!("a policy file is at most {} KB", MAX_YAML / 1024));
    }
    let dir = web.core.dir().policies_dir();
    let path = dir.join(format!("{name}.yaml"));
    match parse_policy(yaml, &path) {
        Err(e) => return Err(e.to_string()),
        Ok(p) if p.name != name => {
            return Err(format!(
                "the file says `name: {}`; it must be `name: {name}` to be saved as {name}.yaml",
                p.name
            ));
        }
        Ok(_) => {}
    }
    pryx_config::create_private_dir(&dir)
        .and_then(|()| pryx_config::atomic_write(&path, yaml.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(name.to_string())
}

/// The YAML view's save.
async fn save(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<SaveForm>,
) -> Response {
    match write_policy(&web, &form.name, &form.yaml) {
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
