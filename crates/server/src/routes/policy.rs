//! Switching the policy new turns run under.

use crate::error::{ApiError, blocking};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{PolicyCheck, PolicyCheckRequest, PolicyChoice};
use std::sync::Arc;

/// Sets the default policy of new sessions (`defaults.policy`, persisted in config). Existing
/// sessions keep theirs (change one with `PATCH /sessions/{id}`). A name that is not a built-in
/// mode nor a loadable file in `policies/` is 404.
#[utoipa::path(put, path = "/api/v1/policy", tag = "system",
    request_body = PolicyChoice,
    responses((status = 200, body = PolicyChoice), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "no policy of that name", body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn set(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<PolicyChoice>,
) -> Result<Json<PolicyChoice>, ApiError> {
    let name = body.name.trim().to_string();
    check_name(&name)?;
    let core = st.core.clone();
    blocking(move || {
        let name = core.set_default_policy(&name, "api")?;
        Ok(Json(PolicyChoice { name }))
    })
    .await
}

/// "Would this be allowed?": how the policy judges a call now, as a turn of the agent would
/// (same engine, tools, workspace and containment), without running, asking or recording it.
#[utoipa::path(post, path = "/api/v1/policy/check", tag = "system",
    request_body = PolicyCheckRequest,
    responses((status = 200, body = PolicyCheck), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "no policy or agent of that name", body = ErrorEnvelope),
        (status = 409, description = "the agent cannot be built as configured", body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope),
        (status = 422, description = "arguments that are not an object, or a name that is not one", body = ErrorEnvelope)))]
pub async fn check(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<PolicyCheckRequest>,
) -> Result<Json<PolicyCheck>, ApiError> {
    if body.tool.is_empty() || body.tool.len() > 128 {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            pryx_protocol::ErrorCode::ValidationFailed,
            "the tool name must be 1 to 128 characters",
        ));
    }
    let mut body = body;
    // An empty name is no name: the agent's own policy, the main agent.
    body.policy = body.policy.filter(|p| !p.trim().is_empty());
    body.agent = body.agent.filter(|a| !a.trim().is_empty());
    if let Some(p) = &body.policy {
        check_name(p).map_err(ApiError::unprocessable_if_refused)?;
    }
    if body.agent.as_ref().is_some_and(|a| a.len() > 64) {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            pryx_protocol::ErrorCode::ValidationFailed,
            "an agent name is at most 64 characters",
        ));
    }
    st.core
        .check_call(&body)
        .await
        .map(Json)
        .map_err(|e| ApiError::from(e).unprocessable_if_refused())
}

/// Only names are accepted here, never paths: a file policy must live in the data dir.
pub(crate) fn check_name(name: &str) -> Result<(), ApiError> {
    let plain = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if plain {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "policy name {name:?} is not valid; use a built-in mode or the stem of a file in policies/ (letters, digits, '-', '_')"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn only_plain_names_pass() {
        for ok in ["read-only", "workspace-only", "team_a2"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/p.yaml",
            "../x",
            "a/b",
            "x.yaml",
            "x.yml",
            ".hidden",
            "a b",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
