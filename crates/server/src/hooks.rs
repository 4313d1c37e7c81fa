//! `POST /hooks/<id>`: where Telegram (webhook mode) and signed webhooks deliver. Outside the
//! API's bearer token and Host checks: these requests come through the user's tunnel or
//! reverse proxy and prove themselves with the channel's own secret.

use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pryx_core::CoreError;
use std::sync::Arc;

/// The path prefix the guard lets through.
pub const HOOKS_PREFIX: &str = "/hooks/";

/// The header Telegram sends the webhook's `secret_token` in.
const TELEGRAM_SECRET: &str = "x-telegram-bot-api-secret-token";

pub fn router() -> axum::Router<Arc<AppState>> {
    axum::Router::new().route("/hooks/{id}", axum::routing::post(deliver))
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
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
