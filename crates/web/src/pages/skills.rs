//! Skills (`/skills`, `/skills/{name}`): every SKILL.md skill of the main agent's workspace with
//! where it comes from, whether it may be used and why not, an on/off switch, and its page: the
//! manifest, what it requires, the exact steps `pryx skills install` would run for its
//! dependencies, and SKILL.md itself (rendered as untrusted markdown).

use crate::Web;
use crate::markdown;
use crate::page::{Layout, Viewer, problem, render};
use crate::pages::extensions::{self, SkillRow};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use pryx_skills::{Host, SkillIndex, install};
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/skills", get(list))
        .route("/skills/{name}", get(show))
        .route("/skills/{name}/install", axum::routing::post(run_install))
}

#[derive(Template)]
#[template(path = "skills.html")]
struct List {
    layout: Layout,
    skills_on: bool,
    skills: Vec<SkillRow>,
    skills_dir: String,
    problem: Option<String>,
}

async fn list(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    let (skills, problem) = match web.core.profile(None) {
        Ok(p) => (extensions::skills(&web, &p.workspace), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    render(
        StatusCode::OK,
        &List {
            layout: Layout::new(&web, &viewer, "Skills", "integrations"),
            skills_on: web.core.settings().config.skills.enabled,
            skills,
            skills_dir: web.core.dir().skills_dir().display().to_string(),
            problem,
        },
    )
}

#[derive(Template)]
#[template(path = "skill.html")]
struct One {
    layout: Layout,
    row: SkillRow,
    license: String,
    homepage: String,
    allowed_tools: Vec<String>,
    /// The dependency installation: the installer and its exact steps, or why there is none.
    install_label: String,
    install_steps: Vec<String>,
    install_note: String,
    /// The installer's id, for the Run form.
    install_id: String,
    /// How running the steps went, after the Run form.
    ran: Option<(bool, String)>,
    body_html: String,
    warnings: Vec<String>,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Path(name): Path<String>) -> Response {
    one(&web, &viewer, &name, None)
}

fn one(web: &Web, viewer: &Viewer, name: &str, ran: Option<(bool, String)>) -> Response {
    let workspace = match web.core.profile(None) {
        Ok(p) => p.workspace,
        Err(e) => {
            return problem(
                web,
                Some(viewer),
                StatusCode::CONFLICT,
                "No workspace yet",
                &e.to_string(),
            );
        }
    };
    let dir = web.core.dir().clone();
    let catalog = SkillIndex::open(&workspace, dir.clone()).catalog();
    let Some(skill) = catalog.get(name) else {
        return problem(
            web,
            Some(viewer),
            StatusCode::NOT_FOUND,
            "No such skill",
            "The Skills page lists the ones this workspace has.",
        );
    };
    let host = Host::current();
    let (install_label, install_id, install_steps, install_note) = match install::choose(
        skill, None, &host,
    )
    .and_then(|spec| install::plan(skill, spec, &host, &dir).map(|p| (spec, p)))
    {
        Ok((spec, plan)) => (
            format!("{} ({})", spec.id, spec.kind.as_str()),
            spec.id.clone(),
            plan.steps.iter().map(ToString::to_string).collect(),
            format!(
                "They run contained (writing only to {}), as `pryx skills install {name}` runs them.",
                plan.dest.display()
            ),
        ),
        Err(e) => (String::new(), String::new(), Vec::new(), e.to_string()),
    };
    let m = &skill.manifest;
    render(
        StatusCode::OK,
        &One {
            layout: Layout::new(web, viewer, format!("Skill {name}"), "integrations"),
            license: m.license.clone().unwrap_or_default(),
            homepage: m.homepage.clone().unwrap_or_default(),
            allowed_tools: m.allowed_tools.clone(),
            install_label,
            install_steps,
            install_note,
            install_id,
            ran,
            body_html: markdown::render(&skill.body),
            warnings: skill.warnings.clone(),
            row: extensions::row(skill),
        },
    )
}

#[derive(serde::Deserialize)]
struct RunForm {
    id: String,
    /// The box "run exactly these steps" was ticked.
    #[serde(default)]
    confirm: Option<String>,
}

/// How long an installation may run.
const INSTALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs the dependency installation the page showed, once the person confirmed it: the same
/// plan, runner and containment as `pryx skills install`, audited as `skill.installed`.
async fn run_install(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<RunForm>,
) -> Response {
    if form.confirm.is_none() {
        let ran = (
            false,
            "Nothing was run: tick the box to confirm the steps.".to_string(),
        );
        return one(&web, &viewer, &name, Some(ran));
    }
    let outcome = install_now(&web, &name, &form.id).await;
    let ok = outcome.is_ok();
    let _ = web.core.store().append_audit(&pryx_store::AuditEntry {
        actor: format!("web:{}", viewer.session.id),
        action: "skill.installed".into(),
        resource_type: "skill".into(),
        resource_id: Some(name.clone()),
        session_id: None,
        details: serde_json::json!({ "installer": form.id }),
        outcome: if ok { "success" } else { "failure" }.into(),
    });
    let ran = match outcome {
        Ok(out) => (true, out),
        Err(e) => (false, e),
    };
    one(&web, &viewer, &name, Some(ran))
}

async fn install_now(web: &Web, name: &str, id: &str) -> Result<String, String> {
    let workspace = web.core.profile(None).map_err(|e| e.to_string())?.workspace;
    let dir = web.core.dir().clone();
    let catalog = SkillIndex::open(&workspace, dir.clone()).catalog();
    let skill = catalog
        .get(name)
        .ok_or_else(|| format!("no skill named {name}"))?;
    let host = Host::current();
    let spec = install::choose(skill, Some(id), &host).map_err(|e| e.to_string())?;
    let plan = install::plan(skill, spec, &host, &dir).map_err(|e| e.to_string())?;
    let runner = install::Runner {
        sandbox: web.core.sandbox(),
    };
    match tokio::time::timeout(INSTALL_LIMIT, install::execute(&plan, &runner, false)).await {
        Ok(Ok(out)) => Ok(match &plan.tools_dir {
            Some(tools) => format!("{out}\nInstalled programs are in {}.", tools.display()),
            None => out,
        }),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "the installation did not finish within {} minutes",
            INSTALL_LIMIT.as_secs() / 60
        )),
    }
}
