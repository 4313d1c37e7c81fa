//! Forking a session at one of its messages: a child session with a copy of the conversation up
//! to there, linked to its parent.

use rusqlite::{OptionalExtension, params};

use crate::error::{Result, StoreError};
use crate::messages::Message;
use crate::sessions::{SESSION_COLS, Session, not_found, session_from_row};
use crate::store::Store;
use crate::util::{new_id, now_ts};

impl Store {
    /// Pins or unpins a message of a session. Returns the message as now stored.
    pub fn set_message_pinned(
        &self,
        session_id: &str,
        message_id: &str,
        pinned: bool,
    ) -> Result<Message> {
        let n = self.with_conn(|c| {
            Ok(c.execute(
                "UPDATE messages SET pinned = ?3 WHERE id = ?1 AND session_id = ?2",
                params![message_id, session_id, pinned],
            )?)
        })?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "message",
                id: message_id.to_string(),
            });
        }
        self.get_message(message_id)?
            .ok_or_else(|| StoreError::NotFound {
                what: "message",
                id: message_id.to_string(),
            })
    }

    /// A new session with the parent's settings and a copy of its messages up to and including
    /// `at_message_id` (and the tool results that answer that message's calls), its pins, and
    /// the compactions that end there or before. Spend is not copied: the child starts at zero.
    pub fn fork_session(&self, parent_id: &str, at_message_id: &str) -> Result<Session> {
        let id = new_id();
        let now = now_ts();
        self.with_tx(|tx| {
            let parent = tx
                .query_row(
                    &format!("SELECT {SESSION_COLS} FROM sessions s WHERE s.id = ?1"),
                    [parent_id],
                    session_from_row,
                )
                .optional()?
                .ok_or_else(|| not_found(parent_id))?;
            let at: i64 = tx
                .query_row(
                    "SELECT seq FROM messages WHERE id = ?1 AND session_id = ?2",
                    params![at_message_id, parent_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound {
                    what: "message",
                    id: at_message_id.to_string(),
                })?;
            // The results of the message's own tool calls come with it: a fork never starts
            // with calls left open.
            let through: i64 = tx.query_row(
                "SELECT COALESCE(MIN(seq) - 1, (SELECT MAX(seq) FROM messages WHERE session_id = ?1))
                 FROM messages WHERE session_id = ?1 AND seq > ?2 AND role != 'tool'",
                params![parent_id, at],
                |r| r.get(0),
            )?;
            let title = if parent.title.is_empty() {
                "(fork)".to_string()
            } else {
                format!("{} (fork)", parent.title)
            };
            tx.execute(
                "INSERT INTO sessions (id, workspace_id, title, status, model, created_at, updated_at, agent, policy, parent_id, forked_from)
                 VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?5, ?6, ?7, ?8, ?9)",
                params![id, parent.workspace_id, title, parent.model, now, parent.agent, parent.policy, parent_id, at_message_id],
            )?;
            let copy = |table: &str, cols: &str, key: &str| -> Result<()> {
                let nums: Vec<i64> = tx
                    .prepare(&format!(
                        "SELECT num FROM {table} WHERE session_id = ?1 AND {key} <= ?2 ORDER BY num"
                    ))?
                    .query_map(params![parent_id, through], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO {table} (id, session_id, {cols}) SELECT ?1, ?2, {cols} FROM {table} WHERE num = ?3"
                ))?;
                for num in nums {
                    insert.execute(params![new_id(), id, num])?;
                }
                Ok(())
            };
            copy(
                "messages",
                "seq, role, content, text, tool_call_id, model, tokens_in, tokens_out, \
                 cache_read_tokens, cache_write_tokens, cost_usd, created_at, pinned",
                "seq",
            )?;
            copy(
                "compactions",
                "through_seq, summary, messages, tokens_before, tokens_after, model, tokens_in, \
                 tokens_out, cost_usd, trigger, created_at",
                "through_seq",
            )?;
            Ok(tx.query_row(
                &format!("SELECT {SESSION_COLS} FROM sessions s WHERE s.id = ?1"),
                [&id],
                session_from_row,
            )?)
        })
    }
}
