//! Switching the policy new turns run under.

use crate::error::{ApiError, blocking};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::PolicyChoice;
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
