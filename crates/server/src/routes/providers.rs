//! Providers: presets to start from, set up (the key is given once and never returned), remove,
//! and a live test. A running core uses a change from its next turn.

use super::model::model_name;
use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{
    PresetList, ProviderList, ProviderTestReport, ProviderView, PutProvider, TestProvider,
};
use std::sync::Arc;

/// Providers Pryx knows how to set up, with the key variable found in the core's environment
/// (offered, never used unless a `PUT` names it).
#[utoipa::path(get, path = "/api/v1/providers/presets", tag = "providers",
    responses((status = 200, body = PresetList), (status = 401, body = ErrorEnvelope)))]
pub async fn presets(State(st): State<Arc<AppState>>) -> Json<PresetList> {
    Json(st.core.provider_presets())
}

/// The configured providers; keys are never included.
#[utoipa::path(get, path = "/api/v1/providers", tag = "providers",
    responses((status = 200, body = ProviderList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Json<ProviderList>, ApiError> {
    let core = st.core.clone();
    blocking(move || {
        Ok(Json(ProviderList {
            providers: core.providers(),
        }))
    })
    .await
}

/// One configured provider.
#[utoipa::path(get, path = "/api/v1/providers/{id}", tag = "providers", params(("id" = String, Path, description = "provider id", min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")),
    responses((status = 200, body = ProviderView), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProviderView>, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(Json(core.provider(&id)?))).await
}

/// Creates or replaces a provider. `api_key` goes to the secret store; config keeps only a
/// reference to it.
#[utoipa::path(put, path = "/api/v1/providers/{id}", tag = "providers", params(("id" = String, Path, description = "provider id", min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")),
    request_body = PutProvider,
    responses((status = 200, body = ProviderView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "unknown preset", body = ErrorEnvelope), (status = 409, description = "config.json changed elsewhere", body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn put(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PutProvider>,
) -> Result<Json<ProviderView>, ApiError> {
    check_put(&body)?;
    let core = st.core.clone();
    blocking(move || Ok(Json(core.put_provider(&id, &body, "api")?))).await
}

/// Removes a provider and its stored key.
#[utoipa::path(delete, path = "/api/v1/providers/{id}", tag = "providers", params(("id" = String, Path, description = "provider id", min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || {
        core.delete_provider(&id, "api")?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// One tiny real call (at most 16 output tokens): latency, tokens and cost, or the provider's
/// own error (`ok: false`).
#[utoipa::path(post, path = "/api/v1/providers/{id}/test", tag = "providers", params(("id" = String, Path, description = "provider id", min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")),
    request_body = TestProvider,
    responses((status = 200, body = ProviderTestReport), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn test(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<TestProvider>,
) -> Result<Json<ProviderTestReport>, ApiError> {
    if let Some(m) = &body.model
        && !model_name(m)
    {
        return Err(ApiError::bad_request(format!(
            "model {m:?} is not valid; give the model id as the provider knows it (at most 256 characters)"
        )));
    }
    Ok(Json(
        st.core.test_provider(&id, body.model.as_deref()).await?,
    ))
}

/// The body's shape, as the schema describes it; what the values mean is the core's to judge.
fn check_put(body: &PutProvider) -> Result<(), ApiError> {
    let bad = |what: &str| Err(ApiError::bad_request(what.to_string()));
    if body
        .preset
        .as_deref()
        .is_some_and(|p| !pryx_config::is_name(p))
    {
        return bad("preset must be a preset id from GET /api/v1/providers/presets");
    }
    if body
        .kind
        .as_deref()
        .is_some_and(|k| !matches!(k, "openai-compatible" | "anthropic"))
    {
        return bad("kind must be `openai-compatible` or `anthropic`");
    }
    if let Some(url) = &body.base_url {
        let scheme = url.starts_with("http://") || url.starts_with("https://");
        let parsed = base_url_pattern().is_some_and(|re| re.is_match(url))
            && url::Url::parse(url).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()));
        if !scheme || !parsed || url.len() > 2000 || url.chars().any(char::is_whitespace) {
            return bad(
                "base_url must be an http:// or https:// URL with a host, without spaces (at most 2000 bytes)",
            );
        }
    }
    if let Some(k) = &body.api_key
        && (k.is_empty() || k.len() > 4096 || !k.bytes().all(|b| (0x21..=0x7e).contains(&b)))
    {
        return bad("api_key must be 1–4096 printable characters without spaces");
    }
    if let Some(v) = &body.api_key_env {
        let ok = !v.is_empty()
            && v.len() <= 128
            && v.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return bad("api_key_env must be an environment variable name (letters, digits, '_')");
        }
    }
    if body
        .default_model
        .as_deref()
        .is_some_and(|m| !model_name(m))
    {
        return bad(
            "default_model must be a model id as the provider knows it (at most 256 characters)",
        );
    }
    Ok(())
}

/// [`pryx_protocol::api::BASE_URL_PATTERN`], compiled once; `None` (every URL refused) if it
/// ever failed to compile.
fn base_url_pattern() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(pryx_protocol::api::BASE_URL_PATTERN).ok())
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The schema's pattern with its anchors off, as a generator of strings it admits.
    fn admitted() -> impl Strategy<Value = String> {
        let inner = pryx_protocol::api::BASE_URL_PATTERN
            .trim_start_matches('^')
            .trim_end_matches('$');
        proptest::string::string_regex(inner).expect("the base URL pattern is a valid regex")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// Whatever the published pattern admits, the handler accepts: a client that follows
        /// the OpenAPI document never gets a 400 for the base URL.
        #[test]
        fn every_url_the_pattern_admits_is_accepted(url in admitted()) {
            let body = PutProvider { base_url: Some(url.clone()), ..PutProvider::default() };
            // The schema's maxLength (2000) is the one other limit.
            prop_assert_eq!(check_put(&body).is_ok(), url.len() <= 2000, "{}", url);
        }
    }

    #[test]
    fn the_document_publishes_the_same_pattern() {
        let doc = serde_json::to_value(crate::openapi()).expect("the document serializes");
        let pattern =
            &doc["components"]["schemas"]["PutProvider"]["properties"]["base_url"]["pattern"];
        assert_eq!(pattern, pryx_protocol::api::BASE_URL_PATTERN);
    }

    #[test]
    fn hosts_a_url_parser_reads_as_a_bad_ipv4_address_are_refused() {
        for url in [
            "http://x.otg0B.V.sx66.c.2J9.3",
            "http://a.0x1f",
            "http://1.2.3",
            "http://256.1.1.1",
            "http://xn--a.com",
        ] {
            let body = PutProvider {
                base_url: Some(url.into()),
                ..PutProvider::default()
            };
            assert!(check_put(&body).is_err(), "{url} should be refused");
        }
    }
}
