//! Persisted session-bus events. Each session numbers its events 1, 2, 3, …; a surface that
//! reconnects with its last version asks for everything after it.

use pryx_protocol::{Event, EventKind, Surface};
use rusqlite::{Row, params};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{json_col, now_ts, to_i64, to_u64};

/// The wire name of a serde unit enum value (`"tool.complete"`, `"cli"`).
fn wire_name<T: serde::Serialize>(v: T) -> Result<String> {
    match serde_json::to_value(v)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::Decode(format!("expected a name, got {other}"))),
    }
}

fn from_wire<T: serde::de::DeserializeOwned>(s: String) -> Result<T> {
    Ok(serde_json::from_value(serde_json::Value::String(s))?)
}

type RawEvent = (String, i64, String, String, String, String);

fn raw_from_row(r: &Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn finish((session_id, version, kind, surface, payload, created_at): RawEvent) -> Result<Event> {
    let kind: EventKind = from_wire(kind)?;
    let surface: Surface = from_wire(surface)?;
    let mut event = Event::new(kind, session_id, surface, json_col(&payload)?, created_at);
    event.version = Some(to_u64(version));
    Ok(event)
}

impl Store {
    /// Persists an event and returns it with its version (the next one for its session, assigned
    /// in the same transaction). Ephemeral kinds (`session.delta`, `session.typing`) are refused:
    /// they are broadcast, never stored.
    pub fn append_event(
        &self,
        session_id: &str,
        kind: EventKind,
        surface: Surface,
        payload: &serde_json::Value,
    ) -> Result<Event> {
        if kind.is_ephemeral() {
            return Err(StoreError::Invalid {
                what: "event",
                detail: format!("{} is ephemeral and is never stored", wire_name(kind)?),
            });
        }
        let (kind_s, surface_s) = (wire_name(kind)?, wire_name(surface)?);
        let body = serde_json::to_string(payload)?;
        let now = now_ts();
        let version = self.with_tx(|tx| {
            let version: i64 = tx.query_row(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE session_id = ?1",
                [session_id],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO events (session_id, version, kind, surface, payload, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![session_id, version, kind_s, surface_s, body, now],
            )
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::NotFound {
                    what: "session",
                    id: session_id.to_string(),
                },
                _ => e.into(),
            })?;
            Ok(version)
        })?;
        let mut event = Event::new(kind, session_id, surface, payload.clone(), now);
        event.version = Some(to_u64(version));
        Ok(event)
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::NewSession;
    use serde_json::json;

    #[test]
    fn versions_increase_per_session_and_replay_from_a_version() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        let b = store.create_session(&NewSession::default()).unwrap();
        let mut versions = Vec::new();
        for i in 0..4 {
            let e = store
                .append_event(
                    &a.id,
                    EventKind::SessionMessage,
                    Surface::Cli,
                    &json!({"i": i}),
                )
                .unwrap();
            versions.push(e.version.unwrap());
        }
        let eb = store
            .append_event(
                &b.id,
                EventKind::ToolComplete,
                Surface::Telegram,
                &json!({"ok": true}),
            )
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
        assert_eq!(since[0].payload, json!({"i": 2}));
        assert_eq!(since[0].event, EventKind::SessionMessage);
        assert_eq!(since[0].surface, Surface::Cli);
        assert_eq!(store.events_since(&a.id, 0, 2).unwrap().len(), 2);
        assert!(store.events_since(&a.id, 4, 100).unwrap().is_empty());
        let only_b = store.events_since(&b.id, 0, 100).unwrap();
        assert_eq!(only_b, vec![eb]);
    }

    #[test]
    fn ephemeral_events_and_unknown_sessions_are_refused() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        let err = store
            .append_event(&a.id, EventKind::SessionDelta, Surface::Core, &json!({}))
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
        let err = store
            .append_event("ghost", EventKind::TurnStarted, Surface::Core, &json!({}))
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }
}
