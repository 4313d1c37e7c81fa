//! Cancelling a running turn, and running the last message again.

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{RetryTurn, TurnAccepted, TurnCancelled};
use std::sync::Arc;

/// Cancels a running turn; it ends with `turn.completed` and `stop: cancelled`.
#[utoipa::path(post, path = "/api/v1/turns/{id}/cancel", tag = "sessions", params(("id" = String, Path, description = "turn id")),
    responses((status = 202, body = TurnCancelled), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn cancel(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<TurnCancelled>), ApiError> {
    let session_id = st.core.cancel_turn(&id)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TurnCancelled {
            turn_id: id,
            session_id,
        }),
    ))
}

/// Runs the session's last user message again as a new turn, optionally on another model (which
/// becomes the session's), after taking back the answer (or failure) it got.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/retry", tag = "sessions",
    params(("id" = String, Path, description = "session id")), request_body = RetryTurn,
    responses((status = 202, body = TurnAccepted), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "a turn runs there, or there is no message to retry", body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
pub async fn retry(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RetryTurn>,
) -> Result<(StatusCode, Json<TurnAccepted>), ApiError> {
    let started = st
        .core
        .retry_last(&id, body.model.as_deref(), "api")
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TurnAccepted {
            turn_id: started.turn_id,
            session_id: started.session_id,
            after_version: started.after_version,
        }),
    ))
}
