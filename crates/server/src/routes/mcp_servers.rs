//! MCP servers of `servers.json` (the dashboard's MCP pages): live status, what each offers,
//! adding one after a test connection, removing one, switching a server or one of its tools.

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::API_ACTOR;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{
    McpServerAdd, McpServerAdded, McpServerDetail, McpServerList, McpSignIn, Switch,
};
use serde::Deserialize;
use std::sync::Arc;

/// Every configured server with its status as the main agent's turns see it (servers are
/// loaded, not necessarily connected, by this call) and the tools the agent is offered.
#[utoipa::path(get, path = "/api/v1/mcp-servers", tag = "extensions",
    responses((status = 200, body = McpServerList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Json<McpServerList> {
    Json(st.core.mcp_servers().await)
}

/// Tests a server (connect and list its tools) and saves it to `servers.json` only when that
/// works, or when it asks for an OAuth sign-in (`needs_sign_in`). Headers and environment are
/// set with `pryx mcp add`.
#[utoipa::path(post, path = "/api/v1/mcp-servers", tag = "extensions", operation_id = "add_mcp_server",
    request_body = McpServerAdd,
    responses((status = 201, body = McpServerAdded), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 409, description = "a server of that name exists", body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, description = "the target cannot be used or the test failed; nothing was saved", body = ErrorEnvelope)))]
pub async fn add(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<McpServerAdd>,
) -> Result<(StatusCode, Json<McpServerAdded>), ApiError> {
    let added = st.core.add_mcp_server(&body, API_ACTOR).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// What a loaded server offers: its tools (with their switches), resources and prompts.
#[utoipa::path(get, path = "/api/v1/mcp-servers/{name}", tag = "extensions",
    params(("name" = String, Path, description = "server name")),
    responses((status = 200, body = McpServerDetail), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "not configured, switched off, or MCP is off", body = ErrorEnvelope)))]
pub async fn get(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<McpServerDetail>, ApiError> {
    Ok(Json(st.core.mcp_server(&name).await?))
}

/// Removes a server, forgets its pinned tool list and revokes the grants given to its tools.
#[utoipa::path(delete, path = "/api/v1/mcp-servers/{name}", tag = "extensions",
    params(("name" = String, Path, description = "server name")),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn delete(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(core.remove_mcp_server(&name, API_ACTOR)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Switches a server on or off.
#[utoipa::path(put, path = "/api/v1/mcp-servers/{name}/enabled", tag = "extensions",
    params(("name" = String, Path, description = "server name")),
    request_body = Switch,
    responses((status = 204, description = "switched"), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn switch(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Switch>,
) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(core.set_mcp_server_enabled(&name, body.enabled, API_ACTOR)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Offers one tool of a server to the agent, or stops offering it (`disabled_tools`).
#[utoipa::path(put, path = "/api/v1/mcp-servers/{name}/tools/{tool}/enabled", tag = "extensions",
    params(("name" = String, Path, description = "server name"), ("tool" = String, Path, description = "the server's name for the tool")),
    request_body = Switch,
    responses((status = 204, description = "switched"), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn switch_tool(
    State(st): State<Arc<AppState>>,
    ApiPath((name, tool)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Switch>,
) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(core.set_mcp_tool_enabled(&name, &tool, body.enabled, API_ACTOR)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResourceQuery {
    /// The resource's URI, as listed.
    pub uri: String,
}

/// The text of one resource of a loaded server (binary parts named, not shown), cut at 20,000
/// characters.
#[utoipa::path(get, path = "/api/v1/mcp-servers/{name}/resource", tag = "extensions",
    params(("name" = String, Path, description = "server name"), ResourceQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "the server could not read it", body = ErrorEnvelope)))]
pub async fn resource(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<String, ApiError> {
    Ok(st.core.read_mcp_resource(&name, &q.uri).await?)
}

/// Starts an OAuth sign-in to an HTTP server (the flow of `pryx mcp auth`) and answers with the
/// authorization URL to open once it is known; the redirect comes back to a listener on this
/// machine, and `GET /mcp-servers` shows the outcome (`sign_in`). Audited as
/// `mcp.sign_in_started`.
#[utoipa::path(post, path = "/api/v1/mcp-servers/{name}/sign-in", tag = "extensions",
    params(("name" = String, Path, description = "server name")),
    responses((status = 200, body = McpSignIn), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 422, description = "a stdio server, which has no OAuth", body = ErrorEnvelope)))]
pub async fn sign_in(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<McpSignIn>, ApiError> {
    Ok(Json(st.core.start_mcp_sign_in(&name, API_ACTOR).await?))
}
