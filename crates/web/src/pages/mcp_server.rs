//! One MCP server (`/mcp-servers/{name}`): its tools (with their annotations, each switchable
//! off for the agent), its resources (each readable here) and its prompts, asked of the
//! connection the agent's turns use.

use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pryx_core::CoreError;
use pryx_protocol::api::McpServerDetail;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "mcp_server.html")]
struct Page {
    layout: Layout,
    detail: McpServerDetail,
    /// A resource read on request: its URI and text.
    read: Option<(String, String)>,
}

#[derive(Deserialize)]
pub struct Read {
    uri: Option<String>,
}

fn not_found(web: &Web, viewer: &Viewer) -> Response {
    problem(
        web,
        Some(viewer),
        StatusCode::NOT_FOUND,
        "No such MCP server",
        "It is not configured, switched off, or MCP is off. The MCP servers page lists them.",
    )
}

pub async fn show(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(q): Query<Read>,
) -> Response {
    let detail = match web.core.mcp_server(&name).await {
        Ok(d) => d,
        Err(_) => return not_found(&web, &viewer),
    };
    let read = match q.uri {
        Some(uri) => Some(match web.core.read_mcp_resource(&name, &uri).await {
            Ok(text) => (uri, text),
            Err(e) => (uri, e.to_string()),
        }),
        None => None,
    };
    render(
        StatusCode::OK,
        &Page {
            layout: Layout::new(&web, &viewer, format!("MCP server {name}"), "integrations"),
            detail,
            read,
        },
    )
}

#[derive(Deserialize)]
pub struct ToolSwitch {
    tool: String,
    /// `on` or `off`.
    enabled: String,
}

/// Offers one tool of the server to the agent, or stops offering it (`disabled_tools` in
/// `servers.json`; the servers restart with the changed file).
pub async fn switch_tool(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<ToolSwitch>,
) -> Response {
    let on = form.enabled == "on";
    let actor = format!("web:{}", viewer.session.id);
    let result = web.core.set_mcp_tool_enabled(&name, &form.tool, on, &actor);
    match result {
        Ok(()) => {
            tracing::info!(server = %name, tool = %form.tool, enabled = on, by = %actor, "an MCP tool was switched");
            see_other(&format!("/mcp-servers/{name}#tools"))
        }
        Err(CoreError::NotFound(_)) => not_found(&web, &viewer),
        Err(e) => problem(
            &web,
            Some(&viewer),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not changed",
            &e.to_string(),
        ),
    }
}
