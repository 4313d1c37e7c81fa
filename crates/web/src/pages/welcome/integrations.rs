//! Step 3: what the agent can use besides its built-in tools — MCP servers (`pryx mcp`) and
//! skills (`pryx skills`), each with an on/off switch where the settings have one — then
//! "Start chatting": a first session in the chosen workspace.

use super::{ACTOR, Progress};
use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use pryx_core::{CoreError, SessionRequest};
use pryx_protocol::api::{McpServerSummary, SkillSummary};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "welcome_integrations.html")]
struct Page {
    layout: Layout,
    progress: Progress,
    mcp_on: bool,
    servers: Vec<McpServerSummary>,
    /// Why `servers.json` (or some entries) could not be used.
    mcp_problems: Vec<String>,
    skills_on: bool,
    skills: Vec<SkillSummary>,
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
    let mcp = web.core.mcp_servers_configured();
    let (servers, mcp_problems) = (mcp.servers, mcp.problems);
    let ws = workspace(web);
    let skills = web.core.skills().map(|l| l.skills).unwrap_or_default();
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
    let result = web.core.set_mcp_server_enabled(&form.name, on, ACTOR);
    switched(&web, &viewer, &form, result, "MCP server")
}

/// Switches one skill on or off (`skills.entries.<key>.enabled`, as `pryx skills enable` does).
pub async fn toggle_skill(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<Toggle>,
) -> Response {
    let on = form.enabled == "on";
    let result = web
        .core
        .set_skill_enabled(&form.name, on, ACTOR)
        .map(|_| ());
    switched(&web, &viewer, &form, result, "skill")
}

/// Back to the page the switch was on, or why it did not switch.
fn switched(
    web: &Web,
    viewer: &Viewer,
    form: &Toggle,
    result: Result<(), CoreError>,
    what: &str,
) -> Response {
    match result {
        Ok(()) => {
            tracing::info!(name = %form.name, enabled = %form.enabled, by = ACTOR, "{what} switched");
            see_other(form.back())
        }
        Err(CoreError::NotFound(_)) => not_found(web, viewer, what, &form.name),
        Err(e) => show(
            web,
            viewer,
            Some(format!("Could not change {what} {}: {e}", form.name)),
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
        use pryx_protocol::api::{McpServerState, McpTransport, SkillOrigin};
        let mut p = page();
        p.servers.push(McpServerSummary {
            name: "files".into(),
            transport: McpTransport::Stdio,
            target: "npx server-filesystem".into(),
            enabled: false,
            trusted: false,
            state: McpServerState::Disabled,
            tool_count: None,
            last_error: None,
            offered_tools: Vec::new(),
            sign_in: None,
        });
        p.skills.push(SkillSummary {
            name: "pdf".into(),
            description: "Read <PDF> files".into(),
            origin: SkillOrigin::Bundled,
            enabled: true,
            usable: false,
            blocked: vec!["binary `pdftotext` is not on PATH".into()],
            path: None,
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
