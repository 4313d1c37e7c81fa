//! Approvals waiting for an answer, and answering them (first answer from any surface wins).

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pryx_protocol::api::{
    AnswerApproval, ApprovalAccepted, ApprovalAnswer, ApprovalDecision, ApprovalList, ApprovalScope,
};
use pryx_protocol::{ErrorEnvelope, Surface};
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
