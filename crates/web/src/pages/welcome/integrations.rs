//! Step 3: what the agent can use besides its built-in tools — MCP servers (`pryx mcp`) and
//! skills (`pryx skills`), each with an on/off switch where the settings have one — then
//! "Start chatting": a first session in the chosen workspace.

use super::{ACTOR, Progress};
use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use crate::pages::extensions::{self, Server, SkillRow};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use pryx_config::Edit;
use pryx_core::SessionRequest;
use pryx_mcp::ServersFile;
use pryx_skills::SkillIndex;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "welcome_integrations.html")]
struct Page {
    layout: Layout,
    progress: Progress,
    mcp_on: bool,
    servers: Vec<Server>,
    /// Why `servers.json` (or some entries) could not be used.
    mcp_problems: Vec<String>,
    skills_on: bool,
    skills: Vec<SkillRow>,
    /// Where skills are looked for, for the "how to add one" hint.
    skills_dir: String,
    workspace: Option<String>,
    workspace_warning: Option<String>,
    model: Option<String>,
    /// Why a session cannot start yet.
    start_problem: Option<String>,
    /// A message after a switch or a failed start.
    notice: Option<String>,
}

/// The workspace new sessions of `main` get.
fn workspace(web: &Web) -> Result<PathBuf, String> {
    web.core
        .profile(None)
        .map(|p| p.workspace)
        .map_err(|e| e.to_string())
}

pub fn show(web: &Web, viewer: &Viewer, notice: Option<String>) -> Response {
    render(StatusCode::OK, &page(web, viewer, notice))
}

fn page(web: &Web, viewer: &Viewer, notice: Option<String>) -> Page {
    let snap = web.core.settings();
    let config = &snap.config;
    let dir = web.core.dir();
    let (servers, mcp_problems) = extensions::servers(web);
    let ws = workspace(web);
    let skills = match &ws {
        Ok(w) => extensions::skills(web, w),
        Err(_) => Vec::new(),
    };
    let workspace = ws.as_ref().ok().map(|w| w.display().to_string());
    Page {
        layout: Layout::new(web, viewer, "Welcome: integrations", "welcome"),
        progress: Progress::new(web, 3),
        mcp_on: config.mcp.enabled,
        servers,
        mcp_problems,
        skills_on: config.skills.enabled,
        skills,
        skills_dir: dir.skills_dir().display().to_string(),
        workspace_warning: workspace
            .as_deref()
            .and_then(|w| web.core.workspace_warning(w)),
        workspace,
        model: web.core.profile(None).ok().and_then(|p| p.model),
        start_problem: ws.err(),
        notice,
    }
}

#[derive(Deserialize, Default)]
pub struct Toggle {
    #[serde(default)]
    name: String,
    /// `on` or `off`.
    #[serde(default)]
    enabled: String,
    /// The page to go back to: `/skills` or `/mcp-servers`, else the wizard's step.
    #[serde(default)]
    back: String,
}

impl Toggle {
    fn back(&self) -> &'static str {
        match self.back.as_str() {
            "/skills" => "/skills",
            "/mcp-servers" => "/mcp-servers",
            _ => "/welcome?step=3",
        }
    }
}

/// Switches one MCP server on or off in `servers.json` (the file `pryx mcp` edits).
pub async fn toggle_mcp(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<Toggle>,
) -> Response {
    let on = form.enabled == "on";
    let path = web.core.dir().mcp_servers_file();
    let result = ServersFile::load(&path).and_then(|mut file| {
        let Some(mut entry) = file.servers().get(&form.name).cloned() else {
            return Ok(false);
        };
        entry.enabled = on;
        file.upsert(&form.name, &entry)?;
        file.save()?;
        Ok(true)
    });
    match result {
        Ok(true) => {
            tracing::info!(server = %form.name, enabled = on, by = ACTOR, "MCP server switched");
            see_other(form.back())
        }
        Ok(false) => not_found(&web, &viewer, "MCP server", &form.name),
        Err(e) => show(
            &web,
            &viewer,
            Some(format!("Could not change MCP server {}: {e}", form.name)),
        ),
    }
}

/// Switches one skill on or off (`skills.entries.<key>.enabled`, as `pryx skills enable` does).
pub async fn toggle_skill(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<Toggle>,
) -> Response {
    let on = form.enabled == "on";
    let key = match workspace(&web) {
        Ok(w) => SkillIndex::open(w, web.core.dir().clone())
            .catalog()
            .get(&form.name)
            .map(|s| s.config_key().to_string()),
        Err(_) => None,
    };
    let Some(key) = key else {
        return not_found(&web, &viewer, "skill", &form.name);
    };
    let path = if key.contains('.') {
        format!("skills.entries[\"{key}\"].enabled")
    } else {
        format!("skills.entries.{key}.enabled")
    };
    match web.core.write_config(&[Edit::Set(path, on.into())]) {
        Ok(_) => {
            tracing::info!(skill = %form.name, enabled = on, by = ACTOR, "skill switched");
            see_other(form.back())
        }
        Err(e) => show(
            &web,
            &viewer,
            Some(format!("Could not change skill {}: {e}", form.name)),
        ),
    }
}

fn not_found(web: &Web, viewer: &Viewer, what: &str, name: &str) -> Response {
    problem(
        web,
        Some(viewer),
        StatusCode::NOT_FOUND,
        &format!("No such {what}"),
        &format!("There is no {what} called {name:?} any more; go back to the wizard and reload."),
    )
}

/// "Start chatting": a first session in the chosen workspace, then its chat.
pub async fn start(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    let workspace = web.core.settings().config.defaults.workspace.clone();
    let request = SessionRequest {
        workspace,
        ..SessionRequest::default()
    };
    match web.core.create_session(&request) {
        Ok(session) => {
            web.skip_onboarding();
            tracing::info!(session = %session.id, by = ACTOR, "first session started from the onboarding wizard");
            see_other(&format!("/chat/{}", session.id))
        }
        Err(e) => {
            let mut page = page(&web, &viewer, None);
            page.start_problem = Some(format!(
                "Could not start a session: {e}. Choose another workspace in step 1."
            ));
            render(StatusCode::BAD_REQUEST, &page)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn page() -> Page {
        Page {
            layout: Layout {
                title: "Welcome: integrations".into(),
                nav: "welcome",
                csrf: "csrf-token".into(),
                theme: "system".into(),
            },
            progress: Progress {
                step: 3,
                total: 3,
                steps: Vec::new(),
            },
            mcp_on: true,
            servers: Vec::new(),
            mcp_problems: Vec::new(),
            skills_on: true,
            skills: Vec::new(),
            skills_dir: "DATA/skills".into(),
            workspace: Some("/home/u/project".into()),
            workspace_warning: None,
            model: Some("local/mock".into()),
            start_problem: None,
            notice: None,
        }
    }

    #[test]
    fn nothing_installed_says_how_to_add_it() {
        let html = page().render().unwrap();
        assert!(html.contains("pryx mcp add"), "{html}");
        assert!(html.contains("SKILL.md"), "{html}");
        assert!(html.contains(r#"data-testid="start-chat""#));
    }

    #[test]
    fn servers_and_skills_get_switches() {
        let mut p = page();
        p.servers.push(Server {
            name: "files".into(),
            transport: "stdio",
            target: "npx server-filesystem".into(),
            enabled: false,
        });
        p.skills.push(SkillRow {
            name: "pdf".into(),
            description: "Read <PDF> files".into(),
            origin: "bundled",
            enabled: true,
            blocked: vec!["binary `pdftotext` is not on PATH".into()],
            path: "bundled with Pryx".into(),
        });
        let html = p.render().unwrap();
        assert!(html.contains(r#"action="/welcome/mcp""#));
        assert!(html.contains(r#"action="/welcome/skill""#));
        assert!(
            html.contains("Read &#60;PDF&#62; files") || html.contains("Read &lt;PDF&gt; files")
        );
        assert!(html.contains("pdftotext"));
    }
}
