//! What the explorer's templates show: rows built from the store's, the snippet split into
//! plain and highlighted pieces (each escaped by the template, so a match can never become
//! markup), the filter choices and the pager.

use super::query::{Filters, SORTS};
use pryx_core::Core;
use pryx_store::{ExploreRow, SNIPPET_CLOSE, SNIPPET_OPEN};

/// A piece of a snippet: text, highlighted or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub mark: bool,
}

/// Splits a store snippet at its markers. Markers never reach the page; an unclosed one
/// highlights to the end, a stray close is dropped.
pub fn highlight(snippet: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = snippet;
    while let Some(open) = rest.find(SNIPPET_OPEN) {
        push(&mut out, &rest[..open], false);
        let after = &rest[open + SNIPPET_OPEN.len()..];
        match after.find(SNIPPET_CLOSE) {
            Some(close) => {
                push(&mut out, &after[..close], true);
                rest = &after[close + SNIPPET_CLOSE.len()..];
            }
            None => {
                push(&mut out, after, true);
                rest = "";
            }
        }
    }
    push(&mut out, rest, false);
    out
}

fn push(out: &mut Vec<Piece>, text: &str, mark: bool) {
    let text = text.replace(SNIPPET_CLOSE, "").replace(SNIPPET_OPEN, "");
    if !text.is_empty() {
        out.push(Piece { text, mark });
    }
}

/// A session's title for people.
pub fn title_of(title: &str) -> String {
    if title.trim().is_empty() {
        "Untitled session".to_string()
    } else {
        title.to_string()
    }
}

/// One row of the explorer.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub snippet: Vec<Piece>,
    pub agent: String,
    pub model: String,
    pub workspace: String,
    pub cost: String,
    pub tokens: String,
    pub messages: u64,
    /// RFC 3339, for `<time datetime>`.
    pub active_iso: String,
    /// `2026-12-01 13:32 UTC`.
    pub active: String,
    pub busy: bool,
}

impl Row {
    pub fn from_store(r: ExploreRow, busy: bool) -> Row {
        let s = r.session;
        Row {
            title: title_of(&s.title),
            snippet: r.snippet.as_deref().map(highlight).unwrap_or_default(),
            agent: s.agent.unwrap_or_else(|| "main".into()),
            model: s
                .model
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "default".into()),
            workspace: r.workspace.unwrap_or_default(),
            cost: format!("${:.4}", s.total_cost_usd),
            tokens: thousands(s.total_tokens_in.saturating_add(s.total_tokens_out)),
            messages: r.messages,
            active: s
                .updated_at
                .get(..16)
                .map(|t| format!("{} UTC", t.replacen('T', " ", 1)))
                .unwrap_or_else(|| s.updated_at.clone()),
            active_iso: s.updated_at,
            busy,
            id: s.id,
        }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The results list: rows, the pager, and what to say when there is nothing.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub rows: Vec<Row>,
    pub page: u32,
    pub prev_url: Option<String>,
    pub prev_fragment: Option<String>,
    pub next_url: Option<String>,
    pub next_fragment: Option<String>,
    /// `back=…` (URL-encoded): where a delete comes back to.
    pub back_query: String,
    pub searching: bool,
    pub filtered: bool,
    pub notes: Vec<String>,
    /// The search text has no word in it.
    pub no_words: bool,
}

/// A choice in a `<select>`.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The filters' choices.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub agents: Vec<Choice>,
    pub models: Vec<Choice>,
    pub workspaces: Vec<Choice>,
    pub sorts: Vec<Choice>,
}

pub fn choices(core: &Core) -> Result<Choices, String> {
    let facets = core.store().explore_facets().map_err(|e| e.to_string())?;
    let plain = |v: Vec<String>| {
        v.into_iter()
            .map(|s| Choice {
                label: s.clone(),
                value: s,
            })
            .collect()
    };
    Ok(Choices {
        agents: plain(facets.agents),
        models: plain(facets.models),
        workspaces: facets
            .workspaces
            .into_iter()
            .map(|(id, path)| Choice {
                value: id,
                label: path,
            })
            .collect(),
        sorts: SORTS
            .iter()
            .map(|(v, l)| Choice {
                value: (*v).to_string(),
                label: (*l).to_string(),
            })
            .collect(),
    })
}

pub fn results(core: &Core, f: &Filters) -> Result<Results, String> {
    let page = core
        .store()
        .explore_sessions(&f.store_query())
        .map_err(|e| e.to_string())?;
    let rows = page
        .rows
        .into_iter()
        .map(|r| {
            let busy = core.is_busy(&r.session.id);
            Row::from_store(r, busy)
        })
        .collect();
    let prev = f.page.checked_sub(1).filter(|p| *p >= 1);
    let next = page.more.then_some(f.page + 1);
    Ok(Results {
        rows,
        page: f.page,
        prev_url: prev.map(|p| f.page_url(p)),
        prev_fragment: prev.map(|p| f.results_url(p)),
        next_url: next.map(|p| f.page_url(p)),
        next_fragment: next.map(|p| f.results_url(p)),
        back_query: form_urlencoded::Serializer::new(String::new())
            .append_pair("back", &f.page_url(f.page))
            .finish(),
        searching: !f.q.is_empty(),
        filtered: f.filtered(),
        notes: f.notes.clone(),
        no_words: !f.q.is_empty() && pryx_store::fts_query(&f.q).is_none(),
    })
}
