//! REST handlers of `/api/v1`, one module per resource.

pub mod agents;
pub mod api_keys;
pub mod approvals;
pub mod channels;
pub mod config;
pub mod context;
pub mod costs;
pub mod mcp_servers;
pub mod model;
pub mod policy;
pub mod providers;
pub mod sessions;
pub mod skills;
pub mod system;
pub mod tasks;
pub mod telemetry;
pub mod turns;
pub mod update;
pub mod web;

use crate::error::ApiError;

/// Who the audit log names for a change made through the API with the token.
pub(crate) const API_ACTOR: &str = "user:api";
use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// Unknown API paths answer in the API's error shape; any other path is a dashboard page that
/// does not exist.
pub async fn not_found(
    web: std::sync::Arc<pryx_web::Web>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || crate::openai::is_openai_path(path) {
        ApiError::not_found("no such endpoint; see /api/v1/openapi.json").into_response()
    } else {
        pryx_web::not_found(&web, req.headers())
    }
}

/// Known paths with another method.
pub async fn method_not_allowed() -> impl IntoResponse {
    let e = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        pryx_protocol::ErrorCode::ValidationFailed,
        "method not allowed on this endpoint; see /api/v1/openapi.json",
    );
    (StatusCode::METHOD_NOT_ALLOWED, Json(e.body()))
}
