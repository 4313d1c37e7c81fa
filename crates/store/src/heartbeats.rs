//! What heartbeats keep between beats, and what they ask about what happened since: events of
//! an agent's sessions and task runs that failed, after the positions the last beat saw.

use pryx_protocol::Event;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Result;
use crate::events::{finish, raw_from_row};
use crate::store::Store;
use crate::util::{now_ts, to_i64, to_u64};

/// An event of one of the agent's sessions that may need attention.
#[derive(Debug, Clone)]
pub struct Happening {
    pub session_title: String,
    pub event: Event,
}

/// A task run that failed (or was interrupted).
#[derive(Debug, Clone, PartialEq)]
pub struct FailedRun {
    pub task: String,
    pub run_number: u64,
    pub error: Option<String>,
}

impl Store {
    /// A heartbeat's saved state (`None` before its first beat, or when it cannot be read).
    pub fn heartbeat_state<T: DeserializeOwned>(&self, task_id: &str) -> Result<Option<T>> {
        let raw: Option<String> = self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT state FROM heartbeats WHERE task_id = ?1",
                [task_id],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
    }

    pub fn save_heartbeat_state<T: Serialize>(&self, task_id: &str, state: &T) -> Result<()> {
        let json = serde_json::to_string(state)?;
        self.with_conn(|c| {
            c.execute(
                "INSERT INTO heartbeats (task_id, state, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (task_id) DO UPDATE SET state = ?2, updated_at = ?3",
                params![task_id, json, now_ts()],
            )?;
            Ok(())
        })
    }

    /// The newest event position and task run position: what "since" starts from.
    pub fn heartbeat_marks(&self) -> Result<(u64, u64)> {
        self.with_conn(|c| {
            let events: i64 = c
                .query_row("SELECT last FROM event_seq WHERE id = 1", [], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let runs: i64 =
                c.query_row("SELECT COALESCE(MAX(rowid), 0) FROM task_runs", [], |r| {
                    r.get(0)
                })?;
            Ok((to_u64(events), to_u64(runs)))
        })
    }

    /// Events of kinds `kinds` stored after position `after` in sessions of `agent` (the ones
    /// of `skip_title_prefix` left out: the heartbeat's own), oldest first, at most `limit`.
    pub fn agent_events_after(
        &self,
        agent: &str,
        after: u64,
        kinds: &[&str],
        skip_title_prefix: &str,
        limit: u32,
    ) -> Result<Vec<Happening>> {
        let after = to_i64("position", after)?;
        let kinds = serde_json::to_string(kinds)?;
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT e.session_id, e.version, e.kind, e.surface, e.payload, e.created_at, s.title
                 FROM events e JOIN sessions s ON s.id = e.session_id
                 WHERE e.seq > ?1
                   AND e.kind IN (SELECT value FROM json_each(?2))
                   AND coalesce(s.agent, 'main') = ?3
                   AND substr(s.title, 1, length(?4)) != ?4
                 ORDER BY e.seq LIMIT ?5",
            )?;
            let rows = stmt
                .query_map(
                    params![after, kinds, agent, skip_title_prefix, limit],
                    |r| Ok((raw_from_row(r)?, r.get::<_, String>(6)?)),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for (raw, title) in rows {
                out.push(Happening {
                    session_title: title,
                    event: finish(raw)?,
                });
            }
            Ok(out)
        })
    }

    /// Task runs after run position `after` that failed or were interrupted, except those of
    /// task `except`, oldest first, at most `limit`.
    pub fn failed_runs_after(
        &self,
        after: u64,
        except: &str,
        limit: u32,
    ) -> Result<Vec<FailedRun>> {
        let after = to_i64("position", after)?;
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT t.name, r.run_number, r.error FROM task_runs r JOIN tasks t ON t.id = r.task_id
                 WHERE r.rowid > ?1 AND r.status IN ('failed', 'interrupted') AND r.task_id != ?2
                 ORDER BY r.rowid LIMIT ?3",
            )?;
            let rows = stmt
                .query_map(params![after, except, limit], |r| {
                    Ok(FailedRun {
                        task: r.get(0)?,
                        run_number: to_u64(r.get(1)?),
                        error: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}
