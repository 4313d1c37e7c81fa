//! The sessions explorer's query: full-text search and filters (agent, workspace, model, last
//! activity, cost, tokens, messages) in one statement built from only the filters given, so
//! each plan can use the index that fits. Snippets are cut only for the rows of the page.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use crate::error::Result;
use crate::search::{SNIPPET_CLOSE, SNIPPET_OPEN, fts_query};
use crate::sessions::{SESSION_COL_COUNT, SESSION_COLS, Session, session_from_row};
use crate::store::Store;

/// A session's agent; sessions without one (older than agent profiles) belong to `main`. The
/// expression of the `sessions_by_agent` index (schema 7), spelled the same so the planner
/// uses it.
const AGENT: &str = "coalesce(s.agent, 'main')";

/// Tokens in + out: the expression of the `sessions_by_tokens` index (schema 7).
const TOKENS: &str = "s.total_tokens_in + s.total_tokens_out";

/// How explorer results are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExploreSort {
    /// Best match first (with a search text; otherwise as `Recent`).
    #[default]
    Relevance,
    /// Most recently active first.
    Recent,
    /// Least recently active first.
    Oldest,
    /// Most expensive first (ties: newest session first, as for tokens and messages).
    Cost,
    /// Most tokens (in + out) first.
    Tokens,
    /// Most messages first.
    Messages,
}

/// What the explorer asks for. Every filter is optional; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExploreQuery {
    /// Free text: sessions with a message containing every word (see [`fts_query`]).
    pub text: Option<String>,
    /// Agent profile; sessions without one count as `main`.
    pub agent: Option<String>,
    pub workspace_id: Option<String>,
    pub model: Option<String>,
    /// Last activity at or after this timestamp (RFC 3339, compared as text).
    pub active_from: Option<String>,
    /// Last activity strictly before this timestamp.
    pub active_before: Option<String>,
    pub min_cost_usd: Option<f64>,
    /// Tokens in + out.
    pub min_tokens: Option<u64>,
    pub min_messages: Option<u64>,
    pub sort: ExploreSort,
    pub limit: u32,
    pub offset: u32,
}

/// One session of the explorer.
#[derive(Debug, Clone, PartialEq)]
pub struct ExploreRow {
    pub session: Session,
    /// The workspace's path.
    pub workspace: Option<String>,
    pub messages: u64,
    /// Text around the best match, terms wrapped in [`SNIPPET_OPEN`] / [`SNIPPET_CLOSE`].
    pub snippet: Option<String>,
}

/// A page of the explorer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExplorePage {
    pub rows: Vec<ExploreRow>,
    /// Whether another page follows.
    pub more: bool,
}

/// The values the explorer's filters offer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExploreFacets {
    pub agents: Vec<String>,
    pub models: Vec<String>,
    /// `(id, path)`, by path.
    pub workspaces: Vec<(String, String)>,
}

/// The newest matching messages a search considers (at least; deeper pages consider more):
/// some 80 pages of 25 sessions.
///
/// Ranking every message that contains a common word would cost time in proportion to the
/// store (a word in a sixth of 400,000 messages took ~300 ms), while a page shows 25 sessions.
/// So a search walks the matches newest first (cheap: the full-text index is ordered by
/// message), keeps the first `SEARCH_WINDOW` that pass the filters, and ranks only those. A
/// word with fewer matches than this is ranked exactly, best match first; for a common word,
/// "best" means best among its most recent matches, which is what a search over one's own
/// history usually wants. Filters are applied while walking, so they never empty a window that
/// older matches would have filled; a filter that rejects most recent matches of a common word
/// (e.g. an old date range) walks further back and costs more.
const SEARCH_WINDOW: u32 = 2_000;

/// The statement for `q`: SQL, its arguments and the full-text query; `None` when a search
/// text has no word in it (nothing can match).
struct Built {
    sql: String,
    args: Vec<Value>,
    fts: Option<String>,
}

fn build(q: &ExploreQuery) -> Option<Built> {
    let fts = match q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(fts_query(t)?),
        None => None,
    };
    let mut args: Vec<Value> = Vec::new();
    let arg = |v: Value, args: &mut Vec<Value>| {
        args.push(v);
        format!("?{}", args.len())
    };
    let mut filters: Vec<String> = Vec::new();
    if let Some(a) = &q.agent {
        // The same expression as the `sessions_by_agent` index, so the filter can use it.
        let p = arg(Value::Text(a.clone()), &mut args);
        filters.push(format!("{AGENT} = {p}"));
    }
    if let Some(w) = &q.workspace_id {
        let p = arg(Value::Text(w.clone()), &mut args);
        filters.push(format!("s.workspace_id = {p}"));
    }
    if let Some(m) = &q.model {
        let p = arg(Value::Text(m.clone()), &mut args);
        filters.push(format!("s.model = {p}"));
    }
    if let Some(t) = &q.active_from {
        let p = arg(Value::Text(t.clone()), &mut args);
        filters.push(format!("s.updated_at >= {p}"));
    }
    if let Some(t) = &q.active_before {
        let p = arg(Value::Text(t.clone()), &mut args);
        filters.push(format!("s.updated_at < {p}"));
    }
    if let Some(c) = q.min_cost_usd {
        let p = arg(Value::Real(c), &mut args);
        filters.push(format!("s.total_cost_usd >= {p}"));
    }
    if let Some(t) = q.min_tokens {
        let p = arg(Value::Integer(clamp_i64(t)), &mut args);
        filters.push(format!("{TOKENS} >= {p}"));
    }
    if let Some(n) = q.min_messages {
        let p = arg(Value::Integer(clamp_i64(n)), &mut args);
        filters.push(format!("s.message_count >= {p}"));
    }
    // bm25() cannot run inside an aggregate: the window's ranks are materialized first, then
    // reduced to each session's best. The bare `best` takes its value from the row with the
    // smallest rank (SQLite's rule for min()), i.e. the session's best-matching message. The
    // filters go into the window (see SEARCH_WINDOW); the outer query then has none left.
    // CROSS JOIN keeps the full-text index the outer loop, so the walk is newest first and
    // stops at the window's end instead of collecting every match to sort it.
    let (with, from) = match &fts {
        Some(f) => {
            let p = arg(Value::Text(f.clone()), &mut args);
            let window = SEARCH_WINDOW.max(q.offset.saturating_add(q.limit).saturating_mul(4));
            let w = arg(Value::Integer(i64::from(window)), &mut args);
            // Sessions are read in the walk only when a filter needs them.
            let sessions = if filters.is_empty() {
                ""
            } else {
                "CROSS JOIN sessions s ON s.id = m.session_id"
            };
            let mut conds = vec![format!("messages_fts MATCH {p}")];
            conds.append(&mut filters);
            (
                format!(
                    "WITH f AS MATERIALIZED (
                         SELECT messages_fts.rowid AS num, bm25(messages_fts) AS r, m.session_id AS sid
                         FROM messages_fts CROSS JOIN messages m ON m.num = messages_fts.rowid
                              {sessions}
                         WHERE {}
                         ORDER BY messages_fts.rowid DESC LIMIT {w})",
                    conds.join(" AND ")
                ),
                "(SELECT sid, min(r) AS rank, num AS best FROM f GROUP BY sid) h
                     JOIN sessions s ON s.id = h.sid"
                    .to_string(),
            )
        }
        None => (String::new(), "sessions s".to_string()),
    };
    let recent = ("s.updated_at", "DESC");
    let newest = ("s.rowid", "DESC");
    let keys: [(&str, &str); 2] = match (q.sort, fts.is_some()) {
        (ExploreSort::Relevance, true) => [("h.rank", ""), recent],
        (ExploreSort::Relevance | ExploreSort::Recent, _) => [recent, newest],
        (ExploreSort::Oldest, _) => [("s.updated_at", ""), ("s.rowid", "")],
        // Ties go newest session first: the rowid is in these indexes (schema 7), updated_at
        // is not.
        (ExploreSort::Cost, _) => [("s.total_cost_usd", "DESC"), newest],
        (ExploreSort::Tokens, _) => [(TOKENS, "DESC"), newest],
        (ExploreSort::Messages, _) => [("s.message_count", "DESC"), newest],
    };
    let limit = arg(Value::Integer(i64::from(q.limit) + 1), &mut args);
    let offset = arg(Value::Integer(i64::from(q.offset)), &mut args);
    let best = if fts.is_some() { "h.best" } else { "NULL" };
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let inner_order = keys.map(|(e, d)| format!("{e} {d}")).join(", ");
    let outer_order = format!("p.k0 {}, p.k1 {}", keys[0].1, keys[1].1);
    // The page is chosen first on the sort keys alone; the workspace path is then read for its
    // rows only.
    let sql = format!(
        "{with} SELECT {SESSION_COLS}, w.path, s.message_count, p.best
             FROM (SELECT s.rowid AS rid, {best} AS best, {k0} AS k0, {k1} AS k1
                   FROM {from} {filter} ORDER BY {inner_order} LIMIT {limit} OFFSET {offset}) p
             JOIN sessions s ON s.rowid = p.rid
             LEFT JOIN workspaces w ON w.id = s.workspace_id
             ORDER BY {outer_order}",
        k0 = keys[0].0,
        k1 = keys[1].0,
    );
    Some(Built { sql, args, fts })
}

impl Store {
    /// One page of sessions matching `q`. A text with no word to search for matches nothing.
    pub fn explore_sessions(&self, q: &ExploreQuery) -> Result<ExplorePage> {
        let Some(Built { sql, args, fts }) = build(q) else {
            return Ok(ExplorePage::default());
        };
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows: Vec<(ExploreRow, Option<i64>)> = stmt
                .query_map(params_from_iter(args.iter()), |r| {
                    let n: i64 = r.get(SESSION_COL_COUNT + 1)?;
                    Ok((
                        ExploreRow {
                            session: session_from_row(r)?,
                            workspace: r.get(SESSION_COL_COUNT)?,
                            messages: u64::try_from(n).unwrap_or(0),
                            snippet: None,
                        },
                        r.get(SESSION_COL_COUNT + 2)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let more = rows.len() > q.limit as usize;
            rows.truncate(q.limit as usize);
            if let Some(f) = &fts {
                let nums: Vec<i64> = rows.iter().filter_map(|(_, best)| *best).collect();
                let mut snippets = snippets(c, f, &nums)?;
                for (row, best) in &mut rows {
                    row.snippet = best.and_then(|num| snippets.remove(&num));
                }
            }
            Ok(ExplorePage {
                rows: rows.into_iter().map(|(r, _)| r).collect(),
                more,
            })
        })
    }

    /// The agents, models and workspaces sessions have, for the explorer's filters. Read
    /// from indexes, one seek per distinct value (not one step per session), so they are cheap
    /// at any size and always current.
    pub fn explore_facets(&self) -> Result<ExploreFacets> {
        self.with_conn(|c| {
            let strings = |sql: &str| -> Result<Vec<String>> {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?)
            };
            let agents = strings(&distinct(AGENT, "1"))?;
            let models = strings(&distinct("s.model", "s.model > ''"))?;
            let mut stmt = c.prepare_cached(
                "SELECT w.id, w.path FROM workspaces w
                 WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.workspace_id = w.id) ORDER BY w.path",
            )?;
            let workspaces = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ExploreFacets {
                agents,
                models,
                workspaces,
            })
        })
    }

    /// The query plan of [`Store::explore_sessions`] for `q`, one line per step (benchmarks
    /// check that filters use indexes).
    pub fn explore_plan(&self, q: &ExploreQuery) -> Result<Vec<String>> {
        let Some(b) = build(q) else {
            return Ok(Vec::new());
        };
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {}", b.sql))?;
            Ok(stmt
                .query_map(params_from_iter(b.args.iter()), |r| r.get::<_, String>(3))?
                .collect::<rusqlite::Result<_>>()?)
        })
    }
}

/// The snippets of messages `nums` for the full-text query `fts`, by message, in one pass over
/// the matches between the first and the last of them: a query per message would expand a
/// prefix term (`w399*`) into its words again for each one (about 1 ms each at 100,000
/// sessions).
fn snippets(c: &Connection, fts: &str, nums: &[i64]) -> Result<HashMap<i64, String>> {
    let (Some(lo), Some(hi)) = (nums.iter().min(), nums.iter().max()) else {
        return Ok(HashMap::new());
    };
    let list = serde_json::to_string(nums)?;
    // `+rowid` keeps the list out of the full-text index's constraints (it would be asked once
    // per element); the range is what it walks.
    let mut stmt = c.prepare_cached(
        "SELECT rowid, snippet(messages_fts, 0, ?5, ?6, '\u{2026}', 16) FROM messages_fts
         WHERE messages_fts MATCH ?1 AND rowid >= ?2 AND rowid <= ?3
           AND +rowid IN (SELECT value FROM json_each(?4))",
    )?;
    let found = stmt
        .query_map(
            params![fts, lo, hi, list, SNIPPET_OPEN, SNIPPET_CLOSE],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(found)
}

/// The distinct values of `expr` over sessions where `cond` holds, in order: each step seeks
/// the next larger value in the index on `expr` (SQLite's DISTINCT would visit every session).
fn distinct(expr: &str, cond: &str) -> String {
    format!(
        "WITH RECURSIVE d(v) AS (
             SELECT min({expr}) FROM sessions s WHERE {cond}
             UNION ALL
             SELECT (SELECT min({expr}) FROM sessions s WHERE {cond} AND {expr} > d.v)
             FROM d WHERE d.v IS NOT NULL)
         SELECT v FROM d WHERE v IS NOT NULL"
    )
}

fn clamp_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
