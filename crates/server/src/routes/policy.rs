//! The policies: which one new turns run under, the built-in modes and the files of
//! `policies/` (listed, written once they parse, removed when unused), and "would this be
//! allowed?".

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath};
use crate::routes::API_ACTOR;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{
    PolicyCheck, PolicyCheckRequest, PolicyChoice, PolicyList, PolicyView, PolicyWrite,
};
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
    if pryx_policy::is_plain_name(name) {
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

/// The built-in modes and the files of `policies/` with their YAML, whether new sessions use
/// each and which agents name it; files that could not be used are in `problems`.
#[utoipa::path(get, path = "/api/v1/policies", tag = "system",
    responses((status = 200, body = PolicyList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Json<PolicyList>, ApiError> {
    let core = st.core.clone();
    Ok(Json(blocking(move || Ok(core.policies())).await?))
}

/// One policy.
#[utoipa::path(get, path = "/api/v1/policies/{name}", tag = "system",
    params(("name" = String, Path, description = "policy name")),
    responses((status = 200, body = PolicyView), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PolicyView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(blocking(move || Ok(core.policy(&name)?)).await?))
}

/// Writes `policies/{name}.yaml` once the engine's parser accepts the YAML and it names itself
/// `name`; built-in names are refused. Sessions pick the change up with their next turn.
/// Audited as `policy.saved`.
#[utoipa::path(put, path = "/api/v1/policies/{name}", tag = "system",
    params(("name" = String, Path, description = "policy name")),
    request_body = PolicyWrite,
    responses((status = 200, body = PolicyView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope),
        (status = 422, description = "a built-in or malformed name, or YAML the engine refuses (with the line)", body = ErrorEnvelope)))]
pub async fn put(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<PolicyWrite>,
) -> Result<Json<PolicyView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(
        blocking(move || Ok(core.save_policy(&name, &body.yaml, API_ACTOR)?)).await?,
    ))
}

/// Removes a policy file; 409 while new sessions or an agent use it, 422 for a built-in.
/// Audited as `policy.removed`.
#[utoipa::path(delete, path = "/api/v1/policies/{name}", tag = "system",
    params(("name" = String, Path, description = "policy name")),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "in use", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn delete(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(core.remove_policy(&name, API_ACTOR)?)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
