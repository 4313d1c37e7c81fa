//! MCP (`/mcp-servers`): the servers of `servers.json` with their live status (as the main
//! agent's turns see them), the tools each offers, on/off, remove, and adding a stdio or HTTP
//! server — tested first (connect and list its tools, as `pryx mcp test` does) and saved only
//! when that works. The data and actions are the core's, as `/api/v1/mcp-servers` serves them.

use crate::Web;
use crate::page::{Layout, Viewer, render, see_other};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use pryx_protocol::api::{McpServerAdd, McpServerSummary, McpSignIn, McpTransport};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/mcp-servers", get(show))
        .route("/mcp-servers/add", post(add))
        .route("/mcp-servers/remove", post(remove))
        .route("/mcp-servers/{name}/sign-in", post(sign_in))
        .route("/mcp-servers/{name}", get(super::mcp_server::show))
        .route(
            "/mcp-servers/{name}/tool",
            post(super::mcp_server::switch_tool),
        )
}

struct Row {
    server: McpServerSummary,
    /// HTTP servers can sign in with OAuth.
    http: bool,
}

#[derive(Template)]
#[template(path = "mcp.html")]
struct Page {
    layout: Layout,
    mcp_on: bool,
    rows: Vec<Row>,
    problems: Vec<String>,
    /// The add form, given back after a failed test.
    name: String,
    target: String,
    trusted: bool,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct Shown {
    added: Option<String>,
    removed: Option<String>,
    needs_sign_in: Option<String>,
}

async fn page(web: &Web, viewer: &Viewer) -> Page {
    let list = web.core.mcp_servers().await;
    let rows = list
        .servers
        .into_iter()
        .map(|server| Row {
            http: server.transport != McpTransport::Stdio,
            server,
        })
        .collect();
    Page {
        layout: Layout::new(web, viewer, "MCP servers", "integrations"),
        mcp_on: list.mcp_enabled,
        rows,
        problems: list.problems,
        name: String::new(),
        target: String::new(),
        trusted: false,
        error: None,
        notice: None,
    }
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(q): Query<Shown>) -> Response {
    let mut p = page(&web, &viewer).await;
    p.notice = match (q.added, q.removed, q.needs_sign_in) {
        (Some(n), _, _) => Some(format!("Added {n}: it answered and listed its tools.")),
        (_, Some(n), _) => Some(format!("Removed {n} and the approvals given to its tools.")),
        (_, _, Some(n)) => Some(format!(
            "Added {n}: it asks for a sign-in before it lists its tools. Use Sign in below."
        )),
        _ => None,
    };
    render(StatusCode::OK, &p)
}

#[derive(Deserialize)]
struct AddForm {
    name: String,
    /// A command line (stdio) or an http(s) URL.
    target: String,
    #[serde(default)]
    trusted: Option<String>,
}

async fn add(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<AddForm>,
) -> Response {
    let name = form.name.trim().to_string();
    let refused = |why: String| {
        let (web, viewer, form) = (&web, &viewer, &form);
        async move {
            let mut p = page(web, viewer).await;
            p.name = form.name.clone();
            p.target = form.target.clone();
            p.trusted = form.trusted.is_some();
            p.error = Some(why);
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    };
    let req = McpServerAdd {
        name: name.clone(),
        target: form.target.clone(),
        trusted: form.trusted.is_some(),
    };
    let actor = format!("web:{}", viewer.session.id);
    match web.core.add_mcp_server(&req, &actor).await {
        Ok(added) if added.needs_sign_in => {
            see_other(&format!("/mcp-servers?needs_sign_in={name}"))
        }
        Ok(_) => see_other(&format!("/mcp-servers?added={name}")),
        Err(e) => refused(e.to_string()).await,
    }
}

#[derive(Deserialize)]
struct RemoveForm {
    name: String,
}

async fn remove(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<RemoveForm>,
) -> Response {
    let name = form.name.trim().to_string();
    let outcome = web
        .core
        .remove_mcp_server(&name, &format!("web:{}", viewer.session.id));
    match outcome {
        Ok(()) => see_other(&format!("/mcp-servers?removed={name}")),
        Err(e) => {
            let mut p = page(&web, &viewer).await;
            p.error = Some(e.to_string());
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

/// Starts an OAuth sign-in to an HTTP server and answers with the page showing the URL to open;
/// the flow finishes in the background when the authorization server redirects back to this
/// machine, and the page shows the outcome.
async fn sign_in(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let actor = format!("web:{}", viewer.session.id);
    match web.core.start_mcp_sign_in(&name, &actor).await {
        Ok(_) => see_other(&format!("/mcp-servers#s-{name}")),
        Err(e) => {
            let mut p = page(&web, &viewer).await;
            p.error = Some(e.to_string());
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}
