//! SKILL.md skills of the main agent's workspace: listed with why each can or cannot be used,
//! read, switched on or off, their dependencies installed after the steps were seen, and new
//! ones added from a folder, an archive or a git repository (the dashboard's Skills page).

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath};
use crate::routes::API_ACTOR;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{
    SkillAddRequest, SkillDetail, SkillInstallOutcome, SkillInstallRequest, SkillList,
    SkillSummary, SkillsAdded, Switch,
};
use std::sync::Arc;

/// Every skill that applies in the main agent's workspace.
#[utoipa::path(get, path = "/api/v1/skills", tag = "extensions",
    responses((status = 200, body = SkillList), (status = 401, body = ErrorEnvelope),
        (status = 409, description = "the main agent's workspace cannot be used", body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Json<SkillList>, ApiError> {
    let core = st.core.clone();
    Ok(Json(blocking(move || Ok(core.skills()?)).await?))
}

/// Adds the skills of a folder, an archive or a git repository to the data directory's
/// `skills/` (as `pryx skills add`). The files are staged and checked first: links and special
/// files are refused, every SKILL.md must load, and a skill of the same name is replaced only
/// with `replace`. Nothing of the source runs.
#[utoipa::path(post, path = "/api/v1/skills", tag = "extensions", operation_id = "add_skills",
    request_body = SkillAddRequest,
    responses((status = 201, body = SkillsAdded), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope),
        (status = 422, description = "the source cannot be used, holds no loadable skill, or a skill exists", body = ErrorEnvelope)))]
pub async fn add(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<SkillAddRequest>,
) -> Result<(StatusCode, Json<SkillsAdded>), ApiError> {
    let added = st.core.add_skills(&body, API_ACTOR).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// One skill: SKILL.md, what it requires, and the exact steps that would install its
/// dependencies.
#[utoipa::path(get, path = "/api/v1/skills/{name}", tag = "extensions",
    params(("name" = String, Path, description = "skill name")),
    responses((status = 200, body = SkillDetail), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn get(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<SkillDetail>, ApiError> {
    let core = st.core.clone();
    Ok(Json(blocking(move || Ok(core.skill(&name)?)).await?))
}

/// Switches a skill on or off (`skills.entries.<key>.enabled`).
#[utoipa::path(put, path = "/api/v1/skills/{name}/enabled", tag = "extensions",
    params(("name" = String, Path, description = "skill name")),
    request_body = Switch,
    responses((status = 200, body = SkillSummary), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn switch(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Switch>,
) -> Result<Json<SkillSummary>, ApiError> {
    let core = st.core.clone();
    Ok(Json(
        blocking(move || Ok(core.set_skill_enabled(&name, body.enabled, API_ACTOR)?)).await?,
    ))
}

/// Runs the dependency installation `GET /skills/{name}` showed, contained as
/// `pryx skills install` runs it; `confirm` must be true.
#[utoipa::path(post, path = "/api/v1/skills/{name}/install", tag = "extensions",
    params(("name" = String, Path, description = "skill name")),
    request_body = SkillInstallRequest,
    responses((status = 200, body = SkillInstallOutcome), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, description = "not confirmed, no such installer, or the installation failed", body = ErrorEnvelope)))]
pub async fn install(
    State(st): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<SkillInstallRequest>,
) -> Result<Json<SkillInstallOutcome>, ApiError> {
    if !body.confirm {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            pryx_protocol::ErrorCode::ValidationFailed,
            "nothing was run: read the steps from GET /api/v1/skills/{name}, then send confirm: true",
        ));
    }
    Ok(Json(
        st.core
            .install_skill_deps(&name, &body.installer, API_ACTOR)
            .await?,
    ))
}
