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
    body_html: String,
    warnings: Vec<String>,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Path(name): Path<String>) -> Response {
    let workspace = match web.core.profile(None) {
        Ok(p) => p.workspace,
        Err(e) => {
            return problem(
                &web,
                Some(&viewer),
                StatusCode::CONFLICT,
                "No workspace yet",
                &e.to_string(),
            );
        }
    };
    let dir = web.core.dir().clone();
    let catalog = SkillIndex::open(&workspace, dir.clone()).catalog();
    let Some(skill) = catalog.get(&name) else {
        return problem(
            &web,
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "No such skill",
            "The Skills page lists the ones this workspace has.",
        );
    };
    let host = Host::current();
    let (install_label, install_steps, install_note) = match install::choose(skill, None, &host)
        .and_then(|spec| install::plan(skill, spec, &host, &dir).map(|p| (spec, p)))
    {
        Ok((spec, plan)) => (
            format!("{} ({})", spec.id, spec.kind.as_str()),
            plan.steps.iter().map(ToString::to_string).collect(),
            format!(
                "Run `pryx skills install {name}` in a terminal: it shows these steps, asks, runs them contained, then checks the skill again."
            ),
        ),
        Err(e) => (String::new(), Vec::new(), e.to_string()),
    };
    let m = &skill.manifest;
    render(
        StatusCode::OK,
        &One {
            layout: Layout::new(&web, &viewer, format!("Skill {name}"), "integrations"),
            license: m.license.clone().unwrap_or_default(),
            homepage: m.homepage.clone().unwrap_or_default(),
            allowed_tools: m.allowed_tools.clone(),
            install_label,
            install_steps,
            install_note,
            body_html: markdown::render(&skill.body),
            warnings: skill.warnings.clone(),
            row: extensions::row(skill),
        },
    )
}
