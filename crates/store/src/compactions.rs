//! Compactions: a model-written summary of a session's older messages, which replaces them in
//! what the model receives. The messages stay stored (and in exports); only the newest
//! compaction of a session is in force.

use rusqlite::{OptionalExtension, Row, params};

use crate::error::{Result, StoreError};
use crate::sessions::not_found;
use crate::store::Store;
use crate::util::{new_id, now_ts, str_enum, to_i64, to_u64};

str_enum! {
    /// What started a compaction.
    pub enum CompactionTrigger {
        /// The context passed the compaction threshold before a model call.
        Auto => "auto",
        /// The user asked for it (`/compact`).
        User => "user",
    }
}

/// A stored compaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Compaction {
    pub id: String,
    pub session_id: String,
    /// Messages with `seq` up to this one are summarised.
    pub through_seq: u64,
    pub summary: String,
    /// How many messages the summary stands for (earlier summaries' included).
    pub messages: u64,
    /// Estimated prompt tokens before and after.
    pub tokens_before: u64,
    pub tokens_after: u64,
    /// `provider/model` that wrote the summary, and what it cost.
    pub model: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    pub trigger: CompactionTrigger,
    pub created_at: String,
}

/// A compaction to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCompaction {
    pub session_id: String,
    pub through_seq: u64,
    pub summary: String,
    pub messages: u64,
    pub tokens_before: u64,
    pub tokens_after: u64,
    pub model: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    pub trigger: CompactionTrigger,
}

const COLS: &str = "id, session_id, through_seq, summary, messages, tokens_before, tokens_after, \
     model, tokens_in, tokens_out, cost_usd, trigger, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Compaction> {
    Ok(Compaction {
        id: r.get(0)?,
        session_id: r.get(1)?,
        through_seq: to_u64(r.get(2)?),
        summary: r.get(3)?,
        messages: to_u64(r.get(4)?),
        tokens_before: to_u64(r.get(5)?),
        tokens_after: to_u64(r.get(6)?),
        model: r.get(7)?,
        tokens_in: to_u64(r.get(8)?),
        tokens_out: to_u64(r.get(9)?),
        cost_usd: r.get(10)?,
        trigger: r.get(11)?,
        created_at: r.get(12)?,
    })
}

impl Store {
    /// Records a compaction. It must reach further than the one in force (a summary never
    /// covers less than the one before it) and end at a stored message.
    pub fn add_compaction(&self, new: &NewCompaction) -> Result<Compaction> {
        let summary = self.redactor().text(&new.summary).into_owned();
        let id = new_id();
        let now = now_ts();
        let through = to_i64("through_seq", new.through_seq)?;
        self.with_tx(|tx| {
            let last: Option<i64> = tx
                .query_row(
                    "SELECT MAX(seq) FROM messages WHERE session_id = ?1",
                    [&new.session_id],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let exists: bool = tx
                .query_row("SELECT 1 FROM sessions WHERE id = ?1", [&new.session_id], |_| Ok(true))
                .optional()?
                .unwrap_or(false);
            if !exists {
                return Err(not_found(&new.session_id));
            }
            if last.is_none_or(|l| through > l) || through < 1 {
                return Err(StoreError::Invalid {
                    what: "compaction",
                    detail: format!("message {through} is not in session {}", new.session_id),
                });
            }
            let current: Option<i64> = tx.query_row(
                "SELECT MAX(through_seq) FROM compactions WHERE session_id = ?1",
                [&new.session_id],
                |r| r.get(0),
            )?;
            if current.is_some_and(|c| through <= c) {
                return Err(StoreError::Invalid {
                    what: "compaction",
                    detail: "the session is already compacted up to there".to_string(),
                });
            }
            tx.execute(
                &format!("INSERT INTO compactions ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![
                    id,
                    new.session_id,
                    through,
                    summary,
                    to_i64("messages", new.messages)?,
                    to_i64("tokens_before", new.tokens_before)?,
                    to_i64("tokens_after", new.tokens_after)?,
                    new.model,
                    to_i64("tokens_in", new.tokens_in)?,
                    to_i64("tokens_out", new.tokens_out)?,
                    new.cost_usd,
                    new.trigger,
                    now
                ],
            )?;
            Ok(tx.query_row(
                &format!("SELECT {COLS} FROM compactions WHERE id = ?1"),
                [&id],
                from_row,
            )?)
        })
    }

    /// The compaction in force for a session (its newest), if any.
    pub fn latest_compaction(&self, session_id: &str) -> Result<Option<Compaction>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                &format!(
                    "SELECT {COLS} FROM compactions WHERE session_id = ?1 ORDER BY num DESC LIMIT 1"
                ),
                [session_id],
                from_row,
            )
            .optional()?)
        })
    }

    /// Every compaction of a session, oldest first.
    pub fn list_compactions(&self, session_id: &str) -> Result<Vec<Compaction>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM compactions WHERE session_id = ?1 ORDER BY num"
            ))?;
            Ok(stmt
                .query_map([session_id], from_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
    }
}

#[cfg(test)]
mod tests;
