//! Scheduled tasks: listed with their schedule and last result, added (a webhook-triggered one
//! answers its signing key once), replaced, paused, resumed, run now, removed; their run history;
//! the built-in templates; and the notifications inbox the dashboard and TUI show.

use crate::error::{ApiError, blocking};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pryx_protocol::ErrorEnvelope;
use pryx_protocol::api::{
    NotificationList, NotificationsRead, TaskCreated, TaskList, TaskRunList, TaskRunStarted,
    TaskSpec, TaskTemplateList, TaskView,
};
use serde::Deserialize;
use std::sync::Arc;

/// How many items to answer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

fn limit(q: &LimitQuery) -> Result<u32, ApiError> {
    match q.limit {
        None => Ok(20),
        Some(n @ 1..=100) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit {n} is out of range: 1–100"
        ))),
    }
}

/// Every task with its status, next run, last run and cost this month.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks",
    responses((status = 200, body = TaskList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(st): State<Arc<AppState>>) -> Result<Json<TaskList>, ApiError> {
    let core = st.core.clone();
    let tasks = blocking(move || Ok(core.task_list()?)).await?;
    Ok(Json(TaskList { tasks }))
}

/// Adds a task. Refused with 422 when it cannot be scheduled as written (cron expression, zone,
/// a time in the past, an unknown agent or channel, a watch outside the workspace, a variable
/// the prompt uses but does not set); 409 when the name is taken.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", request_body = TaskSpec,
    responses((status = 201, body = TaskCreated), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(st): State<Arc<AppState>>,
    ApiJson(spec): ApiJson<TaskSpec>,
) -> Result<Response, ApiError> {
    let core = st.core.clone();
    let created = blocking(move || Ok(core.task_create(spec)?)).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// One task, by id or name.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "task id or name")),
    responses((status = 200, body = TaskView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(blocking(move || Ok(core.task_show(&id)?)).await?))
}

/// Replaces a task's spec; its schedule starts again from now.
#[utoipa::path(put, path = "/api/v1/tasks/{id}", tag = "tasks", request_body = TaskSpec,
    params(("id" = String, Path, description = "task id or name")),
    responses((status = 200, body = TaskView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn put(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(spec): ApiJson<TaskSpec>,
) -> Result<Json<TaskView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(
        blocking(move || Ok(core.task_update(&id, spec)?)).await?,
    ))
}

/// Removes a task and its history (the sessions of its runs stay).
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "task id or name")),
    responses((status = 204, description = "removed"), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let core = st.core.clone();
    blocking(move || Ok(core.task_delete(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a task: nothing of it runs until it is resumed.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/pause", tag = "tasks",
    params(("id" = String, Path, description = "task id or name")),
    responses((status = 200, body = TaskView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn pause(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(blocking(move || Ok(core.task_pause(&id)?)).await?))
}

/// Resumes (or re-enables) a task; its next run is computed from now.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/resume", tag = "tasks",
    params(("id" = String, Path, description = "task id or name")),
    responses((status = 200, body = TaskView), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn resume(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskView>, ApiError> {
    let core = st.core.clone();
    Ok(Json(blocking(move || Ok(core.task_resume(&id)?)).await?))
}

/// Runs a task now (409 while a run of it goes). The run's progress is in its session.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/run", tag = "tasks",
    params(("id" = String, Path, description = "task id or name")),
    responses((status = 202, body = TaskRunStarted), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope)))]
pub async fn run(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let run = st.core.task_run_now(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(TaskRunStarted { run })).into_response())
}

/// A task's runs, newest first (the last 100 are kept).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/runs", tag = "tasks",
    params(("id" = String, Path, description = "task id or name"), LimitQuery),
    responses((status = 200, body = TaskRunList), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn runs(
    State(st): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Json<TaskRunList>, ApiError> {
    let n = limit(&q)?;
    let core = st.core.clone();
    let runs = blocking(move || Ok(core.task_runs(&id, n)?)).await?;
    Ok(Json(TaskRunList { runs }))
}

/// The built-in templates: a prompt with variables, a trigger and the tools to allow.
#[utoipa::path(get, path = "/api/v1/tasks/templates", tag = "tasks",
    responses((status = 200, body = TaskTemplateList), (status = 401, body = ErrorEnvelope)))]
pub async fn templates(State(st): State<Arc<AppState>>) -> Json<TaskTemplateList> {
    Json(TaskTemplateList {
        templates: st.core.task_templates(),
    })
}

/// The notifications of finished runs, newest first, with how many are unread.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "tasks", params(LimitQuery),
    responses((status = 200, body = NotificationList), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub async fn notifications(
    State(st): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let n = limit(&q)?;
    let core = st.core.clone();
    let (notifications, unread) = blocking(move || Ok(core.store().inbox(n)?)).await?;
    Ok(Json(NotificationList {
        notifications,
        unread,
    }))
}

/// Marks notifications read (all of them when `ids` is empty).
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "tasks",
    request_body = NotificationsRead,
    responses((status = 200, body = NotificationList), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope)))]
pub async fn read(
    State(st): State<Arc<AppState>>,
    ApiJson(body): ApiJson<NotificationsRead>,
) -> Result<Json<NotificationList>, ApiError> {
    let core = st.core.clone();
    let (notifications, unread) = blocking(move || {
        core.store().mark_read(&body.ids)?;
        Ok(core.store().inbox(20)?)
    })
    .await?;
    Ok(Json(NotificationList {
        notifications,
        unread,
    }))
}
