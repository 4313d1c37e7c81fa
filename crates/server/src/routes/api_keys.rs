//! Per-client API keys for the OpenAI-compatible `/v1`: listed, made (the key is answered once)
//! and revoked. The guard lets only the bearer token reach these (no browser cookie, no key).

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pryx_protocol::api::{ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyRevoked};
use pryx_protocol::{ErrorEnvelope, Surface};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SurfaceQuery {
    /// Which surface's user acts, for the audit log (default `web`).
    pub surface: Option<Surface>,
}

fn actor(q: &SurfaceQuery) -> String {
    format!("user:{}", q.surface.unwrap_or(Surface::Web).as_str())
}

/// Every API key, newest first, revoked ones included; never the keys themselves.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys",
    responses((status = 200, body = ApiKeyList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Json<ApiKeyList>, ApiError> {
    let core = st.core.clone();
    let keys = blocking(move || Ok(core.store().list_api_keys()?)).await?;
    Ok(Json(ApiKeyList {
        keys: keys.iter().map(pryx_store::ApiKey::view).collect(),
    }))
}

/// Makes an API key, limited to `agents` when given. The answer holds the key, shown this once
/// (only its SHA-256 is kept). Audited as `api_key.created`.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", params(SurfaceQuery),
    request_body = ApiKeyCreate,
    responses((status = 201, body = ApiKeyCreated), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, description = "an agent it names does not exist", body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope)))]
pub async fn create(
    State(st): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<SurfaceQuery>,
    ApiJson(body): ApiJson<ApiKeyCreate>,
) -> Result<Response, ApiError> {
    let core = st.core.clone();
    let created = blocking(move || {
        let known: Vec<String> = core.profiles().into_iter().map(|p| p.id).collect();
        if let Some(a) = body
            .agents
            .iter()
            .find(|a| !known.contains(&a.trim().to_string()))
        {
            return Err(ApiError::not_found(format!(
                "there is no agent `{a}`; the agents are {} (GET /api/v1/agents)",
                known.join(", ")
            )));
        }
        let new = pryx_store::NewApiKey {
            name: body.name,
            agents: body.agents,
        };
        let (key, secret) = core.store().create_api_key(&new, &actor(&q))?;
        Ok(ApiKeyCreated {
            secret,
            key: key.view(),
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Revokes an API key: `/v1` refuses it from now on. Audited as `api_key.revoked`.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "API key id"), SurfaceQuery),
    responses((status = 200, body = ApiKeyRevoked), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SurfaceQuery>,
) -> Result<Json<ApiKeyRevoked>, ApiError> {
    let core = st.core.clone();
    let key = blocking(move || {
        core.store()
            .revoke_api_key(&id, &actor(&q))?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "no API key with id {id}; list them with `pryx api-keys list`"
                ))
            })
    })
    .await?;
    Ok(Json(ApiKeyRevoked {
        revoked: key.view(),
    }))
}
