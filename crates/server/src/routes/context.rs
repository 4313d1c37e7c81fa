//! A session's context: how full the model's window is, compaction on request, pinned
//! messages, forks, and the background processes it runs.

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::api::{MessageView, SessionSummary};
use pryx_protocol::{ContextCompacted, ErrorEnvelope, ForkRequest, ProcessList, SessionContext};
use std::sync::Arc;

/// How full the model's window is for the session's next request: each part's estimated
/// tokens, what was pruned, the pins, and what `/compact` would summarise and cost.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/context", tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = SessionContext), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "no provider is configured yet (PROVIDER_NOT_CONFIGURED)", body = ErrorEnvelope)))]
pub async fn context(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SessionContext>, ApiError> {
    Ok(Json(st.core.session_context(&id).await?))
}

/// Summarises the session's messages before its latest request (they stay stored and in
/// exports); GET …/context shows what it would cost first.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/compact", tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = ContextCompacted), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "a turn is running, or there is nothing (more) to compact", body = ErrorEnvelope),
        (status = 502, description = "the model could not summarise (COMPACTION_FAILED); nothing changed", body = ErrorEnvelope)))]
pub async fn compact(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ContextCompacted>, ApiError> {
    Ok(Json(st.core.compact_session(&id).await?))
}

/// Pins a message: it reaches the model verbatim through compaction and pruning. A session's
/// pins together hold at most 20,000 characters.
#[utoipa::path(put, path = "/api/v1/sessions/{id}/messages/{message_id}/pin", tag = "sessions",
    params(("id" = String, Path, description = "session id"), ("message_id" = String, Path, description = "message id")),
    responses((status = 200, body = MessageView), (status = 400, description = "over the pinned-characters cap", body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn pin(
    State(st): State<Arc<AppState>>,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
) -> Result<Json<MessageView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(
        blocking(move || Ok(core.pin_message(&id, &message_id, true)?)).await?,
    ))
}

/// Unpins a message.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}/messages/{message_id}/pin", tag = "sessions",
    params(("id" = String, Path, description = "session id"), ("message_id" = String, Path, description = "message id")),
    responses((status = 200, body = MessageView), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn unpin(
    State(st): State<Arc<AppState>>,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
) -> Result<Json<MessageView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(
        blocking(move || Ok(core.pin_message(&id, &message_id, false)?)).await?,
    ))
}

/// Forks the session at a message (its last by default) into a new session that keeps a link
/// to this one (`parent_id`). The messages up to there are copied, with their pins and
/// summaries; spend starts at zero.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/fork", tag = "sessions",
    params(("id" = String, Path, description = "session id")), request_body = ForkRequest,
    responses((status = 201, body = SessionSummary), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "no such session or message", body = ErrorEnvelope),
        (status = 409, description = "the session has no messages yet", body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn fork(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ForkRequest>,
) -> Result<(StatusCode, Json<SessionSummary>), ApiError> {
    let core = st.core.clone();
    let summary = blocking(move || {
        let child = core.fork_session(&id, body.message_id.as_deref())?;
        Ok(super::sessions::summary(&core, child, None))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

/// The session's background processes (started by `shell.exec` with `background: true`), oldest
/// first, with their status and last lines.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/processes", tag = "sessions",
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = ProcessList), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn processes(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProcessList>, ApiError> {
    let core = st.core.clone();
    let processes = blocking(move || Ok(core.session_processes(&id)?)).await?;
    Ok(Json(ProcessList { processes }))
}
