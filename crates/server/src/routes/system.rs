//! Health, readiness, diagnostics, and what the core offers: models, tools, the audit log.

use crate::error::{ApiError, blocking};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{
    AuditList, AuditView, Components, Diagnostics, Health, ModelList, ToolList, ToolView,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use utoipa::IntoParams;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn health(st: &AppState, status: &str, reason: Option<String>) -> Health {
    Health {
        status: status.to_string(),
        version: VERSION.to_string(),
        uptime_seconds: st.core.uptime().as_secs(),
        reason,
    }
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/api/v1/health", tag = "system", security(()), responses((status = 200, body = Health)))]
pub async fn live(State(st): State<Arc<AppState>>) -> Json<Health> {
    Json(health(&st, "healthy", None))
}

/// Readiness: the database can be read and written and the core accepts turns. While writes
/// fail (full disk, read-only data dir) it answers 503 `degraded` with the reason, and turns
/// `ready` again by itself once a write succeeds.
#[utoipa::path(get, path = "/api/v1/health/ready", tag = "system", security(()),
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn ready(State(st): State<Arc<AppState>>) -> (StatusCode, Json<Health>) {
    if st.core.is_shutting_down() {
        let h = health(&st, "unavailable", Some("the core is shutting down".into()));
        return (StatusCode::SERVICE_UNAVAILABLE, Json(h));
    }
    let core = st.core.clone();
    let store = blocking(move || Ok(core.store_health()))
        .await
        .unwrap_or_else(|e| Err(e.message));
    match store {
        Ok(()) => (StatusCode::OK, Json(health(&st, "ready", None))),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(health(&st, "degraded", Some(reason))),
        ),
    }
}

/// `pryx doctor` run on this core's data dir: every check with what was found and the fix.
#[utoipa::path(get, path = "/api/v1/doctor", tag = "system",
    responses((status = 200, body = pryx_protocol::api::DoctorReport), (status = 401, body = ErrorEnvelope),
        (status = 500, description = "the checks could not be run", body = ErrorEnvelope)))]
pub async fn doctor(
    State(st): State<Arc<AppState>>,
) -> Result<Json<pryx_protocol::api::DoctorReport>, ApiError> {
    Ok(Json(st.core.doctor().await?))
}

/// The components block of PRD §13 and the core's live figures.
#[utoipa::path(get, path = "/api/v1/diagnostics", tag = "system",
    responses((status = 200, body = Diagnostics), (status = 401, body = ErrorEnvelope)))]
pub async fn diagnostics(State(st): State<Arc<AppState>>) -> Result<Json<Diagnostics>, ApiError> {
    let core = st.core.clone();
    let (database, schema_version) = blocking(move || {
        let version = core.store().schema_version().unwrap_or(0);
        Ok(match core.store_health() {
            Ok(()) => ("ok".to_string(), version),
            Err(reason) => (reason, version),
        })
    })
    .await?;
    let main = st.core.profile(None).ok();
    let status = if database == "ok" {
        "healthy"
    } else {
        "degraded"
    };
    Ok(Json(Diagnostics {
        status: status.to_string(),
        version: VERSION.to_string(),
        uptime_seconds: st.core.uptime().as_secs(),
        components: Components {
            database,
            keychain: st.keychain.clone(),
            integrations: BTreeMap::new(),
        },
        pid: std::process::id(),
        model: main
            .as_ref()
            .and_then(|p| p.model.clone())
            .unwrap_or_default(),
        policy: main.as_ref().map(|p| p.policy.clone()).unwrap_or_default(),
        workspace: main
            .as_ref()
            .map(|p| p.workspace.display().to_string())
            .unwrap_or_default(),
        running_turns: u32::try_from(st.core.running_turns()).unwrap_or(u32::MAX),
        pending_approvals: u32::try_from(st.core.broker().pending().len()).unwrap_or(u32::MAX),
        ws_clients: u32::try_from(st.ws_clients.load(Ordering::Relaxed)).unwrap_or(u32::MAX),
        schema_version,
        telemetry: st.core.telemetry_brief(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelsQuery {
    /// Only this configured provider's models.
    #[param(max_length = 64)]
    pub provider: Option<String>,
}

/// Models of the configured providers (catalog figures; local providers cost nothing), the
/// default model first and marked.
#[utoipa::path(get, path = "/api/v1/models", tag = "system", params(ModelsQuery),
    responses((status = 200, body = ModelList), (status = 401, body = ErrorEnvelope), (status = 404, description = "the provider is not configured", body = ErrorEnvelope)))]
pub async fn models(
    State(st): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ModelsQuery>,
) -> Result<Json<ModelList>, ApiError> {
    Ok(Json(ModelList {
        models: st.core.models(q.provider.as_deref()).await?,
    }))
}

/// The tools the agent may call (subject to policy).
#[utoipa::path(get, path = "/api/v1/tools", tag = "system",
    responses((status = 200, body = ToolList), (status = 401, body = ErrorEnvelope)))]
pub async fn tools(State(st): State<Arc<AppState>>) -> Json<ToolList> {
    // Without a provider there is no agent yet; its tools are the built-ins.
    let definitions = match st.core.profile_agent(None).await {
        Ok(agent) => agent.tools().definitions(),
        Err(_) => pryx_tools::ToolRegistry::with_builtins().definitions(),
    };
    let tools = definitions
        .into_iter()
        .map(|d| ToolView {
            name: d.name,
            description: d.description,
            kind: d.kind.as_str().to_string(),
            parameters: d.parameters,
        })
        .collect();
    Json(ToolList { tools })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this session's entries.
    pub session_id: Option<String>,
    /// Only actions starting with this (`tool.`, `telemetry`).
    #[param(max_length = 128)]
    pub action: Option<String>,
    /// Only actors starting with this (`agent:`, `api`).
    #[param(max_length = 128)]
    pub actor: Option<String>,
    /// Only this outcome (`success`, `failure`, `denied`, …).
    #[param(max_length = 64)]
    pub outcome: Option<String>,
    /// How many of the latest entries, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The latest audit entries (tool calls and decisions), oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "system", params(AuditQuery),
    responses((status = 200, body = AuditList), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn audit(
    State(st): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let core = st.core.clone();
    for (name, value, max) in [
        ("action", &q.action, 128),
        ("actor", &q.actor, 128),
        ("outcome", &q.outcome, 64),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::bad_request(format!(
                "{name} is at most {max} characters"
            )));
        }
    }
    let filter = pryx_store::AuditFilter {
        session_id: q.session_id,
        action: q.action.filter(|s| !s.is_empty()),
        actor: q.actor.filter(|s| !s.is_empty()),
        outcome: q.outcome.filter(|s| !s.is_empty()),
        limit,
    };
    let rows = blocking(move || Ok(core.store().list_audit_where(&filter)?)).await?;
    let entries = rows
        .into_iter()
        .map(|r| AuditView {
            seq: r.seq,
            timestamp: r.timestamp,
            actor: r.entry.actor,
            action: r.entry.action,
            resource_type: r.entry.resource_type,
            resource_id: r.entry.resource_id,
            session_id: r.entry.session_id,
            details: r.entry.details,
            outcome: r.entry.outcome,
            hash: r.hash,
        })
        .collect();
    Ok(Json(AuditList { entries }))
}
