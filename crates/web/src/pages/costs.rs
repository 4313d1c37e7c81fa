//! Costs: what model calls cost over a chosen range, by day, agent, model and session, how
//! close each budget is, and the same as CSV. `GET /api/v1/costs` serves the report as JSON.

use crate::Web;
use crate::page::{Layout, Viewer, internal, problem, render};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pryx_protocol::api::{BudgetUse, CostReport, CostTotal};
use serde::Deserialize;
use std::sync::Arc;

/// Sessions listed (the most expensive); the CSV has all.
const SHOWN_SESSIONS: usize = 50;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/costs", get(show))
        .route("/costs/export.csv", get(export))
}

/// The range form: `7d`, `30d`, a day, or empty for all time.
#[derive(Debug, Default, Deserialize)]
pub struct Range {
    #[serde(default)]
    since: String,
}

impl Range {
    fn start(&self) -> Result<Option<String>, String> {
        match self.since.trim() {
            "" => Ok(None),
            s => pryx_core::costs::since_day(s).map(Some),
        }
    }
}

/// The preset ranges offered as links.
const PRESETS: [(&str, &str); 4] = [
    ("0d", "Today"),
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("", "All time"),
];

pub struct Preset {
    pub since: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// A budget as shown: its use in percent, and a tone once it is close.
pub struct Budget {
    pub budget: BudgetUse,
    pub percent: f64,
    pub tone: &'static str,
}

#[derive(Template)]
#[template(path = "costs.html")]
struct Costs {
    layout: Layout,
    since: String,
    presets: Vec<Preset>,
    error: Option<String>,
    report: Option<CostReport>,
    /// The range's first day, as shown.
    since_day: Option<String>,
    budgets: Vec<Budget>,
    sessions: Vec<CostTotal>,
    more_sessions: usize,
}

fn page(web: &Web, viewer: &Viewer, range: &Range) -> Response {
    let since = range.since.trim().to_string();
    let presets = PRESETS
        .iter()
        .map(|(s, label)| Preset {
            since: s,
            label,
            current: *s == since,
        })
        .collect();
    let (report, error) = match range.start() {
        Ok(start) => {
            let config = web.core.settings().config.clone();
            match pryx_core::costs::report(web.core.store(), &config, start.as_deref()) {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(format!("The spend could not be read: {e}"))),
            }
        }
        Err(e) => (None, Some(format!("Range: {e}"))),
    };
    let budgets = report
        .as_ref()
        .map(|r| {
            r.budgets
                .iter()
                .map(|b| {
                    let percent = b.percent();
                    let tone = match percent {
                        p if p >= 100.0 => "bad",
                        p if p >= 80.0 => "warn",
                        _ => "ok",
                    };
                    Budget {
                        budget: b.clone(),
                        percent,
                        tone,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let all = report
        .as_ref()
        .map(|r| r.by_session.clone())
        .unwrap_or_default();
    let more_sessions = all.len().saturating_sub(SHOWN_SESSIONS);
    let since_day = report
        .as_ref()
        .and_then(|r| r.since.as_deref())
        .and_then(|s| s.get(..10))
        .map(str::to_string);
    render(
        StatusCode::OK,
        &Costs {
            layout: Layout::new(web, viewer, "Costs", "costs"),
            since,
            presets,
            error,
            report,
            since_day,
            budgets,
            sessions: all.into_iter().take(SHOWN_SESSIONS).collect(),
            more_sessions,
        },
    )
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(range): Query<Range>) -> Response {
    let w = web.clone();
    tokio::task::spawn_blocking(move || page(&w, &viewer, &range))
        .await
        .unwrap_or_else(|e| internal(&web, &e.to_string()))
}

async fn export(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Query(range): Query<Range>,
) -> Response {
    let start = match range.start() {
        Ok(s) => s,
        Err(e) => {
            return problem(
                &web,
                Some(&viewer),
                StatusCode::BAD_REQUEST,
                "Bad range",
                &e,
            );
        }
    };
    let w = web.clone();
    let made = tokio::task::spawn_blocking(move || {
        let config = w.core.settings().config.clone();
        pryx_core::costs::report(w.core.store(), &config, start.as_deref())
    })
    .await;
    match made {
        Ok(Ok(report)) => {
            let name = match range.since.trim() {
                "" => "pryx-costs.csv".to_string(),
                s => format!(
                    "pryx-costs-since-{}.csv",
                    s.chars()
                        .filter(char::is_ascii_alphanumeric)
                        .collect::<String>()
                ),
            };
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                pryx_core::costs::csv(&report),
            )
                .into_response()
        }
        Ok(Err(e)) => internal(&web, &e.to_string()),
        Err(e) => internal(&web, &e.to_string()),
    }
}
