//! A task's runs: claiming one (with the task's schedule moved in the same transaction),
//! finishing it (retry, new status, notifications, pruning to the last 100), closing the ones a
//! stopped process left going, and reading them back.

use rusqlite::{OptionalExtension, Row, params};

use super::notifications::{self, NewNotification};
use super::{
    AfterRun, Claim, RUNS_KEPT, RunEnd, is_constraint, ms_to_ts, parse_reason, parse_run_status,
    reason_str, run_status_str, status_str,
};
use crate::error::Result;
use crate::store::Store;
use crate::util::{new_id, now_ts, to_u64};
use pryx_protocol::api::{RunStatus, TaskRunView};

const RUN_COLS: &str = "id, task_id, run_number, attempt, reason, slot_ms, status, started_at, \
     finished_at, duration_ms, session_id, tokens_in, tokens_out, cost_usd, summary, error, denied";

fn run_view(r: &Row<'_>) -> rusqlite::Result<Result<TaskRunView>> {
    let reason: String = r.get(4)?;
    let status: String = r.get(6)?;
    let slot: Option<i64> = r.get(5)?;
    let denied: String = r.get(16)?;
    let run_number: i64 = r.get(2)?;
    let duration: Option<i64> = r.get(9)?;
    let tokens_in: i64 = r.get(11)?;
    let tokens_out: i64 = r.get(12)?;
    let view = (|| -> Result<TaskRunView> {
        Ok(TaskRunView {
            id: r.get(0)?,
            task_id: r.get(1)?,
            run_number: to_u64(run_number),
            attempt: r.get(3)?,
            reason: parse_reason(&reason)?,
            slot: slot.map(ms_to_ts),
            status: parse_run_status(&status)?,
            started_at: r.get(7)?,
            finished_at: r.get(8)?,
            duration_ms: duration.map(to_u64),
            session_id: r.get(10)?,
            tokens_in: to_u64(tokens_in),
            tokens_out: to_u64(tokens_out),
            cost_usd: r.get(13)?,
            summary: r.get(14)?,
            error: r.get(15)?,
            denied: serde_json::from_str(&denied)?,
            notifications: Vec::new(),
        })
    })();
    Ok(view)
}

impl Store {
    /// What the event that started a run carried.
    pub fn run_input(&self, run_id: &str) -> Result<Option<String>> {
        self.with_conn(|c| {
            Ok(
                c.query_row("SELECT input FROM task_runs WHERE id = ?1", [run_id], |r| {
                    r.get(0)
                })
                .optional()?
                .flatten(),
            )
        })
    }

    /// Claims a run: inserts it as `running` and moves the task's schedule, in one transaction.
    /// `None` when the task already has a running run or this slot's attempt was claimed
    /// before (nothing changes then).
    pub fn claim_run(
        &self,
        task_id: &str,
        claim: &Claim,
        now_ms: i64,
    ) -> Result<Option<TaskRunView>> {
        let id = new_id();
        let started_at = now_ts();
        let claimed = self.with_tx(|tx| {
            let runs: Option<i64> = tx
                .query_row(
                    "SELECT runs FROM tasks WHERE id = ?1 AND (status = 'active' OR ?2)",
                    params![task_id, claim.any_status],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(runs) = runs else {
                return Ok(false);
            };
            let number = match claim.retry_of_run {
                Some(n) => i64::try_from(n).unwrap_or(i64::MAX),
                None => runs + 1,
            };
            let inserted = tx.execute(
                "INSERT INTO task_runs (id, task_id, run_number, attempt, reason, slot_ms, status,
                 started_at, started_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8)",
                params![
                    id,
                    task_id,
                    number,
                    claim.attempt,
                    reason_str(claim.reason),
                    claim.slot_ms,
                    started_at,
                    now_ms
                ],
            );
            match inserted {
                Ok(_) => {}
                Err(e) if is_constraint(&e) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
            if claim.retry_of_run.is_none() {
                tx.execute(
                    "UPDATE tasks SET runs = ?2 WHERE id = ?1",
                    params![task_id, number],
                )?;
            } else {
                // A retry runs on what its first attempt was given (a webhook's body).
                tx.execute(
                    "UPDATE task_runs SET input = (SELECT input FROM task_runs WHERE task_id = ?2
                     AND run_number = ?3 AND input IS NOT NULL ORDER BY attempt LIMIT 1) WHERE id = ?1",
                    params![id, task_id, number],
                )?;
            }
            if let Some(next) = claim.next_run_ms {
                tx.execute(
                    "UPDATE tasks SET next_run_ms = ?2 WHERE id = ?1",
                    params![task_id, next],
                )?;
            }
            if claim.clears_retry {
                tx.execute(
                    "UPDATE tasks SET retry_ms = NULL, retry_attempt = NULL, retry_run = NULL,
                     retry_slot_ms = NULL WHERE id = ?1",
                    [task_id],
                )?;
            }
            if claim.clears_event {
                tx.execute(
                    "UPDATE task_runs SET input = (SELECT event_body FROM tasks WHERE id = ?2) WHERE id = ?1",
                    params![id, task_id],
                )?;
                tx.execute(
                    "UPDATE tasks SET event_ms = NULL, event_reason = NULL, event_body = NULL WHERE id = ?1",
                    [task_id],
                )?;
            }
            Ok(true)
        })?;
        if !claimed {
            return Ok(None);
        }
        self.task_run(&id)
    }

    /// Moves a task's next slot without running it (`skip` after downtime).
    pub fn skip_to(&self, task_id: &str, next_run_ms: Option<i64>) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "UPDATE tasks SET next_run_ms = ?2 WHERE id = ?1",
                params![task_id, next_run_ms],
            )?;
            Ok(())
        })
    }

    /// Links a run to the session it runs in.
    pub fn set_run_session(&self, run_id: &str, session_id: &str) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "UPDATE task_runs SET session_id = ?2 WHERE id = ?1",
                params![run_id, session_id],
            )?;
            Ok(())
        })
    }

    /// Finishes a running run, applies what follows for its task (a retry to wait for, a new
    /// status) and queues its notifications, in one transaction; then deletes the task's runs
    /// beyond the last [`RUNS_KEPT`]. Returns the notifications' ids, or `None` when the run was
    /// not running (finished before).
    pub fn finish_run(
        &self,
        run_id: &str,
        end: &RunEnd,
        after: &AfterRun,
        notify: &[NewNotification],
        now_ms: i64,
    ) -> Result<Option<Vec<i64>>> {
        let denied = serde_json::to_string(&end.denied)?;
        let now = now_ts();
        self.with_tx(|tx| {
            let row: Option<(String, i64)> = tx
                .query_row(
                    "SELECT task_id, started_ms FROM task_runs WHERE id = ?1 AND status = 'running'",
                    [run_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((task_id, started_ms)) = row else {
                return Ok(None);
            };
            let status = if end.succeeded { RunStatus::Succeeded } else { RunStatus::Failed };
            tx.execute(
                "UPDATE task_runs SET status = ?2, finished_at = ?3, duration_ms = ?4, tokens_in = ?5,
                 tokens_out = ?6, cost_usd = ?7, summary = ?8, error = ?9, denied = ?10 WHERE id = ?1",
                params![
                    run_id,
                    run_status_str(status),
                    now,
                    (now_ms - started_ms).max(0),
                    i64::try_from(end.tokens_in).unwrap_or(i64::MAX),
                    i64::try_from(end.tokens_out).unwrap_or(i64::MAX),
                    end.cost_usd,
                    end.summary,
                    end.error,
                    denied
                ],
            )?;
            if let Some(r) = after.retry {
                tx.execute(
                    "UPDATE tasks SET retry_ms = ?2, retry_attempt = ?3, retry_run = ?4, retry_slot_ms = ?5
                     WHERE id = ?1",
                    params![
                        task_id,
                        r.at_ms,
                        r.attempt,
                        i64::try_from(r.run_number).unwrap_or(i64::MAX),
                        r.slot_ms
                    ],
                )?;
            }
            if let Some((s, error)) = &after.status {
                tx.execute(
                    "UPDATE tasks SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
                    params![task_id, status_str(*s), error, now],
                )?;
            }
            let ids = notifications::insert(tx, run_id, &task_id, status, notify, &now)?;
            tx.execute(
                "DELETE FROM task_runs WHERE task_id = ?1 AND status != 'running' AND id NOT IN
                 (SELECT id FROM task_runs WHERE task_id = ?1 ORDER BY started_ms DESC, id DESC LIMIT ?2)",
                params![task_id, RUNS_KEPT],
            )?;
            Ok(Some(ids))
        })
    }

    /// At start: runs a stopped process left `running` become `interrupted` (never run again),
    /// with notifications queued for each. Returns them.
    pub fn interrupt_running_runs(
        &self,
        notify: impl Fn(&TaskRunView) -> Vec<NewNotification>,
    ) -> Result<Vec<TaskRunView>> {
        let running: Vec<TaskRunView> = self.with_conn(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {RUN_COLS} FROM task_runs WHERE status = 'running'"
            ))?;
            let rows = st
                .query_map([], run_view)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().collect()
        })?;
        let now = now_ts();
        let error = "Pryx stopped while this run was going; it is not run again";
        // Made before the transaction: `notify` may read the store.
        let notes: Vec<Vec<NewNotification>> = running.iter().map(&notify).collect();
        self.with_tx(|tx| {
            for (run, notes) in running.iter().zip(&notes) {
                tx.execute(
                    "UPDATE task_runs SET status = 'interrupted', finished_at = ?2, error = ?3 WHERE id = ?1",
                    params![run.id, now, error],
                )?;
                notifications::insert(
                    tx,
                    &run.id,
                    &run.task_id,
                    RunStatus::Interrupted,
                    notes,
                    &now,
                )?;
            }
            Ok(())
        })?;
        Ok(running
            .into_iter()
            .map(|mut r| {
                r.status = RunStatus::Interrupted;
                r.error = Some(error.into());
                r
            })
            .collect())
    }

    /// One run, with its notifications.
    pub fn task_run(&self, run_id: &str) -> Result<Option<TaskRunView>> {
        let run = self.with_conn(|c| {
            c.query_row(
                &format!("SELECT {RUN_COLS} FROM task_runs WHERE id = ?1"),
                [run_id],
                run_view,
            )
            .optional()?
            .transpose()
        })?;
        let Some(mut run) = run else { return Ok(None) };
        run.notifications = self.deliveries(&run.id)?;
        Ok(Some(run))
    }

    /// A task's runs, newest first.
    pub fn task_runs(&self, task_id: &str, limit: u32) -> Result<Vec<TaskRunView>> {
        let runs: Vec<TaskRunView> = self.with_conn(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {RUN_COLS} FROM task_runs WHERE task_id = ?1
                 ORDER BY started_ms DESC, id DESC LIMIT ?2"
            ))?;
            let rows = st
                .query_map(params![task_id, limit], run_view)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().collect()
        })?;
        runs.into_iter()
            .map(|mut r| {
                r.notifications = self.deliveries(&r.id)?;
                Ok(r)
            })
            .collect()
    }

    /// What a task's runs cost since `since_ms`.
    pub fn task_cost_since(&self, task_id: &str, since_ms: i64) -> Result<f64> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM task_runs WHERE task_id = ?1 AND started_ms >= ?2",
                params![task_id, since_ms],
                |r| r.get(0),
            )?)
        })
    }
}
