//! Tool calls and their lifecycle, from the model's request to the result. Calls left unfinished by
//! a crash are marked `interrupted` on recovery.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{json_col, now_ts, parse_ts, str_enum, to_u64};

str_enum! {
    /// Where a tool call is in its lifecycle.
    pub enum ToolCallStatus {
        Pending => "pending",
        Approved => "approved",
        Denied => "denied",
        Running => "running",
        Completed => "completed",
        Failed => "failed",
        Interrupted => "interrupted",
    }
}

impl ToolCallStatus {
    /// Whether the call has reached an end state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Denied | Self::Completed | Self::Failed | Self::Interrupted
        )
    }
}

/// A call the model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToolCall {
    pub session_id: String,
    /// The model's call id (unique within the session).
    pub id: String,
    /// The assistant message that carried the call.
    pub message_id: Option<String>,
    pub tool_name: String,
    pub arguments: serde_json::Value,
}

/// Changes to a call; `None` leaves a field as it is. Moving to `running` stamps `started_at`;
/// moving to a final status stamps `completed_at` and `duration_ms`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCallUpdate {
    pub status: Option<ToolCallStatus>,
    /// Policy decision (`allow` / `ask` / `deny`).
    pub decision: Option<String>,
    /// The policy rule that decided.
    pub rule: Option<String>,
    /// Scope of the approval that let it run (`once` / `session` / `always`).
    pub approval_scope: Option<String>,
    pub result: Option<String>,
    pub is_error: Option<bool>,
}

/// A stored tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub session_id: String,
    pub id: String,
    pub message_id: Option<String>,
    pub tool_name: String,
    pub arguments: serde_json::Value,
    pub status: ToolCallStatus,
    pub decision: Option<String>,
    pub rule: Option<String>,
    pub approval_scope: Option<String>,
    pub result: Option<String>,
    pub is_error: bool,
    pub created_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub duration_ms: Option<u64>,
}

const COLS: &str = "session_id, id, message_id, tool_name, arguments, status, decision, rule, approval_scope, \
     result, is_error, created_at, started_at, completed_at, duration_ms";

fn raw_from_row(r: &Row<'_>) -> rusqlite::Result<(ToolCall, String)> {
    let args: String = r.get(4)?;
    let call = ToolCall {
        session_id: r.get(0)?,
        id: r.get(1)?,
        message_id: r.get(2)?,
        tool_name: r.get(3)?,
        arguments: serde_json::Value::Null,
        status: r.get(5)?,
        decision: r.get(6)?,
        rule: r.get(7)?,
        approval_scope: r.get(8)?,
        result: r.get(9)?,
        is_error: r.get(10)?,
        created_at: r.get(11)?,
        started_at: r.get(12)?,
        completed_at: r.get(13)?,
        duration_ms: r.get::<_, Option<i64>>(14)?.map(to_u64),
    };
    Ok((call, args))
}

fn finish(raw: (ToolCall, String)) -> Result<ToolCall> {
    let (mut call, args) = raw;
    call.arguments = json_col(&args)?;
    Ok(call)
}

fn millis_between(start: &str, end: &str) -> Result<i64> {
    let d = parse_ts(end)? - parse_ts(start)?;
    Ok(i64::try_from(d.whole_milliseconds())
        .unwrap_or(i64::MAX)
        .max(0))
}

impl Store {
    /// Records a call as `pending`. Its arguments are kept exactly, known secret values
    /// replaced by a marker naming them: they are what a person approves and what ran, so no
    /// pattern-based masking may hide any of it.
    pub fn insert_tool_call(&self, new: &NewToolCall) -> Result<ToolCall> {
        let args = serde_json::to_string(&self.redactor().mark_known_json(&new.arguments))?;
        let now = now_ts();
        self.with_tx(|tx| {
            tx.execute(
                "INSERT INTO tool_calls (session_id, id, message_id, tool_name, arguments, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
                params![new.session_id, new.id, new.message_id, new.tool_name, args, now],
            )?;
            load(tx, &new.session_id, &new.id)?.ok_or_else(|| missing(&new.session_id, &new.id))
        })
    }

    /// Applies `update` to a call and returns it as stored.
    pub fn update_tool_call(
        &self,
        session_id: &str,
        id: &str,
        update: &ToolCallUpdate,
    ) -> Result<ToolCall> {
        let now = now_ts();
        let result = update
            .result
            .as_deref()
            .map(|r| self.redactor().text(r).into_owned());
        self.with_tx(|tx| {
            let current = load(tx, session_id, id)?.ok_or_else(|| missing(session_id, id))?;
            let status = update.status.unwrap_or(current.status);
            let mut started_at = current.started_at.clone();
            if status == ToolCallStatus::Running && started_at.is_none() {
                started_at = Some(now.clone());
            }
            let (mut completed_at, mut duration_ms) = (current.completed_at.clone(), current.duration_ms.map(|d| i64::try_from(d).unwrap_or(i64::MAX)));
            if status.is_final() && completed_at.is_none() {
                duration_ms = started_at.as_deref().map(|s| millis_between(s, &now)).transpose()?;
                completed_at = Some(now.clone());
            }
            tx.execute(
                "UPDATE tool_calls SET status = ?3, decision = COALESCE(?4, decision), rule = COALESCE(?5, rule),
                    approval_scope = COALESCE(?6, approval_scope), result = COALESCE(?7, result),
                    is_error = COALESCE(?8, is_error), started_at = ?9, completed_at = ?10, duration_ms = ?11
                 WHERE session_id = ?1 AND id = ?2",
                params![
                    session_id,
                    id,
                    status,
                    update.decision,
                    update.rule,
                    update.approval_scope,
                    result,
                    update.is_error,
                    started_at,
                    completed_at,
                    duration_ms
                ],
            )?;
            load(tx, session_id, id)?.ok_or_else(|| missing(session_id, id))
        })
    }

    /// One call.
    pub fn get_tool_call(&self, session_id: &str, id: &str) -> Result<Option<ToolCall>> {
        self.with_conn(|c| load(c, session_id, id))
    }

    /// The calls of a session in the order they were requested.
    pub fn list_tool_calls(&self, session_id: &str) -> Result<Vec<ToolCall>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM tool_calls WHERE session_id = ?1 ORDER BY created_at, rowid"
            ))?;
            let raws = stmt
                .query_map([session_id], raw_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(finish).collect()
        })
    }

    /// Crash recovery for one session: calls still `pending`, `approved` or `running` become
    /// `interrupted`. Returns how many changed.
    pub fn mark_interrupted(&self, session_id: &str) -> Result<usize> {
        self.interrupt_where(Some(session_id))
    }

    /// Crash recovery at start-up: like [`Store::mark_interrupted`] for every session.
    pub fn mark_all_interrupted(&self) -> Result<usize> {
        self.interrupt_where(None)
    }

    fn interrupt_where(&self, session_id: Option<&str>) -> Result<usize> {
        let now = now_ts();
        self.with_conn(|c| {
            Ok(c.execute(
                "UPDATE tool_calls SET status = 'interrupted', completed_at = ?2
                 WHERE status IN ('pending', 'approved', 'running') AND (?1 IS NULL OR session_id = ?1)",
                params![session_id, now],
            )?)
        })
    }
}

fn missing(session_id: &str, id: &str) -> StoreError {
    StoreError::NotFound {
        what: "tool call",
        id: format!("{id} in session {session_id}"),
    }
}

fn load(c: &rusqlite::Connection, session_id: &str, id: &str) -> Result<Option<ToolCall>> {
    c.query_row(
        &format!("SELECT {COLS} FROM tool_calls WHERE session_id = ?1 AND id = ?2"),
        [session_id, id],
        raw_from_row,
    )
    .optional()?
    .map(finish)
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::NewSession;
    use serde_json::json;

    fn call(session: &str, id: &str) -> NewToolCall {
        NewToolCall {
            session_id: session.into(),
            id: id.into(),
            message_id: None,
            tool_name: "shell.exec".into(),
            arguments: json!({"command": "ls"}),
        }
    }

    #[test]
    fn lifecycle_stamps_times_and_keeps_unset_fields() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        let c = store.insert_tool_call(&call(&s.id, "call_1")).unwrap();
        assert_eq!(c.status, ToolCallStatus::Pending);
        assert_eq!(c.arguments, json!({"command": "ls"}));

        let approved = ToolCallUpdate {
            status: Some(ToolCallStatus::Approved),
            decision: Some("ask".into()),
            rule: Some("shell-asks".into()),
            approval_scope: Some("once".into()),
            ..Default::default()
        };
        store.update_tool_call(&s.id, "call_1", &approved).unwrap();
        let running = store
            .update_tool_call(
                &s.id,
                "call_1",
                &ToolCallUpdate {
                    status: Some(ToolCallStatus::Running),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(running.started_at.is_some() && running.completed_at.is_none());
        assert_eq!(running.rule.as_deref(), Some("shell-asks"));

        let done = store
            .update_tool_call(
                &s.id,
                "call_1",
                &ToolCallUpdate {
                    status: Some(ToolCallStatus::Failed),
                    result: Some("exit 1".into()),
                    is_error: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(done.is_error);
        assert_eq!(done.result.as_deref(), Some("exit 1"));
        assert_eq!(done.decision.as_deref(), Some("ask"));
        assert!(done.completed_at.is_some() && done.duration_ms.is_some());
        assert_eq!(
            store.get_tool_call(&s.id, "call_1").unwrap(),
            Some(done.clone())
        );
        assert_eq!(store.list_tool_calls(&s.id).unwrap(), vec![done]);
    }

    #[test]
    fn call_ids_are_scoped_by_session() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        let b = store.create_session(&NewSession::default()).unwrap();
        store.insert_tool_call(&call(&a.id, "call_1")).unwrap();
        store.insert_tool_call(&call(&b.id, "call_1")).unwrap();
        assert!(
            store.insert_tool_call(&call(&a.id, "call_1")).is_err(),
            "duplicate in one session"
        );
        let err = store
            .update_tool_call(&a.id, "call_9", &ToolCallUpdate::default())
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }

    #[test]
    fn mark_interrupted_touches_only_unfinished_calls_of_that_session() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        let other = store.create_session(&NewSession::default()).unwrap();
        for (id, status) in [
            ("p", None),
            ("a", Some(ToolCallStatus::Approved)),
            ("r", Some(ToolCallStatus::Running)),
            ("c", Some(ToolCallStatus::Completed)),
            ("d", Some(ToolCallStatus::Denied)),
        ] {
            store.insert_tool_call(&call(&s.id, id)).unwrap();
            if let Some(status) = status {
                store
                    .update_tool_call(
                        &s.id,
                        id,
                        &ToolCallUpdate {
                            status: Some(status),
                            ..Default::default()
                        },
                    )
                    .unwrap();
            }
        }
        store.insert_tool_call(&call(&other.id, "x")).unwrap();

        assert_eq!(store.mark_interrupted(&s.id).unwrap(), 3);
        let statuses: Vec<_> = store
            .list_tool_calls(&s.id)
            .unwrap()
            .into_iter()
            .map(|c| (c.id, c.status))
            .collect();
        use ToolCallStatus::*;
        let want = [
            ("p", Interrupted),
            ("a", Interrupted),
            ("r", Interrupted),
            ("c", Completed),
            ("d", Denied),
        ];
        assert_eq!(statuses, want.map(|(i, s)| (i.to_string(), s)));
        assert_eq!(
            store.get_tool_call(&other.id, "x").unwrap().unwrap().status,
            Pending
        );
        assert_eq!(store.mark_all_interrupted().unwrap(), 1);
        assert_eq!(
            store.get_tool_call(&other.id, "x").unwrap().unwrap().status,
            Interrupted
        );
    }
}
