//! Spans: one row per turn, model call, tool call and approval wait. The trace timeline and cost
//! views read them; an OTLP exporter can translate them.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{json_col, new_id, now_ts, str_enum, to_i64, to_u64};

str_enum! {
    /// What a span measures.
    pub enum SpanKind {
        Turn => "turn",
        ModelCall => "model_call",
        ToolCall => "tool_call",
        ApprovalWait => "approval_wait",
    }
}

str_enum! {
    /// How a span ended (`Running` until it does).
    pub enum SpanStatus {
        Running => "running",
        Ok => "ok",
        Error => "error",
        Cancelled => "cancelled",
        /// The process stopped while the span ran (closed at the next start).
        Interrupted => "interrupted",
    }
}

/// A span to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSpan {
    /// `None` for a root span: inherited from the parent when there is one, else a new trace.
    pub trace_id: Option<String>,
    pub parent_id: Option<String>,
    pub session_id: Option<String>,
    pub kind: SpanKind,
    pub name: String,
    pub attributes: serde_json::Value,
}

/// How a span ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanEnd {
    pub status: SpanStatus,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub cost_usd: Option<f64>,
    /// Keys merged into the span's attributes (later values win).
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

impl SpanEnd {
    /// A plain ending with no usage.
    pub fn status(status: SpanStatus) -> SpanEnd {
        SpanEnd {
            status,
            tokens_in: None,
            tokens_out: None,
            cost_usd: None,
            attributes: None,
        }
    }
}

/// A stored span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub id: String,
    /// 32 lowercase hex digits, like an OpenTelemetry trace id.
    pub trace_id: String,
    pub parent_id: Option<String>,
    pub session_id: Option<String>,
    pub kind: SpanKind,
    pub name: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub status: SpanStatus,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub cost_usd: Option<f64>,
    pub attributes: serde_json::Value,
}

const COLS: &str = "id, trace_id, parent_id, session_id, kind, name, started_at, ended_at, status, tokens_in, \
     tokens_out, cost_usd, attributes";

fn raw_from_row(r: &Row<'_>) -> rusqlite::Result<(Span, String)> {
    let attrs: String = r.get(12)?;
    let span = Span {
        id: r.get(0)?,
        trace_id: r.get(1)?,
        parent_id: r.get(2)?,
        session_id: r.get(3)?,
        kind: r.get(4)?,
        name: r.get(5)?,
        started_at: r.get(6)?,
        ended_at: r.get(7)?,
        status: r.get(8)?,
        tokens_in: r.get::<_, Option<i64>>(9)?.map(to_u64),
        tokens_out: r.get::<_, Option<i64>>(10)?.map(to_u64),
        cost_usd: r.get(11)?,
        attributes: serde_json::Value::Null,
    };
    Ok((span, attrs))
}

fn finish(raw: (Span, String)) -> Result<Span> {
    let (mut span, attrs) = raw;
    span.attributes = json_col(&attrs)?;
    Ok(span)
}

fn load(c: &rusqlite::Connection, id: &str) -> Result<Option<Span>> {
    c.query_row(
        &format!("SELECT {COLS} FROM spans WHERE id = ?1"),
        [id],
        raw_from_row,
    )
    .optional()?
    .map(finish)
    .transpose()
}

fn missing(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "span",
        id: id.to_string(),
    }
}

impl Store {
    /// Opens a span now.
    pub fn start_span(&self, new: &NewSpan) -> Result<Span> {
        let attrs = if new.attributes.is_null() {
            "{}".to_string()
        } else {
            let mut masked = new.attributes.clone();
            self.redactor().strings(&mut masked);
            serde_json::to_string(&masked)?
        };
        let id = new_id();
        let now = now_ts();
        self.with_tx(|tx| {
            let trace_id = match (&new.trace_id, &new.parent_id) {
                (Some(t), _) => t.clone(),
                (None, Some(parent)) => tx
                    .query_row("SELECT trace_id FROM spans WHERE id = ?1", [parent], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| missing(parent))?,
                (None, None) => uuid::Uuid::now_v7().simple().to_string(),
            };
            tx.execute(
                "INSERT INTO spans (id, trace_id, parent_id, session_id, kind, name, started_at, status, attributes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8)",
                params![id, trace_id, new.parent_id, new.session_id, new.kind, new.name, now, attrs],
            )?;
            load(tx, &id)?.ok_or_else(|| missing(&id))
        })
    }

    /// Closes a span now, recording its outcome and usage.
    pub fn end_span(&self, id: &str, end: &SpanEnd) -> Result<Span> {
        let tin = end.tokens_in.map(|n| to_i64("tokens_in", n)).transpose()?;
        let tout = end
            .tokens_out
            .map(|n| to_i64("tokens_out", n))
            .transpose()?;
        let now = now_ts();
        let redactor = self.redactor();
        self.with_tx(|tx| {
            let current = load(tx, id)?.ok_or_else(|| missing(id))?;
            let mut attrs = match current.attributes {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            if let Some(extra) = &end.attributes {
                let mut extra = serde_json::Value::Object(extra.clone());
                redactor.strings(&mut extra);
                if let serde_json::Value::Object(extra) = extra {
                    attrs.extend(extra);
                }
            }
            tx.execute(
                "UPDATE spans SET ended_at = ?2, status = ?3, tokens_in = COALESCE(?4, tokens_in),
                    tokens_out = COALESCE(?5, tokens_out), cost_usd = COALESCE(?6, cost_usd), attributes = ?7
                 WHERE id = ?1",
                params![id, now, end.status, tin, tout, end.cost_usd, serde_json::to_string(&attrs)?],
            )?;
            load(tx, id)?.ok_or_else(|| missing(id))
        })
        .inspect(|span| self.span_ended(span))
    }

    /// The spans of a session by start time.
    pub fn list_spans(&self, session_id: &str) -> Result<Vec<Span>> {
        self.query_spans("session_id", session_id)
    }

    /// The spans of one trace by start time.
    pub fn list_trace(&self, trace_id: &str) -> Result<Vec<Span>> {
        self.query_spans("trace_id", trace_id)
    }

    /// The spans of the latest ended turn's trace (empty before any).
    pub fn latest_trace(&self) -> Result<Vec<Span>> {
        let trace: Option<String> = self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT trace_id FROM spans WHERE kind = 'turn' AND ended_at IS NOT NULL
                 ORDER BY ended_at DESC, rowid DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        match trace {
            Some(t) => self.list_trace(&t),
            None => Ok(Vec::new()),
        }
    }

    /// The trace ids starting or ending with `part` (lowercase hex; errors show the last 8
    /// characters), at most `limit`.
    pub fn traces_matching(&self, part: &str, limit: u32) -> Result<Vec<String>> {
        let part: String = part
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect::<String>()
            .to_ascii_lowercase();
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT DISTINCT trace_id FROM spans
                 WHERE substr(trace_id, 1, length(?1)) = ?1 OR substr(trace_id, -length(?1)) = ?1
                 ORDER BY trace_id LIMIT ?2",
            )?;
            let ids = stmt
                .query_map(rusqlite::params![part, limit], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })
    }

    fn query_spans(&self, column: &'static str, value: &str) -> Result<Vec<Span>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM spans WHERE {column} = ?1 ORDER BY started_at, rowid"
            ))?;
            let raws = stmt
                .query_map([value], raw_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(finish).collect()
        })
    }
}

impl Store {
    /// Crash recovery at start-up: every span a previous process left running ends now as
    /// `interrupted`. Returns the sessions whose turn was cut short, once each, so the caller can
    /// record how those turns ended.
    pub fn close_interrupted_spans(&self) -> Result<Vec<String>> {
        let now = now_ts();
        self.with_tx(|tx| {
            let mut stmt = tx.prepare(
                "SELECT DISTINCT session_id FROM spans
                 WHERE kind = 'turn' AND status = 'running' AND session_id IS NOT NULL",
            )?;
            let sessions = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            drop(stmt);
            tx.execute(
                "UPDATE spans SET ended_at = ?1, status = 'interrupted' WHERE status = 'running'",
                [&now],
            )?;
            Ok(sessions)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::NewSession;
    use serde_json::json;

    fn span(session: &str, parent: Option<&str>, kind: SpanKind, name: &str) -> NewSpan {
        NewSpan {
            trace_id: None,
            parent_id: parent.map(str::to_string),
            session_id: Some(session.into()),
            kind,
            name: name.into(),
            attributes: json!({"model": "m"}),
        }
    }

    #[test]
    fn children_inherit_the_trace_and_end_merges_attributes() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        let turn = store
            .start_span(&span(&s.id, None, SpanKind::Turn, "turn"))
            .unwrap();
        assert_eq!(turn.trace_id.len(), 32);
        assert_eq!(turn.status, SpanStatus::Running);
        let call = store
            .start_span(&span(&s.id, Some(&turn.id), SpanKind::ModelCall, "chat"))
            .unwrap();
        assert_eq!(call.trace_id, turn.trace_id);

        let mut extra = serde_json::Map::new();
        extra.insert("finish_reason".into(), json!("stop"));
        let ended = store
            .end_span(
                &call.id,
                &SpanEnd {
                    status: SpanStatus::Ok,
                    tokens_in: Some(100),
                    tokens_out: Some(20),
                    cost_usd: Some(0.01),
                    attributes: Some(extra),
                },
            )
            .unwrap();
        assert_eq!(
            ended.attributes,
            json!({"model": "m", "finish_reason": "stop"})
        );
        assert_eq!((ended.tokens_in, ended.tokens_out), (Some(100), Some(20)));
        assert!(ended.ended_at.is_some());
        store
            .end_span(&turn.id, &SpanEnd::status(SpanStatus::Error))
            .unwrap();

        let listed = store.list_spans(&s.id).unwrap();
        assert_eq!(
            listed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            [turn.id.as_str(), call.id.as_str()]
        );
        assert_eq!(listed[0].status, SpanStatus::Error);
        assert_eq!(store.list_trace(&turn.trace_id).unwrap().len(), 2);
    }

    #[test]
    fn unknown_parent_or_span_is_not_found() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        let err = store
            .start_span(&span(&s.id, Some("nope"), SpanKind::ToolCall, "x"))
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound { what: "span", .. }),
            "{err}"
        );
        let err = store
            .end_span("nope", &SpanEnd::status(SpanStatus::Ok))
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }
}
