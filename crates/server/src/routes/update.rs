//! `GET /update` and `POST /update/seen`: what every surface shows about updates (a newer
//! release, "what's new" after an update, a rollback and its reason), once.

use crate::error::{ApiError, blocking};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::UpdateStatus;
use std::sync::Arc;

/// This version, a newer release a background check found, and the last update or rollback.
#[utoipa::path(get, path = "/api/v1/update", tag = "system",
    responses((status = 200, body = UpdateStatus), (status = 401, body = ErrorEnvelope)))]
pub async fn status(State(st): State<Arc<AppState>>) -> Result<Json<UpdateStatus>, ApiError> {
    let core = st.core.clone();
    let status = blocking(move || {
        let config = core.settings().config.clone();
        Ok(pryx_update::State::new(core.dir().root())
            .status(&config.updates.channel, config.updates.auto_check))
    })
    .await?;
    Ok(Json(status))
}

/// Marks the last update or rollback as shown, so other surfaces do not show it again.
#[utoipa::path(post, path = "/api/v1/update/seen", tag = "system",
    responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 500, body = ErrorEnvelope)))]
pub async fn seen(State(st): State<Arc<AppState>>) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || {
        let state = pryx_update::State::new(core.dir().root());
        if let Some(last) = state.unannounced() {
            state
                .mark_announced(&last.at)
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
