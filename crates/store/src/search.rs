//! Full-text search over message text. User input never reaches FTS5 syntax: every term is
//! quoted, so `"`, `*`, `NEAR(`, `AND`, `-` and the like are searched for as text.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::sessions::{SESSION_COL_COUNT, SESSION_COLS, Session, session_from_row};
use crate::store::Store;

/// Marks the start of a matched term in [`SearchHit::snippet`].
pub const SNIPPET_OPEN: &str = "\u{ab}";
/// Marks the end of a matched term in [`SearchHit::snippet`].
pub const SNIPPET_CLOSE: &str = "\u{bb}";

/// A session that matched, with its best-matching message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub session: Session,
    pub message_id: String,
    /// Text around the match; matched terms are wrapped in [`SNIPPET_OPEN`] / [`SNIPPET_CLOSE`].
    pub snippet: String,
}

/// Turns free text into an FTS5 query: each whitespace-separated term becomes a quoted string
/// (all must match); a trailing `*` on a term keeps its prefix meaning. `None` when nothing is
/// left to search for.
pub fn fts_query(input: &str) -> Option<String> {
    // FTS5 ends a string at NUL; control characters never occur in indexed words anyway.
    let cleaned: String = input
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let terms: Vec<String> = cleaned
        .split_whitespace()
        .filter_map(|raw| {
            let (body, prefix) = match raw.strip_suffix('*') {
                Some(b) => (b.trim_end_matches('*'), true),
                None => (raw, false),
            };
            // A term without letters or digits tokenizes to nothing and would match nothing.
            if !body.chars().any(char::is_alphanumeric) {
                return None;
            }
            let quoted = format!("\"{}\"", body.replace('"', "\"\""));
            Some(if prefix { format!("{quoted}*") } else { quoted })
        })
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

impl Store {
    /// Sessions whose messages contain every term of `query`, best match first.
    pub fn search_sessions(&self, query: &str, limit: u32, offset: u32) -> Result<Vec<SearchHit>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "WITH hits AS (
                     SELECT m.session_id AS session_id, m.id AS message_id, bm25(messages_fts) AS rank,
                            snippet(messages_fts, 0, ?4, ?5, '\u{2026}', 16) AS snip
                     FROM messages_fts JOIN messages m ON m.num = messages_fts.rowid
                     WHERE messages_fts MATCH ?1
                 ),
                 best AS (
                     SELECT session_id, message_id, rank, snip,
                            ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY rank, message_id) AS n
                     FROM hits
                 )
                 SELECT {SESSION_COLS}, b.message_id, b.snip
                 FROM best b JOIN sessions s ON s.id = b.session_id
                 WHERE b.n = 1
                 ORDER BY b.rank, s.updated_at DESC
                 LIMIT ?2 OFFSET ?3"
            ))?;
            let rows = stmt.query_map(params![fts, limit, offset, SNIPPET_OPEN, SNIPPET_CLOSE], |r| {
                Ok(SearchHit { session: session_from_row(r)?, message_id: r.get(SESSION_COL_COUNT)?, snippet: r.get(SESSION_COL_COUNT + 1)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{MessageUsage, NewMessage, Role};
    use crate::sessions::NewSession;

    fn say(store: &Store, session: &str, text: &str) -> String {
        store
            .append_message(&NewMessage {
                session_id: session.into(),
                role: Role::User,
                content: serde_json::json!([{"type": "text", "text": text}]),
                text: text.into(),
                tool_call_id: None,
                model: None,
                usage: MessageUsage::default(),
            })
            .unwrap()
            .id
    }

    #[test]
    fn query_building_quotes_everything() {
        assert_eq!(
            fts_query("hello world").as_deref(),
            Some("\"hello\" \"world\"")
        );
        assert_eq!(
            fts_query("say \"hi\"").as_deref(),
            Some("\"say\" \"\"\"hi\"\"\"")
        );
        assert_eq!(fts_query("conf*").as_deref(), Some("\"conf\"*"));
        assert_eq!(fts_query("  * ** \" ( ").as_deref(), None);
        assert_eq!(fts_query("").as_deref(), None);
        assert_eq!(fts_query("x\u{0}y").as_deref(), Some("\"x\" \"y\""));
    }

    #[test]
    fn finds_sessions_with_snippets_one_hit_per_session() {
        let store = Store::open_in_memory().unwrap();
        let a = store
            .create_session(&NewSession {
                title: "a".into(),
                ..Default::default()
            })
            .unwrap();
        let b = store
            .create_session(&NewSession {
                title: "b".into(),
                ..Default::default()
            })
            .unwrap();
        say(&store, &a.id, "please refactor the parser module");
        say(&store, &a.id, "the parser is now faster");
        let hit_b = say(&store, &b.id, "deploy the parser to staging");
        say(&store, &b.id, "unrelated chatter");

        let hits = store.search_sessions("parser", 10, 0).unwrap();
        assert_eq!(hits.len(), 2);
        let ids: std::collections::BTreeSet<_> =
            hits.iter().map(|h| h.session.id.clone()).collect();
        assert_eq!(ids, [a.id.clone(), b.id.clone()].into_iter().collect());
        assert!(
            hits.iter()
                .all(|h| h.snippet.contains("\u{ab}parser\u{bb}")),
            "{hits:?}"
        );

        let both = store.search_sessions("deploy parser", 10, 0).unwrap();
        assert_eq!(both.len(), 1);
        assert_eq!(
            (both[0].session.id.as_str(), both[0].message_id.as_str()),
            (b.id.as_str(), hit_b.as_str())
        );
        assert_eq!(store.search_sessions("pars*", 10, 0).unwrap().len(), 2);
        assert_eq!(store.search_sessions("parser", 1, 1).unwrap().len(), 1);
        assert!(store.search_sessions("absent", 10, 0).unwrap().is_empty());
    }

    #[test]
    fn hostile_input_never_errors() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        say(
            &store,
            &s.id,
            "NEAR(x y) AND \"quoted\" text with * star and Zürich café 日本語",
        );
        for q in [
            "\"",
            "\"\"",
            "*",
            "NEAR(",
            "NEAR(a b",
            "a AND",
            "OR",
            "NOT x",
            "-x",
            "col:val",
            "(",
            ")",
            "^start",
            "x\u{0}y",
            "a\"b",
            "💥",
            "{messages_fts}",
            "text:foo",
            "*foo",
            "''; DROP TABLE messages; --",
        ] {
            let r = store.search_sessions(q, 10, 0);
            assert!(r.is_ok(), "query {q:?} failed: {r:?}");
        }
        // Operators are searched as words; unicode is matched, diacritics folded.
        assert_eq!(store.search_sessions("NEAR(", 10, 0).unwrap().len(), 1);
        assert_eq!(store.search_sessions("and", 10, 0).unwrap().len(), 1);
        assert_eq!(store.search_sessions("zurich", 10, 0).unwrap().len(), 1);
        assert_eq!(store.search_sessions("Café", 10, 0).unwrap().len(), 1);
        assert_eq!(store.search_sessions("\"quoted\"", 10, 0).unwrap().len(), 1);
    }

    #[test]
    fn deleted_sessions_leave_the_index() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        say(&store, &s.id, "ephemeral needle");
        assert_eq!(store.search_sessions("needle", 10, 0).unwrap().len(), 1);
        store.delete_session(&s.id).unwrap();
        assert!(store.search_sessions("needle", 10, 0).unwrap().is_empty());
        let integrity: String = store
            .with_conn(|c| {
                c.execute(
                    "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
                    [],
                )?;
                Ok("ok".to_string())
            })
            .unwrap();
        assert_eq!(integrity, "ok");
    }
}
