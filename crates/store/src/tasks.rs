//! What the scheduler keeps: each task's spec and schedule state, its runs (the last 100 per
//! task), and every notification of a run with how its delivery went. Claiming a run and moving
//! the task's next time forward are one transaction, and at most one run per task is `running`
//! (an index says so), so a crash or restart can neither skip the bookkeeping nor run a slot
//! twice.

mod notifications;
mod runs;
#[cfg(test)]
mod tests;

use rusqlite::{OptionalExtension, Row, params};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{new_id, now_ts, to_u64};
use pryx_protocol::api::{RunReason, RunStatus, TaskSpec, TaskStatus};

pub use notifications::{DASHBOARD, NewNotification, Notification, NotificationState};

/// Runs kept per task (older ones are deleted as new ones finish).
pub const RUNS_KEPT: u32 = 100;

/// A task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub id: String,
    pub spec: TaskSpec,
    pub status: TaskStatus,
    pub error: Option<String>,
    /// Where intervals count from (Unix ms).
    pub anchor_ms: i64,
    /// The next slot by the clock.
    pub next_run_ms: Option<i64>,
    pub retry: Option<Retry>,
    /// An event (file change, webhook, manual run) waiting to run.
    pub event: Option<(i64, RunReason)>,
    /// Runs started so far (the next run's number is one more).
    pub runs: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl TaskRow {
    /// The earliest time something of this task is due, when active.
    pub fn due_ms(&self) -> Option<i64> {
        if self.status != TaskStatus::Active {
            return None;
        }
        [
            self.next_run_ms,
            self.retry.map(|r| r.at_ms),
            self.event.map(|e| e.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// A retry waiting for its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub at_ms: i64,
    pub attempt: u32,
    pub run_number: u64,
    pub slot_ms: Option<i64>,
}

/// What to run and how the task's schedule moves when it is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub reason: RunReason,
    pub slot_ms: Option<i64>,
    /// 0, or the retry's attempt (which keeps its run's number).
    pub attempt: u32,
    pub retry_of_run: Option<u64>,
    /// The task's new next slot (`None` keeps it as it is).
    pub next_run_ms: Option<Option<i64>>,
    /// The claim consumes the waiting retry / event.
    pub clears_retry: bool,
    pub clears_event: bool,
    /// A run asked for by hand runs whatever the task's status.
    pub any_status: bool,
}

/// How a finished run went.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunEnd {
    pub succeeded: bool,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub denied: Vec<String>,
}

/// What finishing a run changes on its task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AfterRun {
    pub retry: Option<Retry>,
    /// A new status (on-failure action, or a one-shot that is done).
    pub status: Option<(TaskStatus, Option<String>)>,
}

pub(crate) fn status_str(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Active => "active",
        TaskStatus::Paused => "paused",
        TaskStatus::Failed => "failed",
        TaskStatus::Disabled => "disabled",
    }
}

fn parse_status(s: &str) -> Result<TaskStatus> {
    Ok(match s {
        "active" => TaskStatus::Active,
        "paused" => TaskStatus::Paused,
        "failed" => TaskStatus::Failed,
        "disabled" => TaskStatus::Disabled,
        other => return Err(StoreError::Decode(format!("task status {other:?}"))),
    })
}

pub(crate) fn run_status_str(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Running => "running",
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "failed",
        RunStatus::Interrupted => "interrupted",
    }
}

pub(crate) fn parse_run_status(s: &str) -> Result<RunStatus> {
    Ok(match s {
        "running" => RunStatus::Running,
        "succeeded" => RunStatus::Succeeded,
        "failed" => RunStatus::Failed,
        "interrupted" => RunStatus::Interrupted,
        other => return Err(StoreError::Decode(format!("run status {other:?}"))),
    })
}

fn reason_str(r: RunReason) -> &'static str {
    match r {
        RunReason::Schedule => "schedule",
        RunReason::CatchUp => "catch_up",
        RunReason::Retry => "retry",
        RunReason::Manual => "manual",
        RunReason::FileChange => "file_change",
        RunReason::Webhook => "webhook",
    }
}

fn parse_reason(s: &str) -> Result<RunReason> {
    Ok(match s {
        "schedule" => RunReason::Schedule,
        "catch_up" => RunReason::CatchUp,
        "retry" => RunReason::Retry,
        "manual" => RunReason::Manual,
        "file_change" => RunReason::FileChange,
        "webhook" => RunReason::Webhook,
        other => return Err(StoreError::Decode(format!("run reason {other:?}"))),
    })
}

/// Unix ms as RFC 3339 UTC.
pub fn ms_to_ts(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(crate::util::format_ts)
        .unwrap_or_default()
}

const TASK_COLS: &str = "id, spec, status, error, anchor_ms, next_run_ms, retry_ms, retry_attempt, \
     retry_run, retry_slot_ms, event_ms, event_reason, runs, created_at, updated_at";

type RawTask = (
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    (Option<i64>, Option<u32>, Option<i64>, Option<i64>),
    (Option<i64>, Option<String>),
    i64,
    String,
    String,
);

fn raw_task(r: &Row<'_>) -> rusqlite::Result<RawTask> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        (r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
        (r.get(10)?, r.get(11)?),
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
    ))
}

fn task_row(raw: RawTask) -> Result<TaskRow> {
    let (id, spec, status, error, anchor_ms, next_run_ms, retry, event, runs, created, updated) =
        raw;
    let retry = match retry {
        (Some(at_ms), attempt, run, slot_ms) => Some(Retry {
            at_ms,
            attempt: attempt.unwrap_or(1),
            run_number: to_u64(run.unwrap_or(0)),
            slot_ms,
        }),
        _ => None,
    };
    let event = match event {
        (Some(ms), Some(reason)) => Some((ms, parse_reason(&reason)?)),
        _ => None,
    };
    Ok(TaskRow {
        id,
        spec: serde_json::from_str(&spec)?,
        status: parse_status(&status)?,
        error,
        anchor_ms,
        next_run_ms,
        retry,
        event,
        runs: to_u64(runs),
        created_at: created,
        updated_at: updated,
    })
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl Store {
    /// Stores a new task; its name must be unique.
    pub fn create_task(
        &self,
        spec: &TaskSpec,
        anchor_ms: i64,
        next_run_ms: Option<i64>,
    ) -> Result<TaskRow> {
        let id = new_id();
        let now = now_ts();
        let body = serde_json::to_string(spec)?;
        self.with_tx(|tx| {
            tx.execute(
                "INSERT INTO tasks (id, name, spec, anchor_ms, next_run_ms, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![id, spec.name, body, anchor_ms, next_run_ms, now],
            )
            .map_err(|e| {
                if is_constraint(&e) {
                    StoreError::Invalid {
                        what: "task",
                        detail: format!("a task named {:?} already exists", spec.name),
                    }
                } else {
                    e.into()
                }
            })?;
            Ok(())
        })?;
        self.task(&id)?
            .ok_or(StoreError::NotFound { what: "task", id })
    }

    /// A task by id, or by name.
    pub fn task(&self, id_or_name: &str) -> Result<Option<TaskRow>> {
        let raw = self.with_conn(|c| {
            Ok(c.query_row(
                &format!("SELECT {TASK_COLS} FROM tasks WHERE id = ?1 OR name = ?1 LIMIT 1"),
                [id_or_name],
                raw_task,
            )
            .optional()?)
        })?;
        raw.map(task_row).transpose()
    }

    /// Every task, by name.
    pub fn tasks(&self) -> Result<Vec<TaskRow>> {
        let raws = self.with_conn(|c| {
            let mut st = c.prepare(&format!("SELECT {TASK_COLS} FROM tasks ORDER BY name"))?;
            let rows = st
                .query_map([], raw_task)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        raws.into_iter().map(task_row).collect()
    }

    /// Active tasks with something due at or before `now_ms`.
    pub fn due_tasks(&self, now_ms: i64) -> Result<Vec<TaskRow>> {
        let raws = self.with_conn(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {TASK_COLS} FROM tasks WHERE status = 'active'
                 AND (next_run_ms <= ?1 OR retry_ms <= ?1 OR event_ms <= ?1)
                 ORDER BY MIN(COALESCE(next_run_ms, ?1), COALESCE(retry_ms, ?1), COALESCE(event_ms, ?1))"
            ))?;
            let rows = st.query_map([now_ms], raw_task)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        raws.into_iter().map(task_row).collect()
    }

    /// The earliest time any active task is due.
    pub fn next_due_ms(&self) -> Result<Option<i64>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT MIN(MIN(COALESCE(next_run_ms, 9e18), COALESCE(retry_ms, 9e18), COALESCE(event_ms, 9e18)))
                 FROM tasks WHERE status = 'active'
                 AND (next_run_ms IS NOT NULL OR retry_ms IS NOT NULL OR event_ms IS NOT NULL)",
                [],
                |r| r.get::<_, Option<f64>>(0),
            )?
            .map(|v| v as i64))
        })
    }

    /// Replaces a task's spec (and where it stands: the schedule restarts from `anchor_ms`).
    pub fn update_task(
        &self,
        id: &str,
        spec: &TaskSpec,
        anchor_ms: i64,
        next_run_ms: Option<i64>,
    ) -> Result<()> {
        let body = serde_json::to_string(spec)?;
        let n = self.with_tx(|tx| {
            tx.execute(
                "UPDATE tasks SET name = ?2, spec = ?3, anchor_ms = ?4, next_run_ms = ?5,
                 retry_ms = NULL, retry_attempt = NULL, retry_run = NULL, retry_slot_ms = NULL,
                 error = NULL, updated_at = ?6 WHERE id = ?1",
                params![id, spec.name, body, anchor_ms, next_run_ms, now_ts()],
            )
            .map_err(|e| {
                if is_constraint(&e) {
                    StoreError::Invalid {
                        what: "task",
                        detail: format!("a task named {:?} already exists", spec.name),
                    }
                } else {
                    e.into()
                }
            })
        })?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "task",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Sets a task's status (and error), with its next slot when it changes (resume recomputes
    /// it from now). Leaving `active` drops a waiting retry or event.
    pub fn set_task_status(
        &self,
        id: &str,
        status: TaskStatus,
        error: Option<&str>,
        next_run_ms: Option<Option<i64>>,
        anchor_ms: Option<i64>,
    ) -> Result<()> {
        let n = self.with_tx(|tx| {
            let n = tx.execute(
                "UPDATE tasks SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, status_str(status), error, now_ts()],
            )?;
            if let Some(next) = next_run_ms {
                tx.execute(
                    "UPDATE tasks SET next_run_ms = ?2 WHERE id = ?1",
                    params![id, next],
                )?;
            }
            if let Some(anchor) = anchor_ms {
                tx.execute(
                    "UPDATE tasks SET anchor_ms = ?2 WHERE id = ?1",
                    params![id, anchor],
                )?;
            }
            if status != TaskStatus::Active {
                tx.execute(
                    "UPDATE tasks SET retry_ms = NULL, retry_attempt = NULL, retry_run = NULL,
                     retry_slot_ms = NULL, event_ms = NULL, event_reason = NULL, event_body = NULL
                     WHERE id = ?1",
                    [id],
                )?;
            }
            Ok(n)
        })?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "task",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Records an event trigger for the scheduler to run, with what it carried (a webhook's
    /// body). Events that come while one waits make one run: the earliest time and the latest
    /// body are kept. `false` when the task is not active.
    pub fn set_task_event(
        &self,
        id: &str,
        at_ms: i64,
        reason: RunReason,
        body: Option<&str>,
    ) -> Result<bool> {
        self.with_conn(|c| {
            Ok(c.execute(
                "UPDATE tasks SET event_ms = MIN(COALESCE(event_ms, ?2), ?2),
                 event_reason = COALESCE(event_reason, ?3), event_body = COALESCE(?4, event_body)
                 WHERE id = ?1 AND status = 'active'",
                params![id, at_ms, reason_str(reason), body],
            )? > 0)
        })
    }

    /// Deletes a task with its runs and notifications.
    pub fn delete_task(&self, id: &str) -> Result<bool> {
        self.with_tx(|tx| {
            tx.execute("DELETE FROM task_notifications WHERE task_id = ?1", [id])?;
            Ok(tx.execute("DELETE FROM tasks WHERE id = ?1", [id])? > 0)
        })
    }
}
