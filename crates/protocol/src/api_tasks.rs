//! Scheduled tasks (`GET|POST /tasks`, `GET|PATCH|DELETE /tasks/{id}`,
//! `POST /tasks/{id}/pause|resume|run`, `GET /tasks/{id}/runs`, `GET /tasks/templates`) and the
//! notifications their runs send (`GET /notifications`, `POST /notifications/read`).
//!
//! A task is a prompt an agent runs unattended when its trigger fires. What it is (its
//! [`TaskSpec`]) is what the user wrote; what it is doing (status, next run, last result) is the
//! scheduler's and only ever comes back out.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// When a task runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskTrigger {
    /// A 5-field cron expression (or `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`),
    /// read in `tz` (an IANA name; default UTC). Day of month and day of week are OR-ed as in
    /// cron when both are set.
    Cron {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
        expr: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
        tz: Option<String>,
    },
    /// Every `seconds`, counted from when the task was created (or resumed).
    Every {
        #[serde(deserialize_with = "crate::whole::u64")]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 31_536_000))]
        seconds: u64,
    },
    /// Once, at an RFC 3339 time (or a local `YYYY-MM-DDTHH:MM[:SS]` read in `tz`).
    At {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
        tz: Option<String>,
    },
    /// When files matching `glob` (relative to the agent's workspace) change; changes within
    /// `debounce_ms` of each other make one run.
    FileChange {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
        glob: String,
        #[serde(
            default = "default_debounce_ms",
            deserialize_with = "crate::whole::u64"
        )]
        #[cfg_attr(feature = "openapi", schema(minimum = 100, maximum = 3_600_000))]
        debounce_ms: u64,
    },
    /// When a signed request reaches `POST /hooks/tasks/{id}`.
    Webhook,
    /// Only when asked to (`pryx tasks run`, `POST /tasks/{id}/run`).
    Manual,
}

fn default_debounce_ms() -> u64 {
    2000
}

/// What happens to runs missed while Pryx was not running (or the machine slept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Missed runs are dropped; the task runs at its next time.
    Skip,
    /// However many were missed, the task runs once now.
    #[default]
    RunOnce,
    /// Each missed run runs, one after the other (at most 10; older ones are dropped).
    RunAll,
}

/// After a run failed on its last retry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Notify and keep the schedule.
    #[default]
    Notify,
    /// Notify and pause the task.
    Pause,
    /// Notify and disable the task (it no longer runs until enabled with resume).
    Disable,
}

/// Retrying a failed run: `backoff_secs`, then twice that, … up to `max_backoff_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    #[serde(deserialize_with = "crate::whole::u32")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 20))]
    pub max_retries: u32,
    #[serde(deserialize_with = "crate::whole::u64")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 86_400))]
    pub backoff_secs: u64,
    #[serde(deserialize_with = "crate::whole::u64")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 604_800))]
    pub max_backoff_secs: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            backoff_secs: 60,
            max_backoff_secs: 3600,
        }
    }
}

/// Which runs notify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotifyWhen {
    /// Every finished run.
    #[default]
    Always,
    /// Runs that failed (after their last retry), were interrupted or needed an approval.
    Failure,
    /// Runs that succeeded.
    Success,
    Never,
}

/// Where a run's notification goes. The dashboard and the TUI always see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NotifyTarget {
    /// A chat of a configured channel (a Telegram chat id the bot talks to).
    Channel {
        #[cfg_attr(
            feature = "openapi",
            schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")
        )]
        channel: String,
        #[cfg_attr(
            feature = "openapi",
            schema(min_length = 1, max_length = 64, pattern = "^-?[0-9]{1,20}$")
        )]
        chat: String,
    },
    /// A URL the notification is POSTed to as JSON.
    Webhook {
        #[cfg_attr(
            feature = "openapi",
            schema(
                max_length = 2000,
                pattern = "^https?://(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?(/[A-Za-z0-9._~%/-]*)?$"
            )
        )]
        url: String,
    },
}

/// What a task is, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// 1–64 letters, digits, spaces, `.`, `_` or `-`; unique.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9._-][A-Za-z0-9 ._-]*$"
        )
    )]
    pub name: String,
    /// What the agent is asked; `{{name}}` is replaced by the variable `name` from `vars`.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 20000))]
    pub prompt: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// The agent profile that runs it (default `main`): its workspace, model, policy, limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")
    )]
    pub agent: Option<String>,
    pub trigger: TaskTrigger,
    #[serde(default)]
    pub catch_up: CatchUp,
    #[serde(default)]
    pub retry: RetryPolicy,
    #[serde(default)]
    pub on_failure: OnFailure,
    #[serde(default)]
    pub notify: NotifyWhen,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub notify_targets: Vec<NotifyTarget>,
    /// A run still going after this long is cancelled and counts as failed.
    #[serde(
        default = "default_timeout_secs",
        deserialize_with = "crate::whole::u64"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 10, maximum = 86_400))]
    pub timeout_secs: u64,
    /// Makes the task its agent's heartbeat (at most one per agent): each beat is a light turn
    /// over the workspace's `HEARTBEAT.md` checklist and what happened since the last beat, run
    /// only when something is due or happened (an idle beat calls no model); a reply of just
    /// `HEARTBEAT_OK` is not delivered. `prompt` is added to the checklist (it may be empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<HeartbeatSpec>,
}

/// A heartbeat's limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HeartbeatSpec {
    /// Local hours when it beats, `HH:MM-HH:MM` (past midnight allowed: `22:00-06:00`); none:
    /// all day. Outside them, what happens waits for the next beat inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$")
    )]
    pub active_hours: Option<String>,
    /// The zone of `active_hours` and of `daily HH:MM` checklist items (IANA name; default the
    /// machine's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub tz: Option<String>,
    /// What its beats may spend per UTC day, in USD; once reached it stops until the next day.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0001, maximum = 1000.0))]
    pub daily_budget_usd: f64,
}

/// How a heartbeat's beat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BeatOutcome {
    /// Nothing was due and nothing happened: no model was called.
    Idle,
    /// The model looked and answered `HEARTBEAT_OK`: nothing was delivered.
    Ok,
    /// The model found something: its answer was delivered.
    Alert,
    /// The beat's turn failed; what it was to look at is looked at again next beat.
    Failed,
    /// Outside the active hours: what happened waits for the next beat inside them.
    OutsideHours,
    /// Today's budget is spent: no more beats until the next UTC day.
    BudgetSpent,
}

/// A heartbeat's state, for `GET /tasks` and the surfaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HeartbeatStatus {
    /// Whether the workspace has a `HEARTBEAT.md` (without one, every beat is idle).
    pub checklist: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_outcome: Option<BeatOutcome>,
    /// What the last beat saw or why it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_detail: Option<String>,
    /// RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_beat_at: Option<String>,
    /// Beats today (UTC) that called the model.
    pub model_beats_today: u32,
    /// Beats today that found nothing to do and called no model.
    pub idle_beats_today: u32,
    /// Beats today left out (outside the active hours or over the budget).
    pub skipped_beats_today: u32,
    pub cost_today_usd: f64,
    pub daily_budget_usd: f64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn default_timeout_secs() -> u64 {
    1800
}

/// Whether a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Active,
    /// Paused by the user (or by its on-failure action); resume recomputes the next run from now.
    Paused,
    /// It cannot be scheduled (its agent is gone, its watch could not be set up, a one-shot
    /// that failed); `error` says why.
    Failed,
    /// Disabled by its on-failure action; resume enables it again.
    Disabled,
}

/// How a run ended (or that it is still going).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    /// The turn failed, timed out or was refused; a retry may follow.
    Failed,
    /// Pryx stopped (or was killed) while it ran; it is not run again.
    Interrupted,
}

/// Why a run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunReason {
    /// Its time came.
    Schedule,
    /// Its time came while Pryx was not running (catch-up).
    CatchUp,
    Retry,
    Manual,
    FileChange,
    Webhook,
}

/// Where a notification went and whether it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationDelivery {
    /// `dashboard`, `channel:<id>:<chat>` or `webhook:<url>`.
    pub target: String,
    /// `queued`, `delivered` or `failed`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub at: String,
}

/// One run of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskRunView {
    pub id: String,
    pub task_id: String,
    /// 1, 2, … per task; retries of a run share its number.
    pub run_number: u64,
    /// 0 for the first try, 1 for the first retry, …
    pub attempt: u32,
    pub reason: RunReason,
    /// The scheduled time it ran for (RFC 3339 UTC), when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    pub status: RunStatus,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The session holding the whole conversation of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// The start of the agent's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tool calls that needed an approval nobody gave (denied or timed out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationDelivery>,
}

/// One task with its schedule and last result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskView {
    pub id: String,
    pub spec: TaskSpec,
    pub status: TaskStatus,
    /// Why it is `failed`, or the last problem scheduling it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 3339 UTC, when it has a next time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<String>,
    /// The trigger in words (`every 4h`, `at 09:00 on Monday (Europe/Berlin)`, …).
    pub schedule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<TaskRunView>,
    pub runs: u64,
    /// A run of it is going now.
    #[serde(default)]
    pub running: bool,
    /// File-change tasks: changes seen while (or just after) its own run went, which did not
    /// trigger it again (since Pryx started).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub own_changes_ignored: u64,
    /// What its runs cost since the first of this month (UTC).
    pub cost_this_month_usd: f64,
    /// Heartbeats: today's beats and spend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<HeartbeatStatus>,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskList {
    pub tasks: Vec<TaskView>,
}

/// `POST /tasks` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskCreated {
    pub task: TaskView,
    /// Webhook triggers: the HMAC key that signs requests to `/hooks/tasks/{id}`, shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `GET /tasks/{id}/runs`: newest first (the last 100 are kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskRunList {
    pub runs: Vec<TaskRunView>,
}

/// `POST /tasks/{id}/run` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskRunStarted {
    pub run: TaskRunView,
}

/// A template variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TemplateVar {
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A ready-made task: a prompt with variables, a trigger and the policy it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskTemplate {
    pub id: String,
    pub title: String,
    pub description: String,
    pub prompt: String,
    pub vars: Vec<TemplateVar>,
    pub trigger: TaskTrigger,
    /// Tools the prompt needs, to allow in the agent's policy so the task can run unattended.
    pub suggested_tools: Vec<String>,
}

/// `GET /tasks/templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TaskTemplateList {
    pub templates: Vec<TaskTemplate>,
}

/// A notification of a finished run, as the dashboard and TUI show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationView {
    pub id: i64,
    pub task_id: String,
    pub task_name: String,
    pub run_id: String,
    pub status: RunStatus,
    /// One line: what happened and, when it failed, why.
    pub title: String,
    pub body: String,
    pub created_at: String,
    pub read: bool,
}

/// `GET /notifications`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationList {
    pub notifications: Vec<NotificationView>,
    pub unread: u64,
}

/// `POST /notifications/read`: mark these (or, without ids, all) as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationsRead {
    #[serde(default, deserialize_with = "crate::whole::vec_i64")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub ids: Vec<i64>,
}
