//! A finished run's notifications: one row per target, kept with how its delivery went. The
//! `dashboard` target is the inbox the web dashboard and the TUI show (toast and bell).

use rusqlite::{Transaction, params};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::tasks::{parse_run_status, run_status_str};
use crate::util::now_ts;
use pryx_protocol::api::{NotificationDelivery, NotificationView, RunStatus};

/// The dashboard and TUI inbox's target name.
pub const DASHBOARD: &str = "dashboard";

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationState {
    Queued,
    Delivered,
    Failed,
}

impl NotificationState {
    fn as_str(self) -> &'static str {
        match self {
            NotificationState::Queued => "queued",
            NotificationState::Delivered => "delivered",
            NotificationState::Failed => "failed",
        }
    }
}

/// A notification to queue for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// `dashboard`, `channel:<id>:<chat>` or `webhook:<url>`.
    pub target: String,
    pub title: String,
    pub body: String,
}

/// A queued notification, for its sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: i64,
    pub run_id: String,
    pub task_id: String,
    pub target: String,
    pub run_status: RunStatus,
    pub title: String,
    pub body: String,
    pub attempts: u32,
    /// A channel target once queued in the channel's outbox.
    pub outbox_id: Option<i64>,
}

pub(crate) fn insert(
    tx: &Transaction<'_>,
    run_id: &str,
    task_id: &str,
    status: RunStatus,
    notify: &[NewNotification],
    now: &str,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(notify.len());
    for n in notify {
        // The inbox is delivered by being stored.
        let state = if n.target == DASHBOARD {
            NotificationState::Delivered
        } else {
            NotificationState::Queued
        };
        tx.execute(
            "INSERT INTO task_notifications (run_id, task_id, target, run_status, title, body, state,
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            params![
                run_id,
                task_id,
                n.target,
                run_status_str(status),
                n.title,
                n.body,
                state.as_str(),
                now
            ],
        )?;
        ids.push(tx.last_insert_rowid());
    }
    Ok(ids)
}

impl Store {
    /// Notifications still to be delivered (not the dashboard's), oldest first.
    pub fn queued_notifications(&self) -> Result<Vec<Notification>> {
        type Raw = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            (u32, Option<i64>),
        );
        let rows: Vec<Raw> = self.with_conn(|c| {
            let mut st = c.prepare(
                "SELECT id, run_id, task_id, target, run_status, title, body, attempts, outbox_id
                 FROM task_notifications WHERE state = 'queued' ORDER BY id",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        (r.get(7)?, r.get(8)?),
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        rows.into_iter()
            .map(
                |(id, run_id, task_id, target, status, title, body, (attempts, outbox_id))| {
                    Ok(Notification {
                        id,
                        run_id,
                        task_id,
                        target,
                        run_status: parse_run_status(&status)?,
                        title,
                        body,
                        attempts,
                        outbox_id,
                    })
                },
            )
            .collect()
    }

    /// Records a delivery attempt's outcome (`Queued` keeps it for another attempt).
    pub fn set_notification_state(
        &self,
        id: i64,
        state: NotificationState,
        reason: Option<&str>,
    ) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "UPDATE task_notifications SET state = ?2, reason = ?3, attempts = attempts + 1,
                 updated_at = ?4 WHERE id = ?1",
                params![id, state.as_str(), reason, now_ts()],
            )?;
            Ok(())
        })
    }

    /// Notes the outbox row that carries a channel notification.
    pub fn set_notification_outbox(&self, id: i64, outbox_id: i64) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "UPDATE task_notifications SET outbox_id = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, outbox_id, now_ts()],
            )?;
            Ok(())
        })
    }

    pub(crate) fn deliveries(&self, run_id: &str) -> Result<Vec<NotificationDelivery>> {
        self.with_conn(|c| {
            let mut st = c.prepare(
                "SELECT target, state, reason, updated_at FROM task_notifications
                 WHERE run_id = ?1 ORDER BY id",
            )?;
            let rows = st
                .query_map([run_id], |r| {
                    Ok(NotificationDelivery {
                        target: r.get(0)?,
                        state: r.get(1)?,
                        reason: r.get(2)?,
                        at: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// The dashboard inbox, newest first, and how many are unread.
    pub fn inbox(&self, limit: u32) -> Result<(Vec<NotificationView>, u64)> {
        type Raw = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            bool,
        );
        let (rows, unread): (Vec<Raw>, i64) = self.with_conn(|c| {
            let mut st = c.prepare(
                "SELECT n.id, n.task_id, COALESCE(t.name, ''), n.run_id, n.run_status, n.title, n.body,
                 n.created_at, n.read FROM task_notifications n LEFT JOIN tasks t ON t.id = n.task_id
                 WHERE n.target = 'dashboard' ORDER BY n.id DESC LIMIT ?1",
            )?;
            let rows = st
                .query_map([limit], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let unread = c.query_row(
                "SELECT COUNT(*) FROM task_notifications WHERE target = 'dashboard' AND read = 0",
                [],
                |r| r.get(0),
            )?;
            Ok((rows, unread))
        })?;
        let views = rows
            .into_iter()
            .map(
                |(id, task_id, task_name, run_id, status, title, body, created_at, read)| {
                    Ok(NotificationView {
                        id,
                        task_id,
                        task_name,
                        run_id,
                        status: parse_run_status(&status)?,
                        title,
                        body,
                        created_at,
                        read,
                    })
                },
            )
            .collect::<Result<Vec<_>>>()?;
        Ok((views, u64::try_from(unread).unwrap_or(0)))
    }

    /// Marks inbox notifications read (all of them when `ids` is empty); returns how many changed.
    pub fn mark_read(&self, ids: &[i64]) -> Result<usize> {
        if ids.len() > 1000 {
            return Err(StoreError::Invalid {
                what: "notification ids",
                detail: "at most 1000 at once".into(),
            });
        }
        self.with_tx(|tx| {
            if ids.is_empty() {
                return Ok(tx.execute(
                    "UPDATE task_notifications SET read = 1 WHERE target = 'dashboard' AND read = 0",
                    [],
                )?);
            }
            let mut n = 0;
            for id in ids {
                n += tx.execute(
                    "UPDATE task_notifications SET read = 1 WHERE id = ?1 AND target = 'dashboard' AND read = 0",
                    [id],
                )?;
            }
            Ok(n)
        })
    }
}
