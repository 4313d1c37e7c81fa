//! One MCP server (`/mcp-servers/{name}`): its tools (with their annotations, each switchable
//! off for the agent), its resources (each readable here) and its prompts, asked of the
//! connection the agent's turns use.

use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use pryx_mcp::ServersFile;
use pryx_tools::Tool;
use serde::Deserialize;
use std::sync::Arc;

/// Longest resource text shown.
const READ_CHARS: usize = 20_000;

struct ToolRow {
    /// Without the server's prefix.
    short: String,
    full: String,
    description: String,
    read_only: bool,
    destructive: bool,
    enabled: bool,
}

struct ResourceRow {
    uri: String,
    name: String,
    description: String,
    mime: String,
}

struct PromptRow {
    name: String,
    description: String,
    arguments: Vec<String>,
}

#[derive(Template)]
#[template(path = "mcp_server.html")]
struct Page {
    layout: Layout,
    name: String,
    trusted: bool,
    tools: Vec<ToolRow>,
    resources: Vec<ResourceRow>,
    prompts: Vec<PromptRow>,
    /// Why a list could not be had (a server without resources says so).
    problems: Vec<String>,
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
    let Some(mgr) = web.core.mcp_manager().await else {
        return not_found(&web, &viewer);
    };
    let Some(conn) = mgr.server(&name) else {
        return not_found(&web, &viewer);
    };
    let config = conn.config().clone();
    let mut problems = Vec::new();
    let prefix = format!("{name}.");
    let tools = match mgr.server_tools(&name).await {
        Ok(tools) => tools
            .iter()
            .map(|t| {
                let short = t
                    .name()
                    .strip_prefix(&prefix)
                    .unwrap_or(t.name())
                    .to_string();
                let (read_only, destructive) = t.hints();
                ToolRow {
                    enabled: !config.disabled_tools.contains(&short),
                    full: t.name().to_string(),
                    description: t.description().to_string(),
                    short,
                    read_only,
                    destructive,
                }
            })
            .collect(),
        Err(e) => {
            problems.push(format!("tools: {e}"));
            Vec::new()
        }
    };
    let resources = match conn.list_resources().await {
        Ok(list) => list
            .into_iter()
            .map(|r| ResourceRow {
                uri: r.uri.clone(),
                name: r.name.clone(),
                description: r.description.clone().unwrap_or_default(),
                mime: r.mime_type.clone().unwrap_or_default(),
            })
            .collect(),
        Err(e) => {
            problems.push(format!("resources: {e}"));
            Vec::new()
        }
    };
    let prompts = match conn.list_prompts().await {
        Ok(list) => list
            .into_iter()
            .map(|p| PromptRow {
                name: p.name.clone(),
                description: p.description.clone().unwrap_or_default(),
                arguments: p
                    .arguments
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| {
                        if a.required == Some(true) {
                            format!("{} (required)", a.name)
                        } else {
                            a.name
                        }
                    })
                    .collect(),
            })
            .collect(),
        Err(e) => {
            problems.push(format!("prompts: {e}"));
            Vec::new()
        }
    };
    let read = match q.uri {
        Some(uri) => Some(match conn.read_resource(&uri).await {
            Ok(result) => {
                let text = serde_json::to_value(&result.contents)
                    .ok()
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .map(
                        |c| match c.get("text").and_then(serde_json::Value::as_str) {
                            Some(t) => t.to_string(),
                            None => "[binary content]".to_string(),
                        },
                    )
                    .collect::<Vec<_>>()
                    .join("\n");
                let text: String = text.chars().take(READ_CHARS).collect();
                (uri, text)
            }
            Err(e) => (uri, format!("cannot read it: {e}")),
        }),
        None => None,
    };
    render(
        StatusCode::OK,
        &Page {
            layout: Layout::new(&web, &viewer, format!("MCP server {name}"), "integrations"),
            trusted: config.trusted,
            name,
            tools,
            resources,
            prompts,
            problems,
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
    let path = web.core.dir().mcp_servers_file();
    let result = ServersFile::load(&path).and_then(|mut file| {
        let Some(mut entry) = file.servers().get(&name).cloned() else {
            return Ok(false);
        };
        entry.disabled_tools.retain(|t| *t != form.tool);
        if !on {
            entry.disabled_tools.push(form.tool.clone());
        }
        file.upsert(&name, &entry)?;
        file.save()?;
        Ok(true)
    });
    match result {
        Ok(true) => {
            tracing::info!(server = %name, tool = %form.tool, enabled = on, by = %viewer.session.id, "an MCP tool was switched");
            see_other(&format!("/mcp-servers/{name}#tools"))
        }
        Ok(false) => not_found(&web, &viewer),
        Err(e) => problem(
            &web,
            Some(&viewer),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not changed",
            &e.to_string(),
        ),
    }
}
