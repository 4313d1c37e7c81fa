//! `GET /costs`: what model calls cost since a day, by day, agent, model and session, and how
//! much of each budget is used (the dashboard's Costs page and `pryx costs --json` alike).

use crate::error::{ApiError, blocking};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::CostReport;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CostsQuery {
    /// From this day (`YYYY-MM-DD`, UTC) or this many days back (`7d`); all time without.
    #[param(
        max_length = 16,
        pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,5}d)$"
    )]
    pub since: Option<String>,
}

/// Spend by day, agent, model and session, and the budgets.
#[utoipa::path(get, path = "/api/v1/costs", tag = "system", params(CostsQuery),
    responses((status = 200, body = CostReport), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 422, description = "a day that does not exist (2026-02-30)", body = ErrorEnvelope)))]
pub async fn report(
    State(st): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<CostsQuery>,
) -> Result<Json<CostReport>, ApiError> {
    // Absent is all time; anything given (an empty value too) must be a range.
    let since = match q.since.as_deref() {
        Some(s) => Some(pryx_core::costs::since_day(s).map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                pryx_protocol::ErrorCode::ValidationFailed,
                e,
            )
        })?),
        None => None,
    };
    let core = st.core.clone();
    blocking(move || {
        let config = core.settings().config.clone();
        Ok(Json(pryx_core::costs::report(
            core.store(),
            &config,
            since.as_deref(),
        )?))
    })
    .await
}
