//! The explorer's address: the filters as they come in the query string (anything may be
//! missing or malformed), checked into a store query, and back into links.

use pryx_store::{ExploreQuery, ExploreSort};
use serde::Deserialize;
use time::macros::format_description;

/// Sessions per page.
pub const PAGE_SIZE: u32 = 25;
/// Pages beyond this are refused (the offset would be absurd).
const MAX_PAGE: u32 = 10_000;

/// The query string as sent (every field text, every field optional).
#[derive(Debug, Default, Deserialize)]
pub struct Raw {
    q: Option<String>,
    agent: Option<String>,
    workspace: Option<String>,
    model: Option<String>,
    from: Option<String>,
    to: Option<String>,
    min_cost: Option<String>,
    min_tokens: Option<String>,
    min_messages: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    deleted: Option<String>,
}

/// The filters after checking; what could not be read is dropped and explained in `notes`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub q: String,
    pub agent: String,
    pub workspace: String,
    pub model: String,
    pub from: String,
    pub to: String,
    pub min_cost: String,
    pub min_tokens: String,
    pub min_messages: String,
    /// `relevance`, `recent`, `oldest`, `cost` or `tokens`.
    pub sort: String,
    /// 1-based.
    pub page: u32,
    pub deleted: Option<String>,
    pub notes: Vec<String>,
}

pub const SORTS: &[(&str, &str)] = &[
    ("relevance", "Best match"),
    ("recent", "Last active"),
    ("oldest", "Oldest activity"),
    ("cost", "Cost"),
    ("tokens", "Tokens"),
];

fn text(v: Option<String>, max: usize) -> String {
    v.map(|s| s.trim().chars().take(max).collect())
        .unwrap_or_default()
}

impl Filters {
    pub fn from_raw(r: Raw) -> Filters {
        let mut f = Filters {
            q: text(r.q, 500),
            agent: text(r.agent, 200),
            workspace: text(r.workspace, 200),
            model: text(r.model, 200),
            from: text(r.from, 10),
            to: text(r.to, 10),
            min_cost: text(r.min_cost, 20),
            min_tokens: text(r.min_tokens, 20),
            min_messages: text(r.min_messages, 20),
            sort: text(r.sort, 20),
            page: 1,
            deleted: r.deleted.map(|d| d.chars().take(200).collect()),
            notes: Vec::new(),
        };
        if !SORTS.iter().any(|(k, _)| *k == f.sort) {
            f.sort = if f.q.is_empty() {
                "recent"
            } else {
                "relevance"
            }
            .into();
        }
        if let Some(p) = r.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            match p.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => f.page = n,
                _ => f
                    .notes
                    .push(format!("Page {p:?} does not exist; showing page 1.")),
            }
        }
        for (field, label) in [(&mut f.from, "From"), (&mut f.to, "To")] {
            if !field.is_empty() && parse_date(field).is_none() {
                f.notes.push(format!(
                    "{label} date {field:?} was ignored: use the form YYYY-MM-DD."
                ));
                field.clear();
            }
        }
        if !f.min_cost.is_empty()
            && !f
                .min_cost
                .parse::<f64>()
                .is_ok_and(|c| c.is_finite() && c >= 0.0)
        {
            f.notes.push(format!(
                "Minimum cost {:?} was ignored: give dollars, like 0.25.",
                f.min_cost
            ));
            f.min_cost.clear();
        }
        for (field, label) in [
            (&mut f.min_tokens, "Minimum tokens"),
            (&mut f.min_messages, "Minimum messages"),
        ] {
            if !field.is_empty() && field.parse::<u64>().is_err() {
                f.notes.push(format!(
                    "{label} {field:?} was ignored: give a whole number."
                ));
                field.clear();
            }
        }
        f
    }

    /// The store query for this page (one row more is asked to know whether a next page exists).
    pub fn store_query(&self) -> ExploreQuery {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let day_start = |s: &str| parse_date(s).map(|d| format!("{d}T00:00:00"));
        ExploreQuery {
            text: some(&self.q),
            agent: some(&self.agent),
            workspace_id: some(&self.workspace),
            model: some(&self.model),
            active_from: day_start(&self.from),
            active_before: parse_date(&self.to)
                .and_then(|d| d.next_day())
                .map(|d| format!("{d}T00:00:00")),
            min_cost_usd: self.min_cost.parse().ok(),
            min_tokens: self.min_tokens.parse().ok(),
            min_messages: self.min_messages.parse().ok(),
            sort: match self.sort.as_str() {
                "recent" => ExploreSort::Recent,
                "oldest" => ExploreSort::Oldest,
                "cost" => ExploreSort::Cost,
                "tokens" => ExploreSort::Tokens,
                _ => ExploreSort::Relevance,
            },
            limit: PAGE_SIZE,
            offset: (self.page - 1) * PAGE_SIZE,
        }
    }

    /// Whether any filter beyond the text is set (to open the filters panel).
    pub fn filtered(&self) -> bool {
        [
            &self.agent,
            &self.workspace,
            &self.model,
            &self.from,
            &self.to,
            &self.min_cost,
            &self.min_tokens,
            &self.min_messages,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }

    /// The query string of these filters at `page` (empty fields left out).
    pub fn query_string(&self, page: u32) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("agent", &self.agent),
            ("workspace", &self.workspace),
            ("model", &self.model),
            ("from", &self.from),
            ("to", &self.to),
            ("min_cost", &self.min_cost),
            ("min_tokens", &self.min_tokens),
            ("min_messages", &self.min_messages),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        let default_sort = if self.q.is_empty() {
            "recent"
        } else {
            "relevance"
        };
        if self.sort != default_sort {
            s.append_pair("sort", &self.sort);
        }
        if page > 1 {
            s.append_pair("page", &page.to_string());
        }
        s.finish()
    }

    /// `/sessions?…` for these filters at `page`.
    pub fn page_url(&self, page: u32) -> String {
        with_query("/sessions", &self.query_string(page))
    }

    /// `/sessions/results?…` (the fragment) for these filters at `page`.
    pub fn results_url(&self, page: u32) -> String {
        with_query("/sessions/results", &self.query_string(page))
    }
}

fn with_query(path: &str, q: &str) -> String {
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

/// `YYYY-MM-DD`, as a date input sends it.
fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// Only the characters a file name can carry safely (session ids are UUIDs anyway).
pub fn file_safe(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect()
}

/// Where to go after deleting: the explorer address the user came from, never elsewhere.
pub fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b)
            if (b == "/sessions" || b.starts_with("/sessions?"))
                && !b.contains(['\\', '\r', '\n']) =>
        {
            b.to_string()
        }
        _ => "/sessions".to_string(),
    }
}

/// `back` with `deleted=<title>` added (the explorer says what was deleted).
pub fn with_deleted(back: &str, title: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair(
        "deleted",
        if title.is_empty() {
            "Untitled session"
        } else {
            title
        },
    );
    let sep = if back.contains('?') { '&' } else { '?' };
    format!("{back}{sep}{}", s.finish())
}
