//! Skills (`/skills`, `/skills/{name}`): every SKILL.md skill of the main agent's workspace with
//! where it comes from, whether it may be used and why not, an on/off switch, adding skills
//! from a folder, archive or git repository, and each skill's page: the manifest, the exact
//! steps `pryx skills install` would run for its dependencies, and SKILL.md itself (rendered as
//! untrusted markdown). The data and actions are the core's, as `/api/v1/skills` serves them.

use crate::Web;
use crate::markdown;
use crate::page::{Layout, Viewer, problem, render};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use pryx_core::CoreError;
use pryx_protocol::api::{SkillAddRequest, SkillDetail, SkillSummary};
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/skills", get(list))
        .route("/skills/add", post(add))
        .route("/skills/{name}", get(show))
        .route("/skills/{name}/install", post(run_install))
}

/// The add form as typed, given back after a refusal.
#[derive(Default, serde::Deserialize)]
struct AddForm {
    #[serde(default)]
    source: String,
    /// Names separated by commas or spaces; empty takes every skill of the source.
    #[serde(default)]
    skills: String,
    #[serde(default)]
    git_ref: String,
    #[serde(default)]
    replace: Option<String>,
}

#[derive(Template)]
#[template(path = "skills.html")]
struct List {
    layout: Layout,
    skills_on: bool,
    skills: Vec<SkillSummary>,
    skills_dir: String,
    problem: Option<String>,
    form: AddForm,
    /// What the add form did: success and the message.
    added: Option<(bool, String)>,
}

fn list_page(web: &Web, viewer: &Viewer, form: AddForm, added: Option<(bool, String)>) -> List {
    let (skills_on, skills, skills_dir, problem) = match web.core.skills() {
        Ok(l) => (l.skills_enabled, l.skills, l.managed_dir, None),
        Err(e) => (
            web.core.settings().config.skills.enabled,
            Vec::new(),
            web.core.dir().skills_dir().display().to_string(),
            Some(e.to_string()),
        ),
    };
    List {
        layout: Layout::new(web, viewer, "Skills", "integrations"),
        skills_on,
        skills,
        skills_dir,
        problem,
        form,
        added,
    }
}

async fn list(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    render(
        StatusCode::OK,
        &list_page(&web, &viewer, AddForm::default(), None),
    )
}

/// Adds the skills of the source typed in, as `pryx skills add` does, and shows the list with
/// what was added or why nothing was.
async fn add(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<AddForm>,
) -> Response {
    let req = SkillAddRequest {
        source: form.source.clone(),
        skills: form
            .skills
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        git_ref: Some(form.git_ref.trim().to_string()).filter(|r| !r.is_empty()),
        replace: form.replace.is_some(),
    };
    let actor = format!("web:{}", viewer.session.id);
    match web.core.add_skills(&req, &actor).await {
        Ok(done) => {
            let names: Vec<String> = done
                .added
                .iter()
                .map(|a| {
                    if a.replaced {
                        format!("{} (replaced)", a.name)
                    } else {
                        a.name.clone()
                    }
                })
                .collect();
            let message = format!("Added {}.", names.join(", "));
            let page = list_page(&web, &viewer, AddForm::default(), Some((true, message)));
            render(StatusCode::OK, &page)
        }
        Err(e) => {
            let page = list_page(&web, &viewer, form, Some((false, e.to_string())));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "skill.html")]
struct One {
    layout: Layout,
    detail: SkillDetail,
    /// How running the steps went, after the Run form.
    ran: Option<(bool, String)>,
    body_html: String,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Path(name): Path<String>) -> Response {
    one(&web, &viewer, &name, None)
}

fn one(web: &Web, viewer: &Viewer, name: &str, ran: Option<(bool, String)>) -> Response {
    match web.core.skill(name) {
        Ok(detail) => render(
            StatusCode::OK,
            &One {
                layout: Layout::new(web, viewer, format!("Skill {name}"), "integrations"),
                body_html: markdown::render(&detail.body),
                detail,
                ran,
            },
        ),
        Err(e @ CoreError::NotFound(_)) => problem(
            web,
            Some(viewer),
            StatusCode::NOT_FOUND,
            "No such skill",
            &format!("{e}. The Skills page lists the ones this workspace has."),
        ),
        Err(e) => problem(
            web,
            Some(viewer),
            StatusCode::CONFLICT,
            "Skills cannot be read",
            &e.to_string(),
        ),
    }
}

#[derive(serde::Deserialize)]
struct RunForm {
    id: String,
    /// The box "run exactly these steps" was ticked.
    #[serde(default)]
    confirm: Option<String>,
}

/// Runs the dependency installation the page showed, once the person confirmed it.
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
    let actor = format!("web:{}", viewer.session.id);
    let ran = match web.core.install_skill_deps(&name, &form.id, &actor).await {
        Ok(out) => (true, out.output),
        Err(e) => (false, e.to_string()),
    };
    one(&web, &viewer, &name, Some(ran))
}
