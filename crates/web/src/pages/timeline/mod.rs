//! A session's trace timeline (`/sessions/{id}/timeline`): each turn as a Gantt chart of its
//! model calls, tool calls and approval waits, drawn as SVG by the server. While a turn runs the
//! page redraws on each `span.update` (`timeline.js` fetches `/timeline/live`); a bar is a link to
//! its details (arguments, result, error and trace id), so it all works without JavaScript too.

mod chart;

use crate::Web;
use crate::page::{Layout, Viewer, internal, problem, render};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chart::TurnChart;
use pryx_store::{Span, SpanKind};
use serde::Deserialize;
use std::sync::Arc;

/// Turns drawn: the latest ones.
const TURNS: usize = 20;
/// Longest argument or result text shown in the details.
const DETAIL_CHARS: usize = 8_000;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/sessions/{id}/timeline", get(show))
        .route("/sessions/{id}/timeline/live", get(live))
}

#[derive(Deserialize)]
struct Pick {
    span: Option<String>,
}

/// What the details panel shows of the picked span.
struct Details {
    span: Span,
    kind: &'static str,
    duration: String,
    arguments: Option<String>,
    result: Option<String>,
    result_is_error: bool,
    attributes: String,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct Page {
    layout: Layout,
    session_id: String,
    title: String,
    turns: Vec<TurnChart>,
    details: Option<Details>,
    picked: String,
    width: f64,
}

#[derive(Template)]
#[template(path = "timeline_turns.html")]
struct Turns {
    session_id: String,
    turns: Vec<TurnChart>,
    picked: String,
    width: f64,
}

/// The session's spans (the latest turns) and its title; `None` when there is no such session.
async fn load(web: &Web, id: &str) -> Result<Option<(String, Vec<Span>)>, String> {
    let core = web.core.clone();
    let id = id.to_string();
    tokio::task::spawn_blocking(move || {
        let store = core.store();
        let Some(session) = store.get_session(&id).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let spans = store.list_spans(&id).map_err(|e| e.to_string())?;
        let mut traces: Vec<&str> = Vec::new();
        for s in &spans {
            if !traces.contains(&s.trace_id.as_str()) {
                traces.push(&s.trace_id);
            }
        }
        let keep: Vec<String> = traces
            .iter()
            .rev()
            .take(TURNS)
            .map(|t| (*t).to_string())
            .collect();
        let spans = spans
            .into_iter()
            .filter(|s| keep.contains(&s.trace_id))
            .collect();
        Ok(Some((session.title, spans)))
    })
    .await
    .map_err(|e| e.to_string())?
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

async fn show(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(pick): Query<Pick>,
) -> Response {
    let (title, spans) = match load(&web, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return problem(
                &web,
                Some(&viewer),
                StatusCode::NOT_FOUND,
                "No such session",
                "It may have been deleted. The Sessions page lists the ones there are.",
            );
        }
        Err(e) => return internal(&web, &e),
    };
    let picked = pick.span.unwrap_or_default();
    let details = match spans.iter().find(|s| s.id == picked) {
        Some(s) => Some(details(&web, &id, s.clone()).await),
        None => None,
    };
    render(
        StatusCode::OK,
        &Page {
            layout: Layout::new(&web, &viewer, format!("Timeline: {title}"), "sessions"),
            turns: chart::charts(&spans, now(), Some(&picked)),
            session_id: id,
            title,
            details,
            picked,
            width: chart::WIDTH,
        },
    )
}

/// The charts alone, for the page's live redraw.
async fn live(
    State(web): State<Arc<Web>>,
    _viewer: Viewer,
    Path(id): Path<String>,
    Query(pick): Query<Pick>,
) -> Response {
    match load(&web, &id).await {
        Ok(Some((_, spans))) => {
            let picked = pick.span.unwrap_or_default();
            render(
                StatusCode::OK,
                &Turns {
                    turns: chart::charts(&spans, now(), Some(&picked)),
                    session_id: id,
                    picked,
                    width: chart::WIDTH,
                },
            )
        }
        Ok(None) => problem(
            &web,
            None,
            StatusCode::NOT_FOUND,
            "No such session",
            "It may have been deleted.",
        ),
        Err(e) => internal(&web, &e),
    }
}

async fn details(web: &Web, session_id: &str, span: Span) -> Details {
    let started = time::OffsetDateTime::parse(
        &span.started_at,
        &time::format_description::well_known::Rfc3339,
    );
    let ended = span
        .ended_at
        .as_deref()
        .map(|e| time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc3339));
    let duration = match (started, ended) {
        (Ok(a), Some(Ok(b))) => chart::duration((b - a).as_seconds_f64() * 1000.0),
        (Ok(a), None) => format!(
            "{} so far",
            chart::duration((now() - a).as_seconds_f64() * 1000.0)
        ),
        _ => String::new(),
    };
    // A tool span names its call: the arguments and the result are in the call's row.
    let call = match (span.kind, span.attributes["tool_call_id"].as_str()) {
        (SpanKind::ToolCall, Some(call_id)) => {
            let (core, sid, cid) = (
                web.core.clone(),
                session_id.to_string(),
                call_id.to_string(),
            );
            tokio::task::spawn_blocking(move || core.store().get_tool_call(&sid, &cid))
                .await
                .ok()
                .and_then(Result::ok)
                .flatten()
        }
        _ => None,
    };
    let cut = |s: String| {
        if s.chars().count() > DETAIL_CHARS {
            let mut t: String = s.chars().take(DETAIL_CHARS).collect();
            t.push_str("\n… (cut; the whole text is in the session)");
            t
        } else {
            s
        }
    };
    Details {
        kind: match span.kind {
            SpanKind::Turn => "Turn",
            SpanKind::ModelCall => "Model call",
            SpanKind::ToolCall => "Tool call",
            SpanKind::ApprovalWait => "Approval wait",
        },
        duration,
        arguments: call
            .as_ref()
            .map(|c| cut(serde_json::to_string_pretty(&c.arguments).unwrap_or_default())),
        result: call.as_ref().and_then(|c| c.result.clone()).map(cut),
        result_is_error: call.as_ref().is_some_and(|c| c.is_error),
        attributes: if span.attributes.is_null()
            || span.attributes.as_object().is_some_and(|o| o.is_empty())
        {
            String::new()
        } else {
            serde_json::to_string_pretty(&span.attributes).unwrap_or_default()
        },
        span,
    }
}
