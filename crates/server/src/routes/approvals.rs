//! Approvals waiting for an answer, and answering them (first answer from any surface wins);
//! the standing grants earlier answers left, listed and revoked.

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::api::{
    AnswerApproval, ApprovalAccepted, ApprovalAnswer, ApprovalDecision, ApprovalList,
    ApprovalScope, GrantList,
};
use pryx_protocol::{ErrorEnvelope, Surface};
use serde::Deserialize;
use std::sync::Arc;

/// Answers an approval through the broker; `NotFound` when another surface was first.
pub(crate) fn answer(
    st: &AppState,
    id: &str,
    decision: ApprovalDecision,
    scope: ApprovalScope,
    surface: Surface,
) -> Result<(), ApiError> {
    st.core
        .broker()
        .answer(
            id,
            ApprovalAnswer {
                decision,
                scope,
                surface,
            },
        )
        .map_err(|e| ApiError::not_found(e.to_string()))
}

/// Approvals waiting for an answer, oldest first.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals",
    responses((status = 200, body = ApprovalList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Json<ApprovalList> {
    Json(ApprovalList {
        approvals: st.core.broker().pending(),
    })
}

/// Answers an approval. The first answer from any surface (REST or WebSocket) wins; later ones
/// get 404 and every surface sees `approval.resolved`.
#[utoipa::path(post, path = "/api/v1/approvals/{id}", tag = "approvals", params(("id" = String, Path, description = "approval id")),
    request_body = AnswerApproval,
    responses((status = 200, body = ApprovalAccepted), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn decide(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AnswerApproval>,
) -> Result<Json<ApprovalAccepted>, ApiError> {
    answer(
        &st,
        &id,
        body.decision,
        body.scope,
        body.surface.unwrap_or(Surface::Web),
    )?;
    Ok(Json(ApprovalAccepted {
        id,
        decision: body.decision,
        scope: body.scope,
    }))
}

/// Every standing grant (`session` and `always` answers), newest first, expired ones flagged.
#[utoipa::path(get, path = "/api/v1/approvals/grants", tag = "approvals",
    responses((status = 200, body = GrantList), (status = 401, body = ErrorEnvelope)))]
pub async fn grants(State(st): State<Arc<AppState>>) -> Result<Json<GrantList>, ApiError> {
    let core = st.core.clone();
    let grants = blocking(move || Ok(core.grants()?)).await?;
    Ok(Json(GrantList { grants }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RevokeQuery {
    /// Which surface's user revokes it, for the audit log (default `web`).
    pub surface: Option<Surface>,
}

/// Revokes a standing grant: the next identical call asks again. Audited as `grant.revoked`.
#[utoipa::path(delete, path = "/api/v1/approvals/grants/{id}", tag = "approvals",
    params(("id" = String, Path, description = "grant id"), RevokeQuery),
    responses((status = 204, description = "revoked"), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RevokeQuery>,
) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    let surface = q.surface.unwrap_or(Surface::Web);
    blocking(move || Ok(core.revoke_grant(&id, surface)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}
