//! Audit: the hash-chained audit log with filters (action, actor, outcome, session), each
//! entry's details, and verification of the whole log (chain, MACs, anchor, triggers) with its
//! result. `GET /api/v1/audit` serves the same entries as JSON.

use crate::Web;
use crate::page::{Layout, Viewer, internal, problem, render};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use pryx_store::{AuditFilter, AuditKeyStatus, AuditRecord, AuditReport};
use serde::Deserialize;
use std::sync::Arc;

/// Entries shown when the form names no number.
const DEFAULT_LIMIT: u32 = 200;
/// The most one page shows.
const MAX_LIMIT: u32 = 1000;
/// Problems of a failed verification listed on the page.
const SHOWN_PROBLEMS: usize = 50;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/audit", get(show))
        .route("/audit/verify", get(verify))
}

/// The filter form, as submitted (empty fields match anything).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    session: String,
    #[serde(default)]
    limit: Option<String>,
}

impl Filters {
    fn to_filter(&self) -> Result<AuditFilter, String> {
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(n) => match n.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(format!("Show: a number from 1 to {MAX_LIMIT}.")),
            },
        };
        Ok(AuditFilter {
            session_id: given(&self.session),
            action: given(&self.action),
            actor: given(&self.actor),
            outcome: given(&self.outcome),
            limit,
        })
    }
}

/// One entry as shown.
pub struct Row {
    pub record: AuditRecord,
    /// The details as indented JSON.
    pub details: String,
    /// `ok`, `warn` or `bad`: the outcome's colour.
    pub tone: &'static str,
}

fn row(record: AuditRecord) -> Row {
    let details = serde_json::to_string_pretty(&record.entry.details).unwrap_or_default();
    let tone = match record.entry.outcome.as_str() {
        "success" | "granted" | "allow" | "approved" => "ok",
        "failure" | "denied" | "deny" | "error" | "refused" => "bad",
        _ => "warn",
    };
    Row {
        record,
        details,
        tone,
    }
}

/// A verification's result as shown.
pub struct Verified {
    pub intact: bool,
    pub summary: String,
    pub problems: Vec<String>,
    pub more: usize,
}

fn verified(r: &AuditReport) -> Verified {
    let key = match &r.key {
        AuditKeyStatus::Present => "the audit key was available".to_string(),
        AuditKeyStatus::Missing => {
            "no audit key is stored: only the hash chain was checked".to_string()
        }
        AuditKeyStatus::Unavailable(why) => format!("the audit key could not be read ({why})"),
    };
    let anchored = r
        .anchored_seq
        .map(|s| format!(", anchored at row {s}"))
        .unwrap_or_default();
    Verified {
        intact: r.is_intact(),
        summary: format!(
            "{} rows checked ({} keyed, {} before keying), head at row {}{anchored}; {key}.",
            r.rows_checked, r.keyed_rows, r.legacy_rows, r.head_seq
        ),
        problems: r
            .problems
            .iter()
            .take(SHOWN_PROBLEMS)
            .map(ToString::to_string)
            .collect(),
        more: r.problems.len().saturating_sub(SHOWN_PROBLEMS),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    action: String,
    actor: String,
    outcome: String,
    session: String,
    limit: String,
    error: Option<String>,
    rows: Vec<Row>,
    verified: Option<Verified>,
}

fn page(web: &Web, viewer: &Viewer, f: &Filters, verify: bool) -> Response {
    let (rows, error) = match f.to_filter() {
        Ok(filter) => match web.core.store().list_audit_where(&filter) {
            Ok(list) => (list.into_iter().map(row).collect(), None),
            Err(e) => (
                Vec::new(),
                Some(format!("The audit log could not be read: {e}")),
            ),
        },
        Err(e) => (Vec::new(), Some(e)),
    };
    let verified = if verify {
        match web.core.store().verify_audit() {
            Ok(r) => Some(verified(&r)),
            Err(e) => {
                return problem(
                    web,
                    Some(viewer),
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Verification failed",
                    &format!("The audit log could not be verified: {e}"),
                );
            }
        }
    } else {
        None
    };
    render(
        StatusCode::OK,
        &AuditPage {
            layout: Layout::new(web, viewer, "Audit", "audit"),
            action: f.action.clone(),
            actor: f.actor.clone(),
            outcome: f.outcome.clone(),
            session: f.session.clone(),
            limit: f.limit.clone().unwrap_or_default(),
            error,
            rows,
            verified,
        },
    )
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(f): Query<Filters>) -> Response {
    off_the_runtime(web, viewer, f, false).await
}

async fn verify(State(web): State<Arc<Web>>, viewer: Viewer, Query(f): Query<Filters>) -> Response {
    off_the_runtime(web, viewer, f, true).await
}

/// The store is read on the blocking pool (SQLite may wait for its lock).
async fn off_the_runtime(web: Arc<Web>, viewer: Viewer, f: Filters, verify: bool) -> Response {
    let w = web.clone();
    tokio::task::spawn_blocking(move || page(&w, &viewer, &f, verify))
        .await
        .unwrap_or_else(|e| internal(&web, &e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_trimmed_and_the_limit_is_bounded() {
        let f = Filters {
            action: " tool. ".into(),
            outcome: "denied".into(),
            limit: Some("50".into()),
            ..Filters::default()
        };
        let filter = f.to_filter().unwrap();
        assert_eq!(filter.action.as_deref(), Some("tool."));
        assert_eq!(filter.actor, None);
        assert_eq!(filter.outcome.as_deref(), Some("denied"));
        assert_eq!(filter.limit, 50);
        assert_eq!(Filters::default().to_filter().unwrap().limit, DEFAULT_LIMIT);
        for bad in ["0", "1001", "many", "-3"] {
            let f = Filters {
                limit: Some(bad.into()),
                ..Filters::default()
            };
            assert!(f.to_filter().is_err(), "{bad}");
        }
    }
}
