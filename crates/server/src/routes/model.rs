//! Switching the model new turns run on.

use crate::error::{ApiError, blocking};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::ModelChoice;
use std::sync::Arc;

/// Sets the default model of new sessions (`defaults.model`, persisted in config, so it
/// survives a restart). Existing sessions keep theirs (change one with `PATCH /sessions/{id}`).
/// A provider that is not configured is 404.
#[utoipa::path(put, path = "/api/v1/model", tag = "system",
    request_body = ModelChoice,
    responses((status = 200, body = ModelChoice), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "no configured provider or model of that id", body = ErrorEnvelope),
        (status = 409, description = "no provider is configured yet (PROVIDER_NOT_CONFIGURED)", body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn set(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<ModelChoice>,
) -> Result<Json<ModelChoice>, ApiError> {
    let requested = body.id.trim().to_string();
    check_id(&requested)?;
    let core = st.core.clone();
    blocking(move || {
        let id = core.set_default_model(&requested, "api")?;
        Ok(Json(ModelChoice { id }))
    })
    .await
}

/// `provider/model` as the schema's pattern describes it: a plain provider name, then a model
/// name that starts with a letter or digit.
pub(crate) fn check_id(id: &str) -> Result<(), ApiError> {
    let valid = id.len() <= 256
        && id.split_once('/').is_some_and(|(provider, model)| {
            provider.starts_with(|c: char| c.is_ascii_alphanumeric())
                && provider
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                && model_name(model)
        });
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "model id {id:?} is not valid; use PROVIDER/MODEL with a configured provider (see GET /api/v1/models)"
        )))
    }
}

/// A model id as a provider knows it: starts with a letter or digit, no spaces, ≤ 256 bytes.
pub(crate) fn model_name(m: &str) -> bool {
    m.len() <= 256
        && m.starts_with(|c: char| c.is_ascii_alphanumeric())
        && m.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '+' | '/' | '-')
        })
}

#[cfg(test)]
mod tests {
    use super::check_id;

    #[test]
    fn only_provider_slash_model_passes() {
        for ok in [
            "openai/gpt-4o",
            "mock/gpt-4o",
            "openrouter/anthropic/claude-3.5-sonnet",
            "ollama/llama3:8b",
        ] {
            assert!(check_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "gpt-4o",
            "/gpt-4o",
            "openai/",
            "openai//x",
            "a b/c",
            "open ai/gpt",
            "openai/gpt 4o",
            ".x/y",
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert!(check_id(&format!("a/{}", "b".repeat(300))).is_err());
    }
}
