//! Persisted session-bus events. Each session numbers its events 1, 2, 3, …; a surface that
//! reconnects with its last version asks for everything after it.

use pryx_protocol::{Event, EventPayload, Surface};
use rusqlite::{Row, params};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{json_col, now_ts, to_i64, to_u64};

pub(crate) type RawEvent = (String, i64, String, String, String, String);

/// The six columns `session_id, version, kind, surface, payload, created_at`, in that order.
pub(crate) fn raw_from_row(r: &Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(crate) fn finish(
    (session_id, version, kind, surface, payload, created_at): RawEvent,
) -> Result<Event> {
    let surface: Surface = serde_json::from_value(serde_json::Value::String(surface))?;
    let payload = EventPayload::decode(&kind, json_col(&payload)?);
    let mut event = Event::new(session_id, surface, payload, created_at);
    event.version = Some(to_u64(version));
    Ok(event)
}

/// Whether the payload shows a tool call exactly as requested (and so is only marked, never
/// masked). Exhaustive: a new kind must decide here.
fn shows_a_call(payload: &EventPayload) -> bool {
    match payload {
        EventPayload::ToolRequest(_) | EventPayload::ApprovalNeeded(_) => true,
        EventPayload::SessionMessage(_)
        | EventPayload::SessionDelta(_)
        | EventPayload::SessionTyping(_)
        | EventPayload::TurnStarted(_)
        | EventPayload::TurnCompleted(_)
        | EventPayload::ToolExecuting(_)
        | EventPayload::ToolComplete(_)
        | EventPayload::ApprovalResolved(_)
        | EventPayload::TraceEvent(_)
        | EventPayload::ErrorOccurred(_)
        | EventPayload::ModelFallback(_)
        | EventPayload::BudgetWarning(_)
        | EventPayload::ContextWarning(_)
        | EventPayload::ContextCompacted(_)
        | EventPayload::ProcessMatched(_)
        | EventPayload::SpanUpdate(_)
        | EventPayload::Unknown(_) => false,
    }
}

/// What [`Store::stored_after_position`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAfter {
    /// Session id and the version its events after the position follow, oldest first.
    pub sessions: Vec<(String, u64)>,
    /// The highest position ever handed out.
    pub last_position: u64,
}

impl Store {
    /// Persists an event and returns it with its version (the next one for its session, assigned
    /// in the same transaction). Ephemeral kinds (`session.delta`, `session.typing`) are refused:
    /// they are broadcast, never stored.
    pub fn append_event(
        &self,
        session_id: &str,
        surface: Surface,
        payload: &EventPayload,
    ) -> Result<Event> {
        let kind = payload.name();
        if payload.is_ephemeral() {
            return Err(StoreError::Invalid {
                what: "event",
                detail: format!("{kind} is ephemeral and is never stored"),
            });
        }
        let payload = &self.mask_payload(payload)?;
        let body = serde_json::to_string(payload)?;
        let now = now_ts();
        let mut position = None;
        let result = self.with_tx(|tx| {
            let version: i64 = tx.query_row(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE session_id = ?1",
                [session_id],
                |r| r.get(0),
            )?;
            let seq: i64 = tx.query_row(
                "UPDATE event_seq SET last = last + 1 WHERE id = 1 RETURNING last",
                [],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO events (session_id, version, kind, surface, payload, created_at, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![session_id, version, kind, surface.as_str(), body, now, seq],
            )
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::NotFound {
                    what: "session",
                    id: session_id.to_string(),
                },
                _ => e.into(),
            })?;
            // Pending before the commit: the published position never passes it unseen.
            let seq = to_u64(seq);
            self.positions_lock()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .stored(seq, session_id, to_u64(version));
            position = Some(seq);
            Ok(version)
        });
        let version = match result {
            Ok(v) => v,
            Err(e) => {
                if let Some(seq) = position {
                    self.positions_lock()
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .rolled_back(seq);
                }
                return Err(e);
            }
        };
        let mut event = Event::new(session_id, surface, payload.clone(), now);
        event.version = Some(to_u64(version));
        Ok(event)
    }

    /// `payload` with the known secrets masked in all its strings; what gets stored, and what
    /// ephemeral events (never stored) carry too. What a person approves (the call as
    /// requested, the approval question) only has known secret values replaced by their
    /// marker: storage masking must never hide any of what runs.
    fn mask_payload(&self, payload: &EventPayload) -> Result<EventPayload> {
        let body = serde_json::to_value(payload)?;
        let redactor = self.redactor();
        let body = if shows_a_call(payload) {
            redactor.mark_known_json(&body)
        } else {
            let mut body = body;
            redactor.strings(&mut body);
            body
        };
        Ok(EventPayload::decode(payload.name(), body))
    }

    /// Events of a session with a version greater than `after_version`, in order; at most `limit`.
    pub fn events_since(
        &self,
        session_id: &str,
        after_version: u64,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let after = to_i64("version", after_version)?;
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT session_id, version, kind, surface, payload, created_at FROM events
                 WHERE session_id = ?1 AND version > ?2 ORDER BY version LIMIT ?3",
            )?;
            let raws = stmt
                .query_map(params![session_id, after, limit], raw_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(finish).collect()
        })
    }

    /// The sessions with events stored after bus-wide position `position`, oldest first, each
    /// with the version its events after it follow (replay after that version), and the last
    /// position stored. Positions only grow, so a session's events after `position` are exactly
    /// those after the version given.
    pub fn stored_after_position(&self, position: u64) -> Result<StoredAfter> {
        let after = to_i64("position", position)?;
        self.with_conn(|c| {
            let last: i64 =
                c.query_row("SELECT last FROM event_seq WHERE id = 1", [], |r| r.get(0))?;
            let mut stmt = c.prepare(
                "SELECT session_id, MIN(version) - 1 FROM events WHERE seq > ?1
                 GROUP BY session_id ORDER BY MIN(seq)",
            )?;
            let sessions = stmt
                .query_map([after], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })?
                .map(|r| r.map(|(s, v)| (s, to_u64(v))))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(StoredAfter {
                sessions,
                last_position: to_u64(last),
            })
        })
    }

    /// The latest version of a session's events (0 if it has none).
    pub fn last_event_version(&self, session_id: &str) -> Result<u64> {
        self.with_conn(|c| {
            let v: i64 = c.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM events WHERE session_id = ?1",
                [session_id],
                |r| r.get(0),
            )?;
            Ok(to_u64(v))
        })
    }

    /// The latest version of a session's events of `kind` (0 if it has none): e.g. whether a
    /// warning was already given since the last compaction.
    pub fn last_event_version_of(
        &self,
        session_id: &str,
        kind: pryx_protocol::EventKind,
    ) -> Result<u64> {
        self.with_conn(|c| {
            let v: i64 = c.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM events WHERE session_id = ?1 AND kind = ?2",
                params![session_id, kind.name()],
                |r| r.get(0),
            )?;
            Ok(to_u64(v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::NewSession;
    use pryx_protocol::{Delta, EventKind, ToolExecuting, TraceEvent, TurnStarted};
    use serde_json::json;

    fn trace(i: i64) -> EventPayload {
        EventPayload::TraceEvent(TraceEvent {
            attributes: serde_json::Map::from_iter([("i".to_string(), json!(i))]),
        })
    }

    #[test]
    fn versions_increase_per_session_and_replay_from_a_version() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        let b = store.create_session(&NewSession::default()).unwrap();
        let mut versions = Vec::new();
        for i in 0..4 {
            let e = store.append_event(&a.id, Surface::Cli, &trace(i)).unwrap();
            versions.push(e.version.unwrap());
        }
        let executing = EventPayload::ToolExecuting(ToolExecuting {
            tool_call_id: "c1".into(),
            tool: "fs.read".into(),
        });
        let eb = store
            .append_event(&b.id, Surface::Telegram, &executing)
            .unwrap();
        assert_eq!(versions, [1, 2, 3, 4]);
        assert_eq!(eb.version, Some(1));
        assert_eq!(store.last_event_version(&a.id).unwrap(), 4);
        assert_eq!(store.last_event_version("none").unwrap(), 0);

        let since = store.events_since(&a.id, 2, 100).unwrap();
        assert_eq!(
            since.iter().map(|e| e.version.unwrap()).collect::<Vec<_>>(),
            [3, 4]
        );
        assert_eq!(since[0].payload, trace(2));
        assert_eq!(since[0].kind(), Some(EventKind::TraceEvent));
        assert_eq!(since[0].surface, Surface::Cli);
        assert_eq!(store.events_since(&a.id, 0, 2).unwrap().len(), 2);
        assert!(store.events_since(&a.id, 4, 100).unwrap().is_empty());
        let only_b = store.events_since(&b.id, 0, 100).unwrap();
        assert_eq!(only_b, vec![eb]);
    }

    #[test]
    fn positions_span_sessions_never_go_back_and_track_publication() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        let b = store.create_session(&NewSession::default()).unwrap();
        store.append_event(&a.id, Surface::Cli, &trace(0)).unwrap();
        let start = store.published_position();
        assert_eq!(start, 0, "the event is stored, not published");
        store.event_published(&a.id, 1);
        assert_eq!(store.published_position(), 1);
        store.append_event(&b.id, Surface::Cli, &trace(1)).unwrap();
        store.append_event(&a.id, Surface::Cli, &trace(2)).unwrap();
        store.event_published(&a.id, 2);
        assert_eq!(store.published_position(), 1, "b's event is not out yet");
        store.event_published(&b.id, 1);
        assert_eq!(store.published_position(), 3);
        let after = store.stored_after_position(1).unwrap();
        assert_eq!(after.sessions, vec![(b.id.clone(), 0), (a.id.clone(), 1)]);
        assert_eq!(after.last_position, 3);
        // Deleting the session holding the last positions does not hand them out again.
        store.delete_session(&a.id).unwrap();
        store.append_event(&b.id, Surface::Cli, &trace(3)).unwrap();
        let after = store.stored_after_position(3).unwrap();
        assert_eq!(after.sessions, vec![(b.id.clone(), 1)]);
        assert_eq!(after.last_position, 4);
    }

    #[test]
    fn ephemeral_events_and_unknown_sessions_are_refused() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        let delta = EventPayload::SessionDelta(Delta::Text { text: "x".into() });
        let err = store
            .append_event(&a.id, Surface::Core, &delta)
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
        let started = EventPayload::TurnStarted(TurnStarted {
            span_id: "s".into(),
        });
        let err = store
            .append_event("ghost", Surface::Core, &started)
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }

    #[test]
    fn a_stored_payload_this_build_cannot_read_comes_back_as_unknown() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        store
            .with_conn(|c| {
                c.execute(
                    "INSERT INTO events (session_id, version, kind, surface, payload, created_at)
                     VALUES (?1, 1, 'session.renamed', 'web', '{\"title\":\"x\"}', 't')",
                    [&a.id],
                )?;
                Ok(())
            })
            .unwrap();
        let events = store.events_since(&a.id, 0, 10).unwrap();
        assert_eq!(events[0].kind(), None);
        assert_eq!(events[0].name(), "session.renamed");
    }
}
