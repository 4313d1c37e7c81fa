//! `GET /config`, `PATCH /config` and `GET /config/schema`: the settings the dashboard's forms
//! edit, through the one config writer with its revision check.

use crate::error::{ApiError, blocking};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_config::{ConfigError, Edit};
use pryx_core::CoreError;
use pryx_protocol::api::{ConfigChanges, ConfigDocument, ConfigProblem, ConfigSchema};
use pryx_protocol::{ErrorCode, ErrorEnvelope};
use std::sync::Arc;

/// Most changes one request may make.
const MAX_CHANGES: usize = 512;
/// Longest key path accepted.
const MAX_KEY: usize = 512;

/// The effective configuration (defaults filled in, credentials masked) and its revision.
#[utoipa::path(get, path = "/api/v1/config", tag = "system",
    responses((status = 200, body = ConfigDocument), (status = 401, body = ErrorEnvelope)))]
pub async fn show(State(st): State<Arc<AppState>>) -> Json<ConfigDocument> {
    Json(st.core.config_document())
}

/// Every key a user can set (keys inside a collection carry `<id>`) and the collections.
#[utoipa::path(get, path = "/api/v1/config/schema", tag = "system",
    responses((status = 200, body = ConfigSchema), (status = 401, body = ErrorEnvelope)))]
pub async fn schema() -> Json<ConfigSchema> {
    Json(pryx_config::keys::schema())
}

/// Sets or removes keys together: validated as a whole and written atomically, or not at all.
/// With `base_revision`, a file changed since (by the CLI, another tab) is a 409.
#[utoipa::path(patch, path = "/api/v1/config", tag = "system",
    request_body = ConfigChanges,
    responses((status = 200, body = ConfigDocument), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 409, description = "config.json changed since `base_revision`", body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope),
        (status = 422, description = "an unknown key or a value the schema refuses; `details.problems` lists each key and the fix", body = ErrorEnvelope)))]
pub async fn edit(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<ConfigChanges>,
) -> Result<Json<ConfigDocument>, ApiError> {
    if body.changes.len() > MAX_CHANGES {
        return Err(refused(format!(
            "at most {MAX_CHANGES} changes per request"
        )));
    }
    if let Some(c) = body
        .changes
        .iter()
        .find(|c| c.key.is_empty() || c.key.len() > MAX_KEY)
    {
        return Err(refused(format!(
            "a key must be 1 to {MAX_KEY} characters ({} given)",
            c.key.len()
        )));
    }
    let edits: Vec<Edit> = body
        .changes
        .into_iter()
        .map(|c| match c.value {
            Some(v) => Edit::Set(c.key, v),
            None => Edit::Unset(c.key),
        })
        .collect();
    let core = st.core.clone();
    blocking(
        move || match core.edit_config(body.base_revision, &edits, "api") {
            Ok(_) => Ok(Json(core.config_document())),
            Err(e) => Err(config_error(e)),
        },
    )
    .await
}

fn refused(message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
        message,
    )
}

/// A refused change lists every problem with its key, for forms to show beside their fields.
fn config_error(e: CoreError) -> ApiError {
    let problems: Vec<ConfigProblem> = match &e {
        CoreError::Config(ConfigError::Rejected { problems, .. }) => problems
            .iter()
            .map(|p| ConfigProblem {
                key: p.path.clone(),
                message: p.message.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let err = ApiError::from(e).unprocessable_if_refused();
    if problems.is_empty() {
        err
    } else {
        err.with_details(serde_json::json!({ "problems": problems }))
    }
}
