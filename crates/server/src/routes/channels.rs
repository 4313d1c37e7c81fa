//! Chat channels and inbound webhooks: listed with their live status, added (tokens and
//! secrets go to the secret store), paused, resumed, removed, tested; single-use pairing codes.

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::api_keys::SurfaceQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::Surface;
use pryx_protocol::api::{
    ChannelCreate, ChannelCreated, ChannelList, ChannelTestReport, ChannelView, PairingCode,
};
use std::sync::Arc;

fn actor(q: &SurfaceQuery) -> String {
    format!("user:{}", q.surface.unwrap_or(Surface::Web).as_str())
}

/// Every channel with its status (from its real traffic), outbox counts and paired senders.
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = ChannelList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Json<ChannelList>, ApiError> {
    let core = st.core.clone();
    let channels = blocking(move || Ok(core.channels())).await?;
    Ok(Json(ChannelList { channels }))
}

/// Adds or replaces a channel. A Telegram token is checked with `getMe` first (refused when
/// Telegram refuses it; saved with a `warning` when Telegram cannot be reached) and stored in
/// the secret store; a webhook's signing secret is generated when not given and answered once.
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", params(SurfaceQuery),
    request_body = ChannelCreate,
    responses((status = 201, body = ChannelCreated), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope),
        (status = 422, description = "a value is refused (e.g. Telegram refuses the token)", body = ErrorEnvelope)))]
pub async fn create(
    State(st): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<SurfaceQuery>,
    ApiJson(body): ApiJson<ChannelCreate>,
) -> Result<Response, ApiError> {
    let created = st
        .core
        .put_channel(&body, &actor(&q))
        .await
        .map_err(|e| ApiError::from(e).unprocessable_if_refused())?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// One channel.
#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = String, Path, description = "channel id")),
    responses((status = 200, body = ChannelView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChannelView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(blocking(move || Ok(core.channel(&id)?)).await?))
}

/// Removes a channel, its token and what it kept (its conversations stay as sessions).
#[utoipa::path(delete, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = String, Path, description = "channel id"), SurfaceQuery),
    responses((status = 204, description = "removed"), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SurfaceQuery>,
) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(core.delete_channel(&id, &actor(&q))?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a channel: nothing is received or sent until it is resumed.
#[utoipa::path(post, path = "/api/v1/channels/{id}/pause", tag = "channels",
    params(("id" = String, Path, description = "channel id"), SurfaceQuery),
    responses((status = 200, body = ChannelView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn pause(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SurfaceQuery>,
) -> Result<Json<ChannelView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(
        blocking(move || Ok(core.set_channel_enabled(&id, false, &actor(&q))?)).await?,
    ))
}

/// Resumes a paused channel.
#[utoipa::path(post, path = "/api/v1/channels/{id}/resume", tag = "channels",
    params(("id" = String, Path, description = "channel id"), SurfaceQuery),
    responses((status = 200, body = ChannelView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn resume(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SurfaceQuery>,
) -> Result<Json<ChannelView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(
        blocking(move || Ok(core.set_channel_enabled(&id, true, &actor(&q))?)).await?,
    ))
}

/// A single-use pairing code (10 minutes) that lets the next sender who sends it talk to the
/// agent. Audited as `channel.pair_code`; the pairing itself as `channel.paired`.
#[utoipa::path(post, path = "/api/v1/channels/{id}/pair", tag = "channels",
    params(("id" = String, Path, description = "channel id"), SurfaceQuery),
    responses((status = 200, body = PairingCode), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "a webhook channel pairs nobody", body = ErrorEnvelope)))]
pub async fn pair(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SurfaceQuery>,
) -> Result<Json<PairingCode>, ApiError> {
    let core = st.core.clone();
    Ok(Json(
        blocking(move || Ok(core.pair_code(&id, &actor(&q))?)).await?,
    ))
}

/// Checks the channel's credentials (Telegram: `getMe` with its token).
#[utoipa::path(post, path = "/api/v1/channels/{id}/test", tag = "channels",
    params(("id" = String, Path, description = "channel id")),
    responses((status = 200, body = ChannelTestReport), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "the channel has no readable token to test", body = ErrorEnvelope)))]
pub async fn test(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChannelTestReport>, ApiError> {
    st.core
        .test_channel(&id)
        .await
        .map(Json)
        .map_err(|e| ApiError::from(e).unprocessable_if_refused())
}
