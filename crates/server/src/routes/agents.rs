//! Agent profiles: the named workspace + model + policy combinations sessions are created from.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{AgentList, AgentView};
use std::sync::Arc;

/// Every usable agent profile, `main` first.
#[utoipa::path(get, path = "/api/v1/agents", tag = "system",
    responses((status = 200, body = AgentList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Json<AgentList> {
    let agents = st
        .core
        .profiles()
        .into_iter()
        .map(|p| AgentView {
            default: p.id == pryx_config::MAIN_AGENT,
            id: p.id,
            workspace: p.workspace.display().to_string(),
            model: p.model,
            fallbacks: p.fallbacks,
            policy: p.policy,
        })
        .collect();
    Json(AgentList { agents })
}
