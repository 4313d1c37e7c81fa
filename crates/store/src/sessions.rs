//! Sessions: one conversation, its status and its running usage totals.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{new_id, now_ts, str_enum, to_u64};

str_enum! {
    /// Whether a session is in use, resting, or put away.
    pub enum SessionStatus { Active => "active", Idle => "idle", Archived => "archived" }
}

/// A conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub workspace_id: Option<String>,
    pub title: String,
    pub status: SessionStatus,
    pub model: Option<String>,
    /// The agent profile it was created from (`None`: sessions older than profiles, i.e. `main`).
    pub agent: Option<String>,
    /// The policy its turns run under (`None`: the core's default).
    pub policy: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub total_tokens_in: u64,
    pub total_tokens_out: u64,
    pub total_cost_usd: f64,
    /// The session this one was forked from (`None` when it was not, or that one is gone).
    pub parent_id: Option<String>,
}

/// What a new session starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSession {
    pub workspace_id: Option<String>,
    pub title: String,
    pub model: Option<String>,
    pub agent: Option<String>,
    pub policy: Option<String>,
}

/// A window into a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 50,
            offset: 0,
        }
    }
}

pub(crate) const SESSION_COLS: &str = "s.id, s.workspace_id, s.title, s.status, s.model, s.created_at, s.updated_at, \
     s.total_tokens_in, s.total_tokens_out, s.total_cost_usd, s.agent, s.policy, s.parent_id";

/// How many columns [`SESSION_COLS`] selects.
pub(crate) const SESSION_COL_COUNT: usize = 13;

/// Maps the first [`SESSION_COL_COUNT`] columns (as in [`SESSION_COLS`]) of a row.
pub(crate) fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        title: r.get(2)?,
        status: r.get(3)?,
        model: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        total_tokens_in: to_u64(r.get(7)?),
        total_tokens_out: to_u64(r.get(8)?),
        total_cost_usd: r.get(9)?,
        agent: r.get(10)?,
        policy: r.get(11)?,
        parent_id: r.get(12)?,
    })
}

pub(crate) fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "session",
        id: id.to_string(),
    }
}

fn expect_one(changed: usize, id: &str) -> Result<()> {
    if changed == 0 {
        Err(not_found(id))
    } else {
        Ok(())
    }
}

impl Session {
    /// The API's summary of this session, with its workspace path when known. `busy` and the
    /// broad-workspace warning are the running core's to set.
    pub fn into_summary(
        self,
        workspace: Option<String>,
        snippet: Option<String>,
    ) -> pryx_protocol::api::SessionSummary {
        pryx_protocol::api::SessionSummary {
            busy: false,
            workspace_warning: None,
            workspace,
            id: self.id,
            workspace_id: self.workspace_id,
            title: self.title,
            status: self.status.as_str().to_string(),
            model: self.model,
            agent: self.agent,
            policy: self.policy,
            created_at: self.created_at,
            updated_at: self.updated_at,
            total_tokens_in: self.total_tokens_in,
            total_tokens_out: self.total_tokens_out,
            total_cost_usd: self.total_cost_usd,
            parent_id: self.parent_id,
            snippet,
        }
    }
}

impl Store {
    /// Starts a new, active session.
    pub fn create_session(&self, new: &NewSession) -> Result<Session> {
        let id = new_id();
        let now = now_ts();
        let title = self.redactor().text(&new.title).into_owned();
        self.with_tx(|tx| {
            tx.execute(
                "INSERT INTO sessions (id, workspace_id, title, status, model, created_at, updated_at, agent, policy)
                 VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?5, ?6, ?7)",
                params![id, new.workspace_id, title, new.model, now, new.agent, new.policy],
            )?;
            Ok(tx.query_row(&format!("SELECT {SESSION_COLS} FROM sessions s WHERE s.id = ?1"), [&id], session_from_row)?)
        })
    }

    /// The session with this id, if any.
    pub fn get_session(&self, id: &str) -> Result<Option<Session>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                &format!("SELECT {SESSION_COLS} FROM sessions s WHERE s.id = ?1"),
                [id],
                session_from_row,
            )
            .optional()?)
        })
    }

    /// Sessions, most recently updated first, optionally only those of one workspace.
    pub fn list_sessions(&self, workspace_id: Option<&str>, page: Page) -> Result<Vec<Session>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {SESSION_COLS} FROM sessions s
                 WHERE ?1 IS NULL OR s.workspace_id = ?1
                 ORDER BY s.updated_at DESC, s.rowid DESC LIMIT ?2 OFFSET ?3"
            ))?;
            Ok(stmt
                .query_map(
                    params![workspace_id, page.limit, page.offset],
                    session_from_row,
                )?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The most recently updated, non-archived session of a workspace (for `--continue`).
    pub fn latest_session(&self, workspace_id: &str) -> Result<Option<Session>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                &format!(
                    "SELECT {SESSION_COLS} FROM sessions s
                     WHERE s.workspace_id = ?1 AND s.status != 'archived'
                     ORDER BY s.updated_at DESC, s.rowid DESC LIMIT 1"
                ),
                [workspace_id],
                session_from_row,
            )
            .optional()?)
        })
    }

    /// Renames a session.
    pub fn set_session_title(&self, id: &str, title: &str) -> Result<()> {
        let title = self.redactor().text(title);
        self.with_conn(|c| {
            let n = c.execute(
                "UPDATE sessions SET title = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, title.as_ref(), now_ts()],
            )?;
            expect_one(n, id)
        })
    }

    /// Changes a session's status.
    pub fn set_session_status(&self, id: &str, status: SessionStatus) -> Result<()> {
        self.with_conn(|c| {
            let n = c.execute(
                "UPDATE sessions SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, status, now_ts()],
            )?;
            expect_one(n, id)
        })
    }

    /// Records the model a session now uses.
    pub fn set_session_model(&self, id: &str, model: &str) -> Result<()> {
        self.with_conn(|c| {
            let n = c.execute(
                "UPDATE sessions SET model = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, model, now_ts()],
            )?;
            expect_one(n, id)
        })
    }

    /// Records the policy a session's later turns run under.
    pub fn set_session_policy(&self, id: &str, policy: &str) -> Result<()> {
        self.with_conn(|c| {
            let n = c.execute(
                "UPDATE sessions SET policy = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, policy, now_ts()],
            )?;
            expect_one(n, id)
        })
    }

    /// Deletes a session with its messages, tool calls, grants, spans and events. The audit log
    /// keeps its entries. Returns whether the session existed.
    pub fn delete_session(&self, id: &str) -> Result<bool> {
        self.with_conn(|c| Ok(c.execute("DELETE FROM sessions WHERE id = ?1", [id])? > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn store_with_ws() -> (Store, String) {
        let store = Store::open_in_memory().unwrap();
        let ws = store.upsert_workspace(Path::new("/w")).unwrap();
        (store, ws.id)
    }

    fn new_session(ws: &str, title: &str) -> NewSession {
        NewSession {
            workspace_id: Some(ws.to_string()),
            title: title.to_string(),
            model: Some("m1".into()),
            ..Default::default()
        }
    }

    #[test]
    fn create_get_and_update() {
        let (store, ws) = store_with_ws();
        let s = store.create_session(&new_session(&ws, "first")).unwrap();
        assert_eq!(s.status, SessionStatus::Active);
        assert_eq!(s.title, "first");
        assert_eq!(store.get_session(&s.id).unwrap().unwrap(), s);

        store.set_session_title(&s.id, "renamed").unwrap();
        store
            .set_session_status(&s.id, SessionStatus::Idle)
            .unwrap();
        store.set_session_model(&s.id, "m2").unwrap();
        store.record_call_cost(&cost(&s.id, 10, 5, 0.25)).unwrap();
        store.record_call_cost(&cost(&s.id, 1, 2, 0.5)).unwrap();
        let got = store.get_session(&s.id).unwrap().unwrap();
        assert_eq!(
            (got.title.as_str(), got.status, got.model.as_deref()),
            ("renamed", SessionStatus::Idle, Some("m2"))
        );
        assert_eq!((got.total_tokens_in, got.total_tokens_out), (11, 7));
        assert!((got.total_cost_usd - 0.75).abs() < 1e-9);
        assert!(got.updated_at >= s.updated_at);

        assert!(matches!(
            store.set_session_title("missing", "x"),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.record_call_cost(&cost(&s.id, 1, 1, f64::NAN)),
            Err(StoreError::Invalid { .. })
        ));
        assert!(store.get_session("missing").unwrap().is_none());
    }

    fn cost(session: &str, tokens_in: u64, tokens_out: u64, cost_usd: f64) -> crate::CallCost {
        crate::CallCost {
            session_id: session.to_string(),
            agent: "main".into(),
            model: "p/m".into(),
            tokens_in,
            tokens_out,
            cost_usd,
        }
    }

    #[test]
    fn list_is_newest_first_and_paged() {
        let (store, ws) = store_with_ws();
        let ids: Vec<String> = (0..5)
            .map(|i| {
                store
                    .create_session(&new_session(&ws, &format!("s{i}")))
                    .unwrap()
                    .id
            })
            .collect();
        let other = store.create_session(&NewSession::default()).unwrap();
        let all = store
            .list_sessions(
                Some(&ws),
                Page {
                    limit: 10,
                    offset: 0,
                },
            )
            .unwrap();
        let got: Vec<_> = all.iter().map(|s| s.id.clone()).collect();
        let mut want = ids.clone();
        want.reverse();
        assert_eq!(got, want);
        let page = store
            .list_sessions(
                Some(&ws),
                Page {
                    limit: 2,
                    offset: 1,
                },
            )
            .unwrap();
        assert_eq!(
            page.iter().map(|s| &s.id).collect::<Vec<_>>(),
            [&want[1], &want[2]]
        );
        assert_eq!(store.list_sessions(None, Page::default()).unwrap().len(), 6);
        assert_eq!(
            store.list_sessions(None, Page::default()).unwrap()[0].id,
            other.id
        );

        // Updating an older session moves it to the front.
        store.set_session_title(&ids[0], "bumped").unwrap();
        assert_eq!(store.latest_session(&ws).unwrap().unwrap().id, ids[0]);
        store
            .set_session_status(&ids[0], SessionStatus::Archived)
            .unwrap();
        assert_eq!(store.latest_session(&ws).unwrap().unwrap().id, ids[4]);
        assert!(store.latest_session("no-such-workspace").unwrap().is_none());
    }

    #[test]
    fn delete_cascades_to_everything_of_the_session_but_the_audit_log() {
        use crate::{AuditEntry, GrantScope, NewGrant, NewSpan, NewToolCall, SpanKind};
        use pryx_protocol::{EventPayload, Surface, TurnStarted};
        let (store, ws) = store_with_ws();
        let s = store.create_session(&new_session(&ws, "doomed")).unwrap();
        let keep = store.create_session(&new_session(&ws, "kept")).unwrap();
        for sid in [&s.id, &keep.id] {
            store
                .insert_tool_call(&NewToolCall {
                    session_id: sid.clone(),
                    id: "c".into(),
                    message_id: None,
                    tool_name: "t".into(),
                    arguments: serde_json::json!({}),
                })
                .unwrap();
            store
                .append_event(
                    sid,
                    Surface::Cli,
                    &EventPayload::TurnStarted(TurnStarted {
                        span_id: "s".into(),
                    }),
                )
                .unwrap();
            store
                .start_span(&NewSpan {
                    trace_id: None,
                    parent_id: None,
                    session_id: Some(sid.clone()),
                    kind: SpanKind::Turn,
                    name: "turn".into(),
                    attributes: serde_json::Value::Null,
                })
                .unwrap();
            store
                .add_grant(&NewGrant {
                    tool_name: "t".into(),
                    fingerprint: "f".into(),
                    scope: GrantScope::Session,
                    session_id: Some(sid.clone()),
                    workspace: "/w".into(),
                    policy: "p".into(),
                    policy_hash: "h".into(),
                    arguments: serde_json::json!({}),
                    expires_at: None,
                })
                .unwrap();
        }
        store
            .append_audit(&AuditEntry {
                actor: "user".into(),
                action: "session.deleted".into(),
                resource_type: "session".into(),
                resource_id: Some(s.id.clone()),
                session_id: Some(s.id.clone()),
                details: serde_json::json!({}),
                outcome: "success".into(),
            })
            .unwrap();
        assert!(store.delete_session(&s.id).unwrap());
        assert!(store.list_tool_calls(&s.id).unwrap().is_empty());
        assert!(store.events_since(&s.id, 0, 10).unwrap().is_empty());
        assert!(store.list_spans(&s.id).unwrap().is_empty());
        assert_eq!(store.list_grants().unwrap().len(), 1);
        assert_eq!(store.list_audit(Some(&s.id), 10).unwrap().len(), 1);
        // The other session is untouched.
        assert_eq!(store.list_tool_calls(&keep.id).unwrap().len(), 1);
        assert_eq!(store.list_spans(&keep.id).unwrap().len(), 1);
    }

    #[test]
    fn delete_reports_existence() {
        let (store, ws) = store_with_ws();
        let s = store.create_session(&new_session(&ws, "x")).unwrap();
        assert!(store.delete_session(&s.id).unwrap());
        assert!(!store.delete_session(&s.id).unwrap());
        assert!(store.get_session(&s.id).unwrap().is_none());
    }
}
