//! The chat page (PRD FR4.5, FR4.7): the session list, a session's transcript rendered here
//! from the store, and a composer. `assets/chat.js` adds the live parts over the gateway's API:
//! streamed answers and tool cards over `/api/v1/ws`, sending, stopping, approvals, the model
//! and policy pickers, and the long-running indicator. Without JS the page still reads.

mod transcript;

use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Router, response::IntoResponse};
use pryx_core::SessionRequest;
use pryx_store::Page as StorePage;
use serde::Deserialize;
use std::sync::Arc;
pub use transcript::{Fragment, Item, Transcript};

/// Sessions listed in the sidebar (most recent first).
const SIDEBAR_SESSIONS: u32 = 50;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/chat", get(show_new).post(create))
        .route("/chat/{id}", get(show_session))
        .route("/chat/{id}/transcript", get(fragment))
}

/// A session in the sidebar.
pub struct SessionLink {
    pub id: String,
    pub title: String,
    pub busy: bool,
}

/// The open session's settings, for the header and the pickers.
pub struct Current {
    pub title: String,
    pub model: String,
    pub policy: String,
    pub agent: String,
    pub workspace_warning: String,
    pub busy: bool,
    /// The running turn's id (for the stop button), empty when idle.
    pub turn_id: String,
    pub transcript: Transcript,
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    layout: Layout,
    sessions: Vec<SessionLink>,
    /// Agent profile ids (`main` first); a picker shows when there is more than one.
    agents: Vec<String>,
    policies: Vec<String>,
    current: Option<Current>,
    /// The open session's id, empty on the new-chat page.
    session_id: String,
}

impl ChatPage {
    fn picked_policy(&self, name: &str) -> bool {
        self.current.as_ref().is_some_and(|c| c.policy == name)
    }
}

async fn show_new(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    page(web, viewer, None).await
}

async fn show_session(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    page(web, viewer, Some(id)).await
}

async fn page(web: Arc<Web>, viewer: Viewer, id: Option<String>) -> Response {
    let w = web.clone();
    let loaded = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let sessions = sidebar(&w)?;
        let current = match id {
            Some(id) => Some(current(&w, &id)?.ok_or(id)),
            None => None,
        };
        Ok((sessions, current))
    })
    .await;
    let (sessions, current) = match loaded {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return store_failed(&web, &viewer, &e),
        Err(e) => return store_failed(&web, &viewer, &e.to_string()),
    };
    let current = match current {
        Some(Err(id)) => {
            return problem(
                &web,
                Some(&viewer),
                StatusCode::NOT_FOUND,
                "No such session",
                &format!(
                    "There is no session {id}: it may have been deleted. Pick one from the list or start a new chat."
                ),
            );
        }
        Some(Ok(c)) => Some(c),
        None => None,
    };
    let title = current
        .as_ref()
        .map_or_else(|| "New chat".to_string(), |c| c.title.clone());
    let session_id = current
        .as_ref()
        .map(|c| c.transcript.session_id.clone())
        .unwrap_or_default();
    let mut policies: Vec<String> = pryx_policy::BUILTIN_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    policies.extend(policy_files(&web));
    if let Some(c) = &current
        && !c.policy.is_empty()
        && !policies.contains(&c.policy)
    {
        policies.push(c.policy.clone());
    }
    render(
        StatusCode::OK,
        &ChatPage {
            layout: Layout::new(&web, &viewer, title, "chat"),
            sessions,
            agents: web.core.profiles().into_iter().map(|p| p.id).collect(),
            policies,
            current,
            session_id,
        },
    )
}

fn sidebar(web: &Web) -> Result<Vec<SessionLink>, String> {
    let list = web
        .core
        .store()
        .list_sessions(
            None,
            StorePage {
                limit: SIDEBAR_SESSIONS,
                offset: 0,
            },
        )
        .map_err(|e| e.to_string())?;
    Ok(list
        .into_iter()
        .map(|s| SessionLink {
            busy: web.core.is_busy(&s.id),
            title: if s.title.trim().is_empty() {
                "Untitled".to_string()
            } else {
                s.title
            },
            id: s.id,
        })
        .collect())
}

fn current(web: &Web, id: &str) -> Result<Option<Current>, String> {
    let store = web.core.store();
    let Some(s) = store.get_session(id).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let Some(transcript) =
        transcript::load(store, id, || web.core.is_busy(id)).map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let workspace_warning = s
        .workspace_id
        .as_deref()
        .and_then(|w| store.get_workspace(w).ok().flatten())
        .and_then(|w| web.core.workspace_warning(&w.path))
        .unwrap_or_default();
    let settings = web.core.settings();
    Ok(Some(Current {
        title: if s.title.trim().is_empty() {
            "Untitled".to_string()
        } else {
            s.title
        },
        model: s
            .model
            .unwrap_or_else(|| settings.config.defaults.model.clone().unwrap_or_default()),
        policy: s
            .policy
            .unwrap_or_else(|| settings.config.defaults.policy.clone()),
        agent: s.agent.unwrap_or_else(|| "main".to_string()),
        workspace_warning,
        busy: transcript.busy,
        turn_id: web.core.running_turn(id).unwrap_or_default(),
        transcript,
    }))
}

/// Policy files in the data dir (`policies/NAME.yaml`), by name.
fn policy_files(web: &Web) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(web.core.dir().policies_dir()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name
                .strip_suffix(".yaml")
                .or_else(|| name.strip_suffix(".yml"))?;
            web.core.check_policy(stem).ok()
        })
        .collect();
    names.sort();
    names
}

/// The transcript alone, for the page to refresh after a turn.
async fn fragment(State(web): State<Arc<Web>>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let w = web.clone();
    let sid = id.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        transcript::load(w.core.store(), &sid, || w.core.is_busy(&sid))
    })
    .await;
    match loaded {
        Ok(Ok(Some(transcript))) => render(StatusCode::OK, &Fragment { transcript }),
        Ok(Ok(None)) => (
            StatusCode::NOT_FOUND,
            format!("There is no session {id}; it may have been deleted."),
        )
            .into_response(),
        Ok(Err(e)) => store_failed(&web, &viewer, &e.to_string()),
        Err(e) => store_failed(&web, &viewer, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct NewChat {
    agent: Option<String>,
}

/// Starts a session without JS (the page's script uses `POST /api/v1/sessions` instead).
async fn create(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Form(form): Form<NewChat>,
) -> Response {
    let request = SessionRequest {
        agent: form.agent.filter(|a| !a.is_empty()),
        ..SessionRequest::default()
    };
    let w = web.clone();
    match tokio::task::spawn_blocking(move || w.core.create_session(&request)).await {
        Ok(Ok(s)) => see_other(&format!("/chat/{}", s.id)),
        Ok(Err(e)) => problem(
            &web,
            Some(&viewer),
            StatusCode::BAD_REQUEST,
            "Cannot start a chat",
            &e.to_string(),
        ),
        Err(e) => store_failed(&web, &viewer, &e.to_string()),
    }
}

fn store_failed(web: &Web, viewer: &Viewer, detail: &str) -> Response {
    tracing::error!(error = %detail, "the chat page could not read the store");
    problem(
        web,
        Some(viewer),
        StatusCode::SERVICE_UNAVAILABLE,
        "Cannot read the sessions",
        &format!("The database could not be read ({detail}). Check `pryx doctor`, then reload."),
    )
}
