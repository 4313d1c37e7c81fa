//! What chat channels and inbound webhooks keep: each channel's inbox of updates (so none is
//! handled twice and the next poll's offset survives a crash), the session of each chat, the
//! paired senders and their single-use codes, the outbox of replies with how each delivery went,
//! and the webhook request ids seen inside the replay window. Bodies are the caller's typed
//! values, stored as JSON.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::audit::AuditEntry;
use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::now_ts;

/// Where an inbound update is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateState {
    /// Stored, not looked at yet.
    New,
    /// Being handled (a turn may be running for it).
    Running,
    /// Handled; its replies (if any) are in the outbox.
    Done,
    /// Not handled, for the reason in its note (filtered sender, unsupported kind, …).
    Ignored,
}

impl UpdateState {
    fn as_str(self) -> &'static str {
        match self {
            UpdateState::New => "new",
            UpdateState::Running => "running",
            UpdateState::Done => "done",
            UpdateState::Ignored => "ignored",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "new" => UpdateState::New,
            "running" => UpdateState::Running,
            "done" => UpdateState::Done,
            "ignored" => UpdateState::Ignored,
            other => return Err(StoreError::Decode(format!("update state {other:?}"))),
        })
    }
}

/// An update not yet done, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenUpdate<T> {
    pub update_id: i64,
    pub chat_id: String,
    pub state: UpdateState,
    pub payload: T,
}

/// A reply in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound<T> {
    pub id: i64,
    pub chat_id: String,
    pub body: T,
    pub attempts: u32,
    /// It was being sent when the process stopped: it may arrive twice.
    pub maybe_duplicate: bool,
    /// Not to be sent before this (Unix ms).
    pub next_attempt_ms: i64,
}

/// How many replies are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    pub maybe_duplicate: u64,
}

/// A sender allowed through pairing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedSender {
    pub sender_id: String,
    pub display: String,
    pub paired_at: String,
}

fn code_hash(channel: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{channel}\n{code}").as_bytes()))
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

fn unjson<T: DeserializeOwned>(s: &str) -> Result<T> {
    Ok(serde_json::from_str(s)?)
}

impl Store {
    /// The offset of the next poll: one past the largest update ever stored for `channel`.
    pub fn channel_offset(&self, channel: &str) -> Result<Option<i64>> {
        self.with_conn(|c| {
            let max: Option<i64> = c.query_row(
                "SELECT MAX(update_id) FROM channel_updates WHERE channel = ?1",
                [channel],
                |r| r.get(0),
            )?;
            Ok(max.map(|m| m.saturating_add(1)))
        })
    }

    /// Stores an update; `false` when it was stored before (a duplicate delivery).
    pub fn record_update<T: Serialize>(
        &self,
        channel: &str,
        update_id: i64,
        chat_id: &str,
        payload: &T,
    ) -> Result<bool> {
        let body = json(payload)?;
        self.with_conn(|c| {
            Ok(c.execute(
                "INSERT OR IGNORE INTO channel_updates (channel, update_id, chat_id, payload, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![channel, update_id, chat_id, body, now_ts()],
            )? > 0)
        })
    }

    /// Accepts webhook requests in one transaction (one commit for many concurrent requests):
    /// each request id not seen inside `window_ms` is remembered and its payload stored as the
    /// channel's next update (its number returned); a replayed one gets `None`.
    pub fn accept_requests<T: Serialize>(
        &self,
        channel: &str,
        window_ms: i64,
        items: &[(String, T)],
    ) -> Result<Vec<Option<i64>>> {
        let bodies = items
            .iter()
            .map(|(id, p)| Ok((id.clone(), json(p)?)))
            .collect::<Result<Vec<_>>>()?;
        let now = now_ms();
        self.with_tx(|tx| {
            tx.execute(
                "DELETE FROM webhook_requests WHERE channel = ?1 AND received_ms < ?2",
                params![channel, now.saturating_sub(window_ms)],
            )?;
            let ts = now_ts();
            let mut out = Vec::with_capacity(bodies.len());
            for (rid, body) in &bodies {
                let fresh = tx.execute(
                    "INSERT OR IGNORE INTO webhook_requests (channel, request_id, received_ms) VALUES (?1, ?2, ?3)",
                    params![channel, rid, now],
                )? > 0;
                if !fresh {
                    out.push(None);
                    continue;
                }
                let n: i64 = tx.query_row(
                    "INSERT INTO channel_updates (channel, update_id, chat_id, payload, received_at)
                     SELECT ?1, COALESCE(MAX(update_id), 0) + 1, ?2, ?3, ?4 FROM channel_updates WHERE channel = ?1
                     RETURNING update_id",
                    params![channel, rid, body, ts],
                    |r| r.get(0),
                )?;
                out.push(Some(n));
            }
            Ok(out)
        })
    }

    /// Updates not yet done (new or running), oldest first.
    pub fn open_updates<T: DeserializeOwned>(&self, channel: &str) -> Result<Vec<OpenUpdate<T>>> {
        let rows: Vec<(i64, String, String, String)> = self.with_conn(|c| {
            let mut st = c.prepare(
                "SELECT update_id, chat_id, state, payload FROM channel_updates
                 WHERE channel = ?1 AND state IN ('new', 'running') ORDER BY update_id",
            )?;
            let rows = st
                .query_map([channel], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        rows.into_iter()
            .map(|(update_id, chat_id, state, payload)| {
                Ok(OpenUpdate {
                    update_id,
                    chat_id,
                    state: UpdateState::parse(&state)?,
                    payload: unjson(&payload)?,
                })
            })
            .collect()
    }

    /// Moves an update on (ignored or running), with a note saying why.
    pub fn set_update_state(
        &self,
        channel: &str,
        update_id: i64,
        state: UpdateState,
        note: Option<&str>,
    ) -> Result<()> {
        let done = matches!(state, UpdateState::Done | UpdateState::Ignored).then(now_ts);
        self.with_conn(|c| {
            c.execute(
                "UPDATE channel_updates SET state = ?3, note = COALESCE(?4, note), done_at = ?5
                 WHERE channel = ?1 AND update_id = ?2",
                params![channel, update_id, state.as_str(), note, done],
            )?;
            Ok(())
        })
    }

    /// Marks an update done and queues its replies in one transaction: after a crash it is
    /// either still open (and handled again) or its replies are all in the outbox.
    pub fn finish_update<T: Serialize>(
        &self,
        channel: &str,
        update_id: i64,
        note: Option<&str>,
        replies: &[(String, T)],
    ) -> Result<()> {
        let bodies = replies
            .iter()
            .map(|(chat, b)| Ok((chat.clone(), json(b)?)))
            .collect::<Result<Vec<_>>>()?;
        self.with_tx(|tx| {
            let now = now_ts();
            tx.execute(
                "UPDATE channel_updates SET state = 'done', note = COALESCE(?3, note), done_at = ?4
                 WHERE channel = ?1 AND update_id = ?2",
                params![channel, update_id, note, now],
            )?;
            for (chat, body) in &bodies {
                tx.execute(
                    "INSERT INTO channel_outbox (channel, chat_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![channel, chat, body, now],
                )?;
            }
            Ok(())
        })
    }

    /// Queues one reply that answers no stored update (approval prompts, notices).
    pub fn enqueue_outbound<T: Serialize>(
        &self,
        channel: &str,
        chat_id: &str,
        body: &T,
    ) -> Result<i64> {
        let body = json(body)?;
        self.with_conn(|c| {
            c.execute(
                "INSERT INTO channel_outbox (channel, chat_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![channel, chat_id, body, now_ts()],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// At start: replies a stopped process was sending go back to the queue, marked as
    /// possibly delivered already. Returns how many.
    pub fn requeue_in_flight(&self, channel: &str) -> Result<usize> {
        self.with_conn(|c| {
            Ok(c.execute(
                "UPDATE channel_outbox SET state = 'queued', maybe_duplicate = 1
                 WHERE channel = ?1 AND state = 'sending'",
                [channel],
            )?)
        })
    }

    /// Queued replies in the order they were queued (`limit` of them).
    pub fn pending_outbound<T: DeserializeOwned>(
        &self,
        channel: &str,
        limit: u32,
    ) -> Result<Vec<Outbound<T>>> {
        let rows: Vec<(i64, String, String, u32, bool, i64)> = self.with_conn(|c| {
            let mut st = c.prepare(
                "SELECT id, chat_id, body, attempts, maybe_duplicate, next_attempt_ms FROM channel_outbox
                 WHERE channel = ?1 AND state IN ('queued', 'sending') ORDER BY id LIMIT ?2",
            )?;
            let rows = st
                .query_map(params![channel, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        rows.into_iter()
            .map(
                |(id, chat_id, body, attempts, maybe_duplicate, next_attempt_ms)| {
                    Ok(Outbound {
                        id,
                        chat_id,
                        body: unjson(&body)?,
                        attempts,
                        maybe_duplicate,
                        next_attempt_ms,
                    })
                },
            )
            .collect()
    }

    /// Marks a reply as on its way (a crash from here on may deliver it twice).
    pub fn outbound_sending(&self, id: i64) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "UPDATE channel_outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1",
                [id],
            )?;
            Ok(())
        })
    }

    /// A reply delivered, with the id the other side gave it.
    pub fn outbound_sent(&self, id: i64, remote_id: Option<&str>) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "UPDATE channel_outbox SET state = 'sent', sent_at = ?2, remote_id = ?3, last_error = NULL WHERE id = ?1",
                params![id, now_ts(), remote_id],
            )?;
            Ok(())
        })
    }

    /// A reply to try again at `at_ms`, with why the last attempt failed.
    pub fn outbound_retry(&self, id: i64, at_ms: i64, error: &str) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "UPDATE channel_outbox SET state = 'queued', next_attempt_ms = ?2, last_error = ?3 WHERE id = ?1",
                params![id, at_ms, error],
            )?;
            Ok(())
        })
    }

    /// A reply given up on, with the reason (it no longer holds up the ones after it).
    pub fn outbound_failed(&self, id: i64, error: &str) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "UPDATE channel_outbox SET state = 'failed', last_error = ?2 WHERE id = ?1",
                params![id, error],
            )?;
            Ok(())
        })
    }

    /// Where a queued reply went: its chat and, once sent, the other side's message id.
    pub fn outbound_delivery(&self, id: i64) -> Result<Option<(String, Option<String>)>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT chat_id, remote_id FROM channel_outbox WHERE id = ?1 AND state = 'sent'",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    /// A queued reply's state (`queued`, `sending`, `sent`, `failed`) and its last error.
    pub fn outbound_state(&self, id: i64) -> Result<Option<(String, Option<String>)>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT state, last_error FROM channel_outbox WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    /// How the channel's replies stand.
    pub fn outbox_counts(&self, channel: &str) -> Result<OutboxCounts> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT
                   COALESCE(SUM(state IN ('queued', 'sending')), 0),
                   COALESCE(SUM(state = 'sent'), 0),
                   COALESCE(SUM(state = 'failed'), 0),
                   COALESCE(SUM(maybe_duplicate), 0)
                 FROM channel_outbox WHERE channel = ?1",
                [channel],
                |r| {
                    let n = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
                    Ok(OutboxCounts {
                        queued: n(0)?,
                        sent: n(1)?,
                        failed: n(2)?,
                        maybe_duplicate: n(3)?,
                    })
                },
            )?)
        })
    }

    /// The session a chat talks in, if it has one.
    pub fn chat_session(&self, channel: &str, chat_id: &str) -> Result<Option<String>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT session_id FROM channel_chats WHERE channel = ?1 AND chat_id = ?2",
                [channel, chat_id],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Binds a chat to a session (replacing its earlier one, e.g. after `/new`).
    pub fn set_chat_session(
        &self,
        channel: &str,
        chat_id: &str,
        session_id: &str,
        title: &str,
    ) -> Result<()> {
        self.with_conn(|c| {
            c.execute(
                "INSERT INTO channel_chats (channel, chat_id, session_id, title, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (channel, chat_id) DO UPDATE SET session_id = excluded.session_id, title = excluded.title",
                params![channel, chat_id, session_id, title, now_ts()],
            )?;
            Ok(())
        })
    }

    /// The channel and chat a session belongs to, if it is a channel's.
    pub fn session_chat(&self, session_id: &str) -> Result<Option<(String, String)>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT channel, chat_id FROM channel_chats WHERE session_id = ?1",
                [session_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    /// Whether a sender was paired with the channel.
    pub fn is_paired(&self, channel: &str, sender_id: &str) -> Result<bool> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT 1 FROM channel_senders WHERE channel = ?1 AND sender_id = ?2",
                [channel, sender_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })
    }

    /// The channel's paired senders, in pairing order.
    pub fn paired_senders(&self, channel: &str) -> Result<Vec<PairedSender>> {
        self.with_conn(|c| {
            let mut st = c.prepare(
                "SELECT sender_id, display, paired_at FROM channel_senders WHERE channel = ?1 ORDER BY paired_at",
            )?;
            let rows = st
                .query_map([channel], |r| {
                    Ok(PairedSender {
                        sender_id: r.get(0)?,
                        display: r.get(1)?,
                        paired_at: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Makes a single-use pairing code for `channel`, valid until `expires_ms` (Unix ms); only
    /// its hash is kept.
    pub fn create_pair_code(&self, channel: &str, code: &str, expires_ms: i64) -> Result<()> {
        self.with_conn(|c| {
            c.execute("DELETE FROM channel_pair_codes WHERE expires_at < ?1", [now_ms()])?;
            c.execute(
                "INSERT INTO channel_pair_codes (code_hash, channel, expires_at) VALUES (?1, ?2, ?3)",
                params![code_hash(channel, code), channel, expires_ms],
            )?;
            Ok(())
        })
    }

    /// Pairs `sender` when `code` is a live code of `channel` (used up by this), auditing
    /// `channel.paired` either way a code was tried. Returns whether it paired.
    pub fn redeem_pair_code(
        &self,
        channel: &str,
        code: &str,
        sender_id: &str,
        display: &str,
    ) -> Result<bool> {
        let hash = code_hash(channel, code);
        let paired = self.with_tx(|tx| {
            let n = tx.execute(
                "DELETE FROM channel_pair_codes WHERE code_hash = ?1 AND channel = ?2 AND expires_at >= ?3",
                params![hash, channel, now_ms()],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO channel_senders (channel, sender_id, display, paired_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (channel, sender_id) DO UPDATE SET display = excluded.display",
                params![channel, sender_id, display, now_ts()],
            )?;
            Ok(true)
        })?;
        self.audit_channel(
            channel,
            "channel.paired",
            &format!("{channel}:{sender_id}"),
            serde_json::json!({ "sender": sender_id, "display": display }),
            if paired { "success" } else { "denied" },
        )?;
        Ok(paired)
    }

    /// Removes a paired sender (audited); `false` when it was not paired.
    pub fn unpair_sender(&self, channel: &str, sender_id: &str, actor: &str) -> Result<bool> {
        let n = self.with_conn(|c| {
            Ok(c.execute(
                "DELETE FROM channel_senders WHERE channel = ?1 AND sender_id = ?2",
                [channel, sender_id],
            )?)
        })?;
        if n > 0 {
            self.audit_channel(
                channel,
                "channel.unpaired",
                actor,
                serde_json::json!({ "sender": sender_id }),
                "success",
            )?;
        }
        Ok(n > 0)
    }

    /// Forgets everything a removed channel kept (its sessions stay).
    pub fn forget_channel(&self, channel: &str) -> Result<()> {
        self.with_tx(|tx| {
            for table in [
                "channel_updates",
                "channel_chats",
                "channel_senders",
                "channel_pair_codes",
                "channel_outbox",
                "webhook_requests",
            ] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE channel = ?1"),
                    [channel],
                )?;
            }
            Ok(())
        })
    }

    fn audit_channel(
        &self,
        channel: &str,
        action: &str,
        actor: &str,
        details: serde_json::Value,
        outcome: &str,
    ) -> Result<()> {
        self.append_audit(&AuditEntry {
            actor: actor.to_string(),
            action: action.to_string(),
            resource_type: "channel".to_string(),
            resource_id: Some(channel.to_string()),
            session_id: None,
            details,
            outcome: outcome.to_string(),
        })
        .map(|_| ())
    }
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
