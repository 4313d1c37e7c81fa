//! Tasks: every scheduled task with its status, schedule in words, next run, last run (status,
//! time, cost), cost this month and run count; pause, resume and run now; a task's run history;
//! and the notifications of finished runs (the header's badge counts the unread ones) with
//! *Mark all read*. Adding a task takes a prompt and a trigger, which `pryx tasks add` asks for
//! (shown here). The list refreshes itself every few seconds.

use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pryx_core::CoreError;
use pryx_protocol::api::{
    BeatOutcome, NotificationView, RunReason, RunStatus, TaskRunView, TaskStatus, TaskView,
};
use serde::Deserialize;
use std::sync::Arc;

/// Notifications listed on the page.
const NOTIFICATIONS: u32 = 20;
/// Runs the history page lists.
const RUNS: u32 = 50;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/tasks", get(show))
        .route("/tasks/live", get(live))
        .route("/tasks/notifications/read", post(mark_read))
        .route("/tasks/{id}", get(detail))
        .route("/tasks/{id}/pause", post(pause))
        .route("/tasks/{id}/resume", post(resume))
        .route("/tasks/{id}/run", post(run_now))
}

/// A time as shown: absolute (UTC) and relative to now.
pub struct When {
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
    /// `2026-12-01 19:45:10 UTC`.
    pub text: String,
    /// `in 8 s`, `3 min ago`.
    pub rel: String,
}

fn when(ts: &str, now: time::OffsetDateTime) -> When {
    let parsed =
        time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).ok();
    let Some(t) = parsed else {
        return When {
            iso: ts.to_string(),
            text: ts.to_string(),
            rel: String::new(),
        };
    };
    let t = t.to_offset(time::UtcOffset::UTC);
    let text = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let secs = (t - now).whole_seconds();
    let span = |s: i64| match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=172_799 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} days", s / 86_400),
    };
    let rel = if secs == 0 {
        "just now".to_string()
    } else if secs > 0 {
        format!("in {}", span(secs))
    } else {
        format!("{} ago", span(-secs))
    };
    When {
        iso: ts.to_string(),
        text,
        rel,
    }
}

fn status_word(s: TaskStatus) -> (&'static str, &'static str) {
    match s {
        TaskStatus::Active => ("ok", "active"),
        TaskStatus::Paused => ("off", "paused"),
        TaskStatus::Disabled => ("off", "disabled"),
        TaskStatus::Failed => ("bad", "failed"),
    }
}

fn run_word(s: RunStatus) -> (&'static str, &'static str) {
    match s {
        RunStatus::Running => ("warn", "running"),
        RunStatus::Succeeded => ("ok", "succeeded"),
        RunStatus::Failed => ("bad", "failed"),
        RunStatus::Interrupted => ("bad", "interrupted"),
    }
}

fn reason_word(r: RunReason) -> &'static str {
    match r {
        RunReason::Schedule => "schedule",
        RunReason::CatchUp => "catch-up",
        RunReason::Retry => "retry",
        RunReason::Manual => "by hand",
        RunReason::FileChange => "file change",
        RunReason::Webhook => "webhook",
    }
}

/// Dollars with enough digits for cheap runs.
fn money(usd: f64) -> String {
    if usd >= 1.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A run as shown.
pub struct Run {
    pub number: String,
    pub tone: &'static str,
    pub status: &'static str,
    pub reason: &'static str,
    pub started: When,
    pub took: String,
    pub tokens: String,
    pub cost: String,
    pub summary: String,
    pub error: String,
    pub denied: Vec<String>,
    /// `target: state (reason)` of each notification.
    pub deliveries: Vec<String>,
    pub session_id: String,
}

impl Run {
    fn from_api(r: &TaskRunView, now: time::OffsetDateTime) -> Run {
        let (tone, status) = run_word(r.status);
        let took = r.duration_ms.map_or(String::new(), |ms| match ms {
            0..=999 => format!("{ms} ms"),
            1_000..=59_999 => format!("{:.1} s", ms as f64 / 1e3),
            _ => format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000),
        });
        Run {
            number: match r.attempt {
                0 => format!("#{}", r.run_number),
                n => format!("#{} (retry {n})", r.run_number),
            },
            tone,
            status,
            reason: reason_word(r.reason),
            started: when(&r.started_at, now),
            took,
            tokens: format!("{} in / {} out", r.tokens_in, r.tokens_out),
            cost: money(r.cost_usd),
            summary: r.summary.as_deref().map(first_line).unwrap_or_default(),
            error: r.error.clone().unwrap_or_default(),
            denied: r.denied.clone(),
            deliveries: r
                .notifications
                .iter()
                .map(|n| match &n.reason {
                    Some(why) => format!("{}: {} ({why})", n.target, n.state),
                    None => format!("{}: {}", n.target, n.state),
                })
                .collect(),
            session_id: r.session_id.clone().unwrap_or_default(),
        }
    }
}

/// A task as shown.
pub struct Row {
    pub id: String,
    pub name: String,
    pub tone: &'static str,
    pub status: &'static str,
    pub active: bool,
    pub error: String,
    pub schedule: String,
    pub next: Option<When>,
    pub last: Option<Run>,
    pub month: String,
    pub runs: u64,
    pub agent: String,
    pub prompt: String,
    pub heartbeat: Option<Beat>,
}

/// A heartbeat's day, as shown.
pub struct Beat {
    pub hours: String,
    pub today: String,
    pub checklist: bool,
    /// How the last beat ended and what it saw (empty before the first).
    pub last: String,
    pub last_tone: &'static str,
}

impl Beat {
    fn from_api(t: &TaskView) -> Option<Beat> {
        let (spec, st) = (t.spec.heartbeat.as_ref()?, t.heartbeat.as_ref()?);
        let (last, last_tone) = match st.last_outcome {
            None => (String::new(), ""),
            Some(o) => {
                let (word, tone) = match o {
                    BeatOutcome::Idle => ("idle, no model call", ""),
                    BeatOutcome::Ok => ("all well (HEARTBEAT_OK, not delivered)", "ok"),
                    BeatOutcome::Alert => ("alert delivered", "warn"),
                    BeatOutcome::Failed => ("failed", "error"),
                    BeatOutcome::OutsideHours => ("held back: outside its active hours", ""),
                    BeatOutcome::BudgetSpent => ("held back: today's budget is spent", "warn"),
                };
                let detail = st.last_detail.as_deref().unwrap_or_default();
                (format!("{word} — {detail}"), tone)
            }
        };
        Some(Beat {
            hours: format!(
                "{} ({})",
                spec.active_hours.as_deref().unwrap_or("all day"),
                spec.tz.as_deref().unwrap_or("UTC")
            ),
            today: format!(
                "{} with the model · {} idle · {} held back · {} of {}",
                st.model_beats_today,
                st.idle_beats_today,
                st.skipped_beats_today,
                money(st.cost_today_usd),
                money(st.daily_budget_usd)
            ),
            checklist: st.checklist,
            last,
            last_tone,
        })
    }
}

impl Row {
    fn from_api(t: &TaskView, now: time::OffsetDateTime) -> Row {
        let (tone, status) = status_word(t.status);
        let active = t.status == TaskStatus::Active;
        Row {
            id: t.id.clone(),
            name: t.spec.name.clone(),
            tone,
            status,
            active,
            error: t.error.clone().unwrap_or_default(),
            schedule: t.schedule.clone(),
            // A paused task's old time does not come back: resuming computes it again.
            next: t
                .next_run_at
                .as_deref()
                .filter(|_| active)
                .map(|n| when(n, now)),
            last: t.last_run.as_ref().map(|r| Run::from_api(r, now)),
            month: money(t.cost_this_month_usd),
            runs: t.runs,
            agent: t.spec.agent.clone().unwrap_or_else(|| "main".into()),
            prompt: first_line(&t.spec.prompt),
            heartbeat: Beat::from_api(t),
        }
    }
}

/// A notification as shown.
pub struct Note {
    pub task_id: String,
    pub tone: &'static str,
    pub title: String,
    pub body: String,
    pub at: When,
    pub read: bool,
}

impl Note {
    fn from_api(n: &NotificationView, now: time::OffsetDateTime) -> Note {
        let (tone, _) = run_word(n.status);
        Note {
            task_id: n.task_id.clone(),
            tone,
            title: n.title.clone(),
            body: n.body.clone(),
            at: when(&n.created_at, now),
            read: n.read,
        }
    }
}

/// What the live part shows.
pub struct Board {
    pub rows: Vec<Row>,
    pub notes: Vec<Note>,
    pub unread: u64,
    /// Changes whenever anything shown (but the relative times) changes.
    pub signature: String,
}

fn signature(tasks: &[TaskView], notes: &[NotificationView], unread: u64) -> String {
    let text = format!(
        "{}|{}|{unread}",
        serde_json::to_string(tasks).unwrap_or_default(),
        serde_json::to_string(notes).unwrap_or_default()
    );
    hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())[..8])
}

fn board(web: &Web) -> Result<Board, String> {
    let tasks = web.core.task_list().map_err(|e| e.to_string())?;
    let (notes, unread) = web
        .core
        .store()
        .inbox(NOTIFICATIONS)
        .map_err(|e| e.to_string())?;
    let now = time::OffsetDateTime::now_utc();
    Ok(Board {
        signature: signature(&tasks, &notes, unread),
        rows: tasks.iter().map(|t| Row::from_api(t, now)).collect(),
        notes: notes.iter().map(|n| Note::from_api(n, now)).collect(),
        unread,
    })
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct Page {
    layout: Layout,
    board: Board,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "tasks_live.html")]
struct Live {
    board: Board,
    csrf: String,
}

#[derive(Template)]
#[template(path = "task.html")]
struct Detail {
    layout: Layout,
    task: Row,
    runs: Vec<Run>,
    notice: Option<String>,
}

fn failed(web: &Web, viewer: &Viewer, why: &str) -> Response {
    tracing::error!(error = %why, "the tasks page could not be read");
    problem(
        web,
        Some(viewer),
        StatusCode::INTERNAL_SERVER_ERROR,
        "Tasks unavailable",
        &format!("The tasks could not be read ({why}). Run `pryx doctor` to check the database."),
    )
}

/// The answer to a task action that the core refused.
fn refused(web: &Web, viewer: &Viewer, e: &CoreError) -> Response {
    let (status, heading) = match e {
        CoreError::TaskNotFound(_) => (StatusCode::NOT_FOUND, "No such task"),
        CoreError::Conflict(_) => (StatusCode::CONFLICT, "Not started"),
        CoreError::Unusable(_) => (StatusCode::BAD_REQUEST, "Not changed"),
        _ => return failed(web, viewer, &e.to_string()),
    };
    problem(web, Some(viewer), status, heading, &e.to_string())
}

#[derive(Deserialize)]
struct Notice {
    done: Option<String>,
    task: Option<String>,
}

impl Notice {
    fn text(&self) -> Option<String> {
        let task = self.task.as_deref().unwrap_or("The task");
        match self.done.as_deref()? {
            "paused" => Some(format!("{task} paused: it does not run until resumed.")),
            "resumed" => Some(format!("{task} resumed.")),
            "run" => Some(format!("{task} started; its run shows below when it ends.")),
            "read" => Some("Notifications marked read.".to_string()),
            _ => None,
        }
    }
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(n): Query<Notice>) -> Response {
    let w = web.clone();
    let loaded = tokio::task::spawn_blocking(move || board(&w)).await;
    match loaded {
        Ok(Ok(board)) => render(
            StatusCode::OK,
            &Page {
                layout: Layout::new(&web, &viewer, "Tasks", "tasks"),
                board,
                notice: n.text(),
            },
        ),
        Ok(Err(e)) => failed(&web, &viewer, &e),
        Err(e) => failed(&web, &viewer, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct Seen {
    seen: Option<String>,
}

/// The list's live part; 204 (htmx keeps the page as it is) while nothing changed.
async fn live(State(web): State<Arc<Web>>, viewer: Viewer, Query(s): Query<Seen>) -> Response {
    let w = web.clone();
    let loaded = tokio::task::spawn_blocking(move || board(&w)).await;
    match loaded {
        Ok(Ok(board)) if s.seen.as_deref() == Some(board.signature.as_str()) => {
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Ok(board)) => render(
            StatusCode::OK,
            &Live {
                board,
                csrf: viewer.session.csrf.clone(),
            },
        ),
        Ok(Err(e)) => failed(&web, &viewer, &e),
        Err(e) => failed(&web, &viewer, &e.to_string()),
    }
}

async fn detail(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    let w = web.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let t = w.core.task_show(&id)?;
        let runs = w.core.task_runs(&t.id, RUNS)?;
        Ok::<_, CoreError>((t, runs))
    })
    .await;
    let now = time::OffsetDateTime::now_utc();
    match loaded {
        Ok(Ok((t, runs))) => render(
            StatusCode::OK,
            &Detail {
                layout: Layout::new(&web, &viewer, format!("Task {}", t.spec.name), "tasks"),
                task: Row::from_api(&t, now),
                runs: runs.iter().map(|r| Run::from_api(r, now)).collect(),
                notice: n.text(),
            },
        ),
        Ok(Err(e)) => refused(&web, &viewer, &e),
        Err(e) => failed(&web, &viewer, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct Back {
    /// `detail` when the form was on the task's own page.
    from: Option<String>,
}

/// Where an action goes back to, with what it did.
fn back(view: &TaskView, from: &Back, done: &str) -> Response {
    let task: String = form_urlencoded::byte_serialize(view.spec.name.as_bytes()).collect();
    let id: String = form_urlencoded::byte_serialize(view.id.as_bytes()).collect();
    match from.from.as_deref() {
        Some("detail") => see_other(&format!("/tasks/{id}?done={done}&task={task}")),
        _ => see_other(&format!("/tasks?done={done}&task={task}")),
    }
}

async fn set_active(
    web: Arc<Web>,
    viewer: Viewer,
    id: String,
    resume: bool,
    from: Back,
) -> Response {
    let w = web.clone();
    let done = tokio::task::spawn_blocking(move || {
        if resume {
            w.core.task_resume(&id)
        } else {
            w.core.task_pause(&id)
        }
    })
    .await;
    match done {
        Ok(Ok(t)) => back(&t, &from, if resume { "resumed" } else { "paused" }),
        Ok(Err(e)) => refused(&web, &viewer, &e),
        Err(e) => failed(&web, &viewer, &e.to_string()),
    }
}

async fn pause(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::Form(from): axum::Form<Back>,
) -> Response {
    set_active(web, viewer, id, false, from).await
}

async fn resume(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::Form(from): axum::Form<Back>,
) -> Response {
    set_active(web, viewer, id, true, from).await
}

async fn run_now(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::Form(from): axum::Form<Back>,
) -> Response {
    let started = web.core.task_run_now(&id).await;
    let w = web.clone();
    let view = match started {
        Ok(run) => tokio::task::spawn_blocking(move || w.core.task_show(&run.task_id)).await,
        Err(e) => return refused(&web, &viewer, &e),
    };
    match view {
        Ok(Ok(t)) => {
            tracing::info!(task = %t.id, browser = %viewer.session.id, "a task was run from the dashboard");
            back(&t, &from, "run")
        }
        Ok(Err(e)) => refused(&web, &viewer, &e),
        Err(e) => failed(&web, &viewer, &e.to_string()),
    }
}

/// Marks every notification read.
async fn mark_read(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    let w = web.clone();
    let done = tokio::task::spawn_blocking(move || w.core.store().mark_read(&[])).await;
    match done {
        Ok(Ok(_)) => see_other("/tasks?done=read#notifications"),
        Ok(Err(e)) => failed(&web, &viewer, &e.to_string()),
        Err(e) => failed(&web, &viewer, &e.to_string()),
    }
}

#[cfg(test)]
mod tests;
