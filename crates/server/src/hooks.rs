//! `POST /hooks/<id>`: where Telegram (webhook mode) and signed webhooks deliver. Outside the
//! API's bearer token and Host checks: these requests come through the user's tunnel or
//! reverse proxy and prove themselves with the channel's own secret.

use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pryx_config::ChannelKind;
use pryx_core::webhook::{HookError, HookRequest, MAX_WAIT};
use pryx_core::{CoreError, TaskHookError, TaskHookRequest};
use std::sync::Arc;
use std::time::Duration;

/// The path prefix the guard lets through.
pub const HOOKS_PREFIX: &str = "/hooks/";

/// The header Telegram sends the webhook's `secret_token` in.
const TELEGRAM_SECRET: &str = "x-telegram-bot-api-secret-token";

pub fn router() -> axum::Router<Arc<AppState>> {
    axum::Router::new()
        .route("/hooks/{id}", axum::routing::post(deliver))
        .route("/hooks/tasks/{id}", axum::routing::post(task))
}

fn lower_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_ascii_lowercase(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect()
}

/// `POST /hooks/tasks/<id>`: a signed request that runs a webhook-triggered task (202: queued).
async fn task(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = TaskHookRequest {
        headers: lower_headers(&headers),
        body: body.to_vec(),
    };
    let core = st.core.clone();
    match tokio::task::spawn_blocking(move || core.task_hook(&id, req)).await {
        Ok(Ok(())) => answer(StatusCode::ACCEPTED, "queued"),
        Ok(Err(e)) => {
            let status = match &e {
                TaskHookError::NotFound(_) => StatusCode::NOT_FOUND,
                TaskHookError::NotActive(_) | TaskHookError::Unavailable(_) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                TaskHookError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                TaskHookError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                TaskHookError::Replayed(_) => StatusCode::CONFLICT,
            };
            answer(status, &e.to_string())
        }
        Err(e) => answer(StatusCode::INTERNAL_SERVER_ERROR, &format!("failed: {e}")),
    }
}

fn answer(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "ok": status.is_success(), "message": message })),
    )
        .into_response()
}

async fn deliver(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = st.core.settings().config.channels.get(&id).map(|c| c.kind);
    match kind {
        Some(ChannelKind::Telegram) => telegram(st, id, headers, body).await,
        Some(ChannelKind::Webhook) => match wait_of(query.as_deref()) {
            Ok(wait) => webhook(st, id, headers, body, wait).await,
            Err(m) => answer(StatusCode::BAD_REQUEST, &m),
        },
        None => answer(StatusCode::NOT_FOUND, "no channel receives here"),
    }
}

/// `?wait=30s` (or `30`): how long the caller waits for the answer.
fn wait_of(query: Option<&str>) -> Result<Option<Duration>, String> {
    let Some(q) = query else { return Ok(None) };
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        if k == "wait" {
            let secs: u64 = v
                .trim_end_matches('s')
                .parse()
                .map_err(|_| format!("`wait` is {v:?}; give seconds, like `wait=30s`"))?;
            return Ok(Some(Duration::from_secs(secs).min(MAX_WAIT)));
        }
    }
    Ok(None)
}

async fn telegram(st: Arc<AppState>, id: String, headers: HeaderMap, body: Bytes) -> Response {
    let secret = headers
        .get(TELEGRAM_SECRET)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let core = st.core.clone();
    let result =
        tokio::task::spawn_blocking(move || core.telegram_webhook(&id, secret.as_deref(), &body))
            .await;
    match result {
        Ok(Ok(())) => answer(StatusCode::OK, "stored"),
        Ok(Err(CoreError::Unauthenticated(m))) => answer(StatusCode::UNAUTHORIZED, &m),
        Ok(Err(CoreError::ChannelNotFound(_))) => {
            answer(StatusCode::NOT_FOUND, "no channel receives here")
        }
        Ok(Err(CoreError::Invalid(m))) => answer(StatusCode::BAD_REQUEST, &m),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "a webhook delivery could not be stored");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "not stored; deliver it again",
            )
        }
        Err(e) => answer(StatusCode::INTERNAL_SERVER_ERROR, &format!("failed: {e}")),
    }
}

async fn webhook(
    st: Arc<AppState>,
    id: String,
    headers: HeaderMap,
    body: Bytes,
    wait: Option<Duration>,
) -> Response {
    let req = HookRequest {
        headers: lower_headers(&headers),
        body: body.to_vec(),
        wait,
    };
    match st.core.webhook(&id, req).await {
        Ok(a) => {
            let status = if a.status == "accepted" {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            (status, Json(a)).into_response()
        }
        Err(HookError::Core(c)) => crate::ApiError::from(c).into_response(),
        Err(e) => {
            let status = match &e {
                HookError::NotFound(_) => StatusCode::NOT_FOUND,
                HookError::Paused(_) => StatusCode::SERVICE_UNAVAILABLE,
                HookError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                HookError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                HookError::Replayed(_) => StatusCode::CONFLICT,
                HookError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
                HookError::Core(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            answer(status, &e.to_string())
        }
    }
}
