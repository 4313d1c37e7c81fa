//! `GET /telemetry` and `PUT /telemetry`: whether anything leaves the machine, where to, how
//! the export goes (sent, dropped, failed), and a sample of what the current tier sends.

use crate::error::{ApiError, blocking};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{PutTelemetry, TelemetryStatus};
use std::sync::Arc;

/// The export's state, with the latest turn's spans as the current tier would send them.
#[utoipa::path(get, path = "/api/v1/telemetry", tag = "system",
    responses((status = 200, body = TelemetryStatus), (status = 401, body = ErrorEnvelope)))]
pub async fn status(State(st): State<Arc<AppState>>) -> Result<Json<TelemetryStatus>, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(Json(core.telemetry_status()?))).await
}

/// Turns export on (to `endpoint`, or the configured one) or off; written to `config.json`,
/// applied at once and audited.
#[utoipa::path(put, path = "/api/v1/telemetry", tag = "system",
    request_body = PutTelemetry,
    responses((status = 200, body = TelemetryStatus), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, description = "the endpoint is not an http(s) URL, or enabling names none", body = ErrorEnvelope)))]
pub async fn set(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<PutTelemetry>,
) -> Result<Json<TelemetryStatus>, ApiError> {
    st.core
        .set_telemetry(&body, "api")
        .await
        .map(Json)
        .map_err(|e| ApiError::from(e).unprocessable_if_refused())
}
