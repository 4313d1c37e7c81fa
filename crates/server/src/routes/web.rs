//! The dashboard's sign-in links, minted for a holder of the API token (`pryx dashboard`).

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use pryx_protocol::api::LoginLink;
use pryx_protocol::{ErrorCode, ErrorEnvelope};
use std::sync::Arc;

/// A one-time login link for a browser: it works once, for two minutes, and is traded for a
/// cookie session (the API token never reaches the browser). A browser's own cookie cannot mint
/// one: this call needs the bearer token.
#[utoipa::path(post, path = "/api/v1/web/login", tag = "system",
    responses((status = 200, body = LoginLink), (status = 401, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn login_link(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<LoginLink>, ApiError> {
    // The guard has checked that Host names this gateway.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let code = st.web.auth.issue_code().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal,
            "the system's random source failed, so no safe login code can be made; check the gateway log",
        )
    })?;
    let expires_at = code
        .expires_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Ok(Json(LoginLink {
        url: format!("http://{host}/login?code={}", code.code),
        expires_at,
    }))
}
