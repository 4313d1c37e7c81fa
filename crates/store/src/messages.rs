//! Messages of a session, in order. `content` holds the provider-neutral message (text, tool
//! calls, tool results) as JSON; `text` is its plain text, which feeds full-text search.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{json_col, new_id, now_ts, str_enum, to_i64, to_u64};

str_enum! {
    /// Who a message is from.
    pub enum Role { User => "user", Assistant => "assistant", Tool => "tool", System => "system" }
}

/// Token counts and cost of the model call that produced a message; all optional because user
/// and tool messages have none and some providers report only part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageUsage {
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
}

/// A message to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub session_id: String,
    pub role: Role,
    /// The provider-neutral message content.
    pub content: serde_json::Value,
    /// Plain text for search (may be empty).
    pub text: String,
    /// For tool results: the call they answer.
    pub tool_call_id: Option<String>,
    pub model: Option<String>,
    pub usage: MessageUsage,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub session_id: String,
    /// 1, 2, 3, … within the session.
    pub seq: u64,
    pub role: Role,
    pub content: serde_json::Value,
    pub text: String,
    pub tool_call_id: Option<String>,
    pub model: Option<String>,
    pub usage: MessageUsage,
    pub created_at: String,
    /// Pinned by the user: reaches the model verbatim through compaction and pruning.
    pub pinned: bool,
}

impl From<Role> for pryx_protocol::message::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::User => pryx_protocol::message::Role::User,
            Role::Assistant => pryx_protocol::message::Role::Assistant,
            Role::Tool => pryx_protocol::message::Role::Tool,
            Role::System => pryx_protocol::message::Role::System,
        }
    }
}

impl From<pryx_protocol::message::Role> for Role {
    fn from(r: pryx_protocol::message::Role) -> Self {
        match r {
            pryx_protocol::message::Role::User => Role::User,
            pryx_protocol::message::Role::Assistant => Role::Assistant,
            pryx_protocol::message::Role::Tool => Role::Tool,
            pryx_protocol::message::Role::System => Role::System,
        }
    }
}

impl Message {
    /// The conversation message held in `content`. A row that does not decode (written by an
    /// older or newer version) is rebuilt from its role and plain text, so it still shows.
    pub fn conversation(&self) -> pryx_protocol::message::Message {
        use pryx_protocol::message::Message as M;
        serde_json::from_value(self.content.clone()).unwrap_or_else(|_| match self.role {
            Role::User | Role::System => M::user(self.text.clone()),
            Role::Assistant => M::assistant(self.text.clone()),
            Role::Tool => M::tool_result(
                self.tool_call_id.clone().unwrap_or_default(),
                self.text.clone(),
                false,
            ),
        })
    }
}

const COLS: &str = "id, session_id, seq, role, content, text, tool_call_id, model, tokens_in, tokens_out, \
     cache_read_tokens, cache_write_tokens, cost_usd, created_at, pinned";

fn opt_u64(v: Option<i64>) -> Option<u64> {
    v.map(to_u64)
}

fn opt_i64(what: &'static str, v: Option<u64>) -> Result<Option<i64>> {
    v.map(|n| to_i64(what, n)).transpose()
}

fn raw_from_row(r: &Row<'_>) -> rusqlite::Result<(Message, String)> {
    let content: String = r.get(4)?;
    let msg = Message {
        id: r.get(0)?,
        session_id: r.get(1)?,
        seq: to_u64(r.get(2)?),
        role: r.get(3)?,
        content: serde_json::Value::Null,
        text: r.get(5)?,
        tool_call_id: r.get(6)?,
        model: r.get(7)?,
        usage: MessageUsage {
            tokens_in: opt_u64(r.get(8)?),
            tokens_out: opt_u64(r.get(9)?),
            cache_read_tokens: opt_u64(r.get(10)?),
            cache_write_tokens: opt_u64(r.get(11)?),
            cost_usd: r.get(12)?,
        },
        created_at: r.get(13)?,
        pinned: r.get(14)?,
    };
    Ok((msg, content))
}

fn finish(raw: (Message, String)) -> Result<Message> {
    let (mut msg, content) = raw;
    msg.content = json_col(&content)?;
    Ok(msg)
}

impl Message {
    /// The message in the API's shape.
    pub fn into_view(self) -> pryx_protocol::api::MessageView {
        let content = self.conversation();
        pryx_protocol::api::MessageView {
            id: self.id,
            seq: self.seq,
            role: self.role.into(),
            content,
            text: self.text,
            tool_call_id: self.tool_call_id,
            model: self.model,
            tokens_in: self.usage.tokens_in.unwrap_or(0),
            tokens_out: self.usage.tokens_out.unwrap_or(0),
            cost_usd: self.usage.cost_usd.unwrap_or(0.0),
            created_at: self.created_at,
            pinned: self.pinned,
        }
    }
}

impl Store {
    /// Appends a message, assigning the next `seq` of its session, and marks the session updated.
    /// The row is durable when this returns.
    pub fn append_message(&self, new: &NewMessage) -> Result<Message> {
        let u = &new.usage;
        let usage = (
            opt_i64("tokens_in", u.tokens_in)?,
            opt_i64("tokens_out", u.tokens_out)?,
            opt_i64("cache_read_tokens", u.cache_read_tokens)?,
            opt_i64("cache_write_tokens", u.cache_write_tokens)?,
        );
        let redactor = self.redactor();
        let mut masked = new.content.clone();
        redactor.strings(&mut masked);
        let content = serde_json::to_string(&masked)?;
        let text = redactor.text(&new.text);
        let id = new_id();
        let now = now_ts();
        self.with_tx(|tx| {
            let touched = tx.execute("UPDATE sessions SET updated_at = ?2 WHERE id = ?1", params![new.session_id, now])?;
            if touched == 0 {
                return Err(StoreError::NotFound { what: "session", id: new.session_id.clone() });
            }
            let seq: i64 = tx.query_row(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE session_id = ?1",
                [&new.session_id],
                |r| r.get(0),
            )?;
            tx.execute(
                &format!("INSERT INTO messages ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0)"),
                params![
                    id,
                    new.session_id,
                    seq,
                    new.role,
                    content,
                    text,
                    new.tool_call_id,
                    new.model,
                    usage.0,
                    usage.1,
                    usage.2,
                    usage.3,
                    u.cost_usd,
                    now
                ],
            )?;
            Ok(Message {
                id: id.clone(),
                session_id: new.session_id.clone(),
                seq: to_u64(seq),
                role: new.role,
                content: masked.clone(),
                text: text.clone().into_owned(),
                tool_call_id: new.tool_call_id.clone(),
                model: new.model.clone(),
                usage: new.usage,
                created_at: now.clone(),
                pinned: false,
            })
        })
    }

    /// All messages of a session in order.
    pub fn list_messages(&self, session_id: &str) -> Result<Vec<Message>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM messages WHERE session_id = ?1 ORDER BY seq"
            ))?;
            let raws = stmt
                .query_map([session_id], raw_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(finish).collect()
        })
    }

    /// Removes the session's last user message and everything after it (the answer and tool
    /// results of its turn), so a message that broke the session can be taken back. Only the
    /// last user message qualifies: earlier history is what later answers were built on.
    /// Returns how many messages went. Spent tokens and cost stay on the session's totals.
    pub fn remove_last_user_message(&self, session_id: &str, message_id: &str) -> Result<u64> {
        self.with_tx(|tx| {
            let found: Option<(i64, String)> = tx
                .query_row(
                    "SELECT seq, role FROM messages WHERE id = ?1 AND session_id = ?2",
                    params![message_id, session_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((seq, role)) = found else {
                return Err(StoreError::NotFound {
                    what: "message",
                    id: message_id.to_string(),
                });
            };
            let last_user: i64 = tx.query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM messages WHERE session_id = ?1 AND role = 'user'",
                [session_id],
                |r| r.get(0),
            )?;
            if role != "user" || seq != last_user {
                return Err(StoreError::Invalid {
                    what: "message removal",
                    detail: format!(
                        "message {message_id} is not the session's last user message; only that one (with what answered it) can be removed"
                    ),
                });
            }
            let removed = tx.execute(
                "DELETE FROM messages WHERE session_id = ?1 AND seq >= ?2",
                params![session_id, seq],
            )?;
            tx.execute(
                "UPDATE sessions SET updated_at = ?2 WHERE id = ?1",
                params![session_id, now_ts()],
            )?;
            Ok(removed as u64)
        })
    }

    /// One message by id.
    pub fn get_message(&self, id: &str) -> Result<Option<Message>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLS} FROM messages WHERE id = ?1"))?;
            let mut rows = stmt.query_map([id], raw_from_row)?;
            rows.next().transpose()?.map(finish).transpose()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::NewSession;
    use serde_json::json;

    pub(crate) fn msg(session: &str, role: Role, text: &str) -> NewMessage {
        NewMessage {
            session_id: session.to_string(),
            role,
            content: json!([{"type": "text", "text": text}]),
            text: text.to_string(),
            tool_call_id: None,
            model: None,
            usage: MessageUsage::default(),
        }
    }

    #[test]
    fn append_assigns_seq_per_session_and_lists_in_order() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        let b = store.create_session(&NewSession::default()).unwrap();
        let m1 = store
            .append_message(&msg(&a.id, Role::User, "hello"))
            .unwrap();
        let mut with_usage = msg(&a.id, Role::Assistant, "hi");
        with_usage.model = Some("m".into());
        with_usage.usage = MessageUsage {
            tokens_in: Some(12),
            tokens_out: Some(3),
            cache_read_tokens: Some(4),
            cache_write_tokens: None,
            cost_usd: Some(0.001),
        };
        let m2 = store.append_message(&with_usage).unwrap();
        let mut tool = msg(&a.id, Role::Tool, "result");
        tool.tool_call_id = Some("call_1".into());
        let m3 = store.append_message(&tool).unwrap();
        let other = store
            .append_message(&msg(&b.id, Role::User, "elsewhere"))
            .unwrap();

        assert_eq!((m1.seq, m2.seq, m3.seq, other.seq), (1, 2, 3, 1));
        let listed = store.list_messages(&a.id).unwrap();
        assert_eq!(listed, vec![m1.clone(), m2.clone(), m3]);
        assert_eq!(store.get_message(&m2.id).unwrap(), Some(m2));
        assert_eq!(store.get_message("missing").unwrap(), None);
        let session = store.get_session(&a.id).unwrap().unwrap();
        assert!(session.updated_at >= m1.created_at);
    }

    #[test]
    fn append_to_missing_session_is_not_found() {
        let store = Store::open_in_memory().unwrap();
        let err = store
            .append_message(&msg("nope", Role::User, "x"))
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NotFound {
                    what: "session",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn only_the_last_user_message_and_its_answers_can_be_removed() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        let first = store
            .append_message(&msg(&s.id, Role::User, "first"))
            .unwrap();
        let answer = store
            .append_message(&msg(&s.id, Role::Assistant, "a1"))
            .unwrap();
        let huge = store
            .append_message(&msg(&s.id, Role::User, "needle huge"))
            .unwrap();
        store
            .append_message(&msg(&s.id, Role::Assistant, "a2"))
            .unwrap();
        for (id, why) in [(&first.id, "earlier"), (&answer.id, "not a user message")] {
            let err = store.remove_last_user_message(&s.id, id).unwrap_err();
            assert!(matches!(err, StoreError::Invalid { .. }), "{why}: {err}");
        }
        let err = store
            .remove_last_user_message("other", &huge.id)
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
        assert_eq!(store.remove_last_user_message(&s.id, &huge.id).unwrap(), 2);
        let left: Vec<_> = store
            .list_messages(&s.id)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(left, vec![first.id, answer.id]);
        assert!(
            store.search_sessions("needle", 10, 0).unwrap().is_empty(),
            "the search index forgets it"
        );
        // The next message takes the freed place in the order.
        let next = store
            .append_message(&msg(&s.id, Role::User, "again"))
            .unwrap();
        assert_eq!(next.seq, 3);
    }

    #[test]
    fn deleting_a_session_removes_its_messages() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        let m = store
            .append_message(&msg(&s.id, Role::User, "bye"))
            .unwrap();
        store.delete_session(&s.id).unwrap();
        assert!(store.get_message(&m.id).unwrap().is_none());
    }
}
