//! Sessions: list and search, create, read with messages, delete, and send a message.

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::sse;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pryx_core::{Core, SessionChange, SessionRequest};
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{
    CreateSession, RemovedMessages, SendMessage, SessionDetail, SessionList, SessionSummary,
    SpanInfo, SpanList, TurnAccepted, UpdateSession,
};
use pryx_store::{Page, Session};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// Largest page size.
const MAX_LIMIT: u32 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Full-text search over message text (every term must match).
    #[param(max_length = 1000)]
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<u32>,
}

/// Workspace paths by id, read once for a whole listing.
pub(crate) fn workspace_paths(core: &Core) -> HashMap<String, String> {
    core.store()
        .list_workspaces()
        .map(|all| all.into_iter().map(|w| (w.id, w.path)).collect())
        .unwrap_or_default()
}

/// One session's summary (its workspace read by id).
pub(crate) fn summary(core: &Core, s: Session, snippet: Option<String>) -> SessionSummary {
    let paths: HashMap<String, String> = s
        .workspace_id
        .as_deref()
        .and_then(|id| core.store().get_workspace(id).ok().flatten())
        .map(|w| (w.id, w.path))
        .into_iter()
        .collect();
    summary_with(core, s, snippet, &paths)
}

pub(crate) fn summary_with(
    core: &Core,
    s: Session,
    snippet: Option<String>,
    paths: &HashMap<String, String>,
) -> SessionSummary {
    let workspace = s
        .workspace_id
        .as_deref()
        .and_then(|id| paths.get(id))
        .cloned();
    let mut summary = s.into_summary(workspace, snippet);
    summary.workspace_warning = summary
        .workspace
        .as_deref()
        .and_then(|w| core.workspace_warning(w));
    summary.busy = core.is_busy(&summary.id);
    summary
}

/// Lists sessions, newest first; with `q`, the sessions whose messages match, best first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(ListQuery),
    responses((status = 200, body = SessionList), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn list(
    State(st): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<SessionList>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > 1_000_000 {
        return Err(ApiError::bad_request("offset must be at most 1000000"));
    }
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 1000) {
        return Err(ApiError::bad_request("q must be at most 1000 characters"));
    }
    let core = st.core.clone();
    let sessions = blocking(move || {
        let store = core.store();
        let paths = workspace_paths(&core);
        Ok(match q.q.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(text) => store
                .search_sessions(text, limit, offset)?
                .into_iter()
                .map(|h| summary_with(&core, h.session, Some(h.snippet), &paths))
                .collect(),
            None => store
                .list_sessions(None, Page { limit, offset })?
                .into_iter()
                .map(|s| summary_with(&core, s, None, &paths))
                .collect(),
        })
    })
    .await?;
    Ok(Json(SessionList {
        sessions,
        limit,
        offset,
    }))
}

/// Creates a session from an agent profile (default `main`); `workspace`, `model` and `policy`
/// override the profile's. The session keeps them for its later turns.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = CreateSession,
    responses((status = 201, body = SessionSummary), (status = 400, description = "a workspace that does not exist, is not a directory or is the data dir", body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "the agent, provider, model, policy or workspace id is unknown to this core", body = ErrorEnvelope),
        (status = 409, description = "no provider is configured yet (PROVIDER_NOT_CONFIGURED)", body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn create(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<CreateSession>,
) -> Result<Response, ApiError> {
    if body.title.as_ref().is_some_and(|t| t.chars().count() > 500) {
        return Err(ApiError::bad_request(
            "title must be at most 500 characters",
        ));
    }
    if let Some(m) = &body.model {
        super::model::check_id(m)?;
    }
    if let Some(p) = &body.policy {
        super::policy::check_name(p)?;
    }
    if let Some(a) = &body.agent
        && !pryx_config::is_name(a)
    {
        return Err(ApiError::bad_request(format!(
            "agent {a:?} is not valid; use 1–64 letters, digits, '.', '_' or '-' (see GET /api/v1/agents)"
        )));
    }
    for w in [&body.workspace, &body.workspace_id].into_iter().flatten() {
        if w.is_empty() || w.len() > 4096 {
            return Err(ApiError::bad_request(
                "workspace must be an absolute directory path or a workspace id (1–4096 bytes)",
            ));
        }
    }
    let request = SessionRequest {
        title: body.title,
        agent: body.agent,
        workspace: body.workspace.or(body.workspace_id),
        model: body.model,
        policy: body.policy,
    };
    let core = st.core.clone();
    let s = blocking(move || {
        let s = core.create_session(&request)?;
        Ok(summary(&core, s, None))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

/// Changes a session's title, model or policy for its later turns (a running turn keeps its
/// own). Model and policy changes are audited.
#[utoipa::path(patch, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = String, Path, description = "session id")),
    request_body = UpdateSession,
    responses((status = 200, body = SessionSummary), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "no such session, or the model or policy is unknown", body = ErrorEnvelope),
        (status = 409, description = "no provider is configured yet (PROVIDER_NOT_CONFIGURED)", body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn update(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateSession>,
) -> Result<Json<SessionSummary>, ApiError> {
    if body.title.as_ref().is_some_and(|t| t.chars().count() > 500) {
        return Err(ApiError::bad_request(
            "title must be at most 500 characters",
        ));
    }
    if let Some(m) = &body.model {
        super::model::check_id(m)?;
    }
    if let Some(p) = &body.policy {
        super::policy::check_name(p)?;
    }
    let change = SessionChange {
        title: body.title,
        model: body.model,
        policy: body.policy,
    };
    let core = st.core.clone();
    blocking(move || {
        let s = core.update_session(&id, &change, "api")?;
        Ok(Json(summary(&core, s, None)))
    })
    .await
}

/// A session with its messages.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = SessionDetail), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SessionDetail>, ApiError> {
    let core = st.core.clone();
    let detail = blocking(move || {
        let store = core.store();
        let s = store.get_session(&id)?.ok_or_else(|| {
            ApiError::not_found(format!(
                "session {id} not found; list sessions with GET /api/v1/sessions"
            ))
        })?;
        let messages = store
            .list_messages(&id)?
            .into_iter()
            .map(pryx_store::Message::into_view)
            .collect();
        let last_version = store.last_event_version(&id)?;
        Ok(SessionDetail {
            session: summary(&core, s, None),
            messages,
            last_version,
        })
    })
    .await?;
    Ok(Json(detail))
}

/// The session's trace timeline: every turn, model call, tool call and approval wait with its
/// tokens and cost.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/spans", tag = "sessions", params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = SpanList), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn spans(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SpanList>, ApiError> {
    let core = st.core.clone();
    let spans = blocking(move || {
        let store = core.store();
        if store.get_session(&id)?.is_none() {
            return Err(ApiError::not_found(format!(
                "session {id} not found; list sessions with GET /api/v1/sessions"
            )));
        }
        Ok(store
            .list_spans(&id)?
            .into_iter()
            .map(|s| SpanInfo {
                id: s.id,
                trace_id: s.trace_id,
                parent_id: s.parent_id,
                kind: s.kind.as_str().to_string(),
                name: s.name,
                started_at: s.started_at,
                ended_at: s.ended_at,
                status: s.status.as_str().to_string(),
                tokens_in: s.tokens_in,
                tokens_out: s.tokens_out,
                cost_usd: s.cost_usd,
            })
            .collect())
    })
    .await?;
    Ok(Json(SpanList { spans }))
}

/// Deletes a session with its messages and events (refused while a turn runs in it).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = String, Path, description = "session id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope)))]
pub async fn delete(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(core.delete_session(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the session's last user message and the answer it got (for a message that cannot fit
/// the model, or one sent by mistake). Any other message is refused with 400.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}/messages/{message_id}", tag = "sessions",
    params(("id" = String, Path, description = "session id"), ("message_id" = String, Path, description = "the session's last user message")),
    responses((status = 200, body = RemovedMessages), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "a turn is running in the session", body = ErrorEnvelope)))]
pub async fn remove_message(
    State(st): State<Arc<AppState>>,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
) -> Result<Json<RemovedMessages>, ApiError> {
    let core = st.core.clone();
    let removed = blocking(move || Ok(core.remove_last_user_message(&id, &message_id)?)).await?;
    Ok(Json(RemovedMessages { removed }))
}

/// One Server-Sent Event of a streamed turn.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct SseFrame {
    /// The event envelope as JSON text; a `resync` frame holds `{"type":"resync","dropped":N}`.
    pub data: String,
    /// The event name (`session.delta`, `turn.completed`, …, or `resync`).
    pub event: Option<String>,
    /// The event's version, for persisted events.
    pub id: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StreamMode {
    Sse,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SendQuery {
    /// `sse`: answer with the turn's events as Server-Sent Events until `turn.completed`.
    #[param(inline)]
    pub stream: Option<StreamMode>,
}

/// Starts a turn with the user's message and returns its id at once (202). With `?stream=sse`
/// the answer is the turn's event stream instead.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/messages", tag = "sessions",
    params(("id" = String, Path, description = "session id"), SendQuery), request_body = SendMessage,
    responses((status = 202, body = TurnAccepted),
        (status = 200, description = "the turn's events as Server-Sent Events", content_type = "text/event-stream", body = SseFrame),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
pub async fn send(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SendQuery>,
    ApiJson(body): ApiJson<SendMessage>,
) -> Result<Response, ApiError> {
    if body.content.chars().count() > 100_000 {
        return Err(ApiError::bad_request(
            "content must be at most 100,000 characters",
        ));
    }
    // Subscribe before the turn starts so the stream misses nothing.
    let rx = q.stream.map(|_| st.core.bus().subscribe());
    let started = st.core.start_turn(&id, &body.content).await?;
    match rx {
        Some(rx) => Ok(sse::turn_stream(rx, started, st.shutdown.clone()).into_response()),
        None => Ok((
            StatusCode::ACCEPTED,
            Json(TurnAccepted {
                turn_id: started.turn_id,
                session_id: started.session_id,
                after_version: started.after_version,
            }),
        )
            .into_response()),
    }
}
