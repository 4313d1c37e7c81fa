//! Cancelling a running turn.

use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::TurnCancelled;
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
