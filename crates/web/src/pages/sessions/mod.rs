//! The sessions explorer (PRD FR4.3): search as you type, filters, pagination, and per session
//! open, export and delete. Server-rendered: the filter form is a plain GET form that htmx
//! enhances (the results list is swapped in and the address kept in sync), so it all works
//! without JS. Deleting goes through a confirmation page with a POST form.

mod query;
#[cfg(test)]
pub(crate) mod tests;
mod view;

use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pryx_core::CoreError;
use query::Filters;
use std::sync::Arc;
use view::{Choices, Results};

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/sessions", get(show))
        .route("/sessions/results", get(results))
        .route("/sessions/{id}/export", get(export))
        .route("/sessions/{id}/delete", get(confirm_delete).post(delete))
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct Page {
    layout: Layout,
    f: Filters,
    choices: Choices,
    results: Results,
    /// The title of a session just deleted (after the confirmation's redirect).
    deleted: Option<String>,
}

#[derive(Template)]
#[template(path = "sessions_results.html")]
struct ResultsFragment {
    results: Results,
}

#[derive(Template)]
#[template(path = "sessions_delete.html")]
struct ConfirmDelete {
    layout: Layout,
    id: String,
    title: String,
    messages: usize,
    busy: bool,
    back: String,
}

/// Runs a blocking store call off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(format!("the query stopped early: {e}")),
    }
}

fn store_failed(web: &Web, viewer: &Viewer, why: &str) -> Response {
    tracing::error!(error = %why, "the sessions explorer could not read the database");
    problem(
        web,
        Some(viewer),
        StatusCode::INTERNAL_SERVER_ERROR,
        "Sessions unavailable",
        &format!(
            "The sessions could not be read ({why}). Run `pryx doctor` to check the database."
        ),
    )
}

async fn show(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Query(raw): Query<query::Raw>,
) -> Response {
    let f = Filters::from_raw(raw);
    let deleted = f.deleted.clone();
    let core = web.core.clone();
    let q = f.clone();
    let found = blocking(move || {
        let choices = view::choices(&core)?;
        let results = view::results(&core, &q)?;
        Ok((choices, results))
    })
    .await;
    match found {
        Ok((choices, results)) => render(
            StatusCode::OK,
            &Page {
                layout: Layout::new(&web, &viewer, "Sessions", "sessions"),
                f,
                choices,
                results,
                deleted,
            },
        ),
        Err(e) => store_failed(&web, &viewer, &e),
    }
}

/// The results list alone, for htmx; tells htmx the page's address for these filters.
async fn results(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Query(raw): Query<query::Raw>,
) -> Response {
    let f = Filters::from_raw(raw);
    let core = web.core.clone();
    let q = f.clone();
    match blocking(move || view::results(&core, &q)).await {
        Ok(results) => {
            let mut res = render(StatusCode::OK, &ResultsFragment { results });
            if let Ok(v) = HeaderValue::from_str(&f.page_url(f.page)) {
                res.headers_mut().insert("hx-push-url", v);
            }
            res
        }
        Err(e) => store_failed(&web, &viewer, &e),
    }
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

/// A session as a download: `format=md` (default) or `json`.
async fn export(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let format = q.format.unwrap_or_else(|| "md".into());
    if format != "md" && format != "json" {
        return problem(
            &web,
            Some(&viewer),
            StatusCode::BAD_REQUEST,
            "Unknown export format",
            "Export as format=md (Markdown) or format=json.",
        );
    }
    let core = web.core.clone();
    let sid = id.clone();
    let detail = blocking(move || core.session_detail(&sid).map_err(|e| e.to_string())).await;
    let detail = match detail {
        Ok(Some(d)) => d,
        Ok(None) => return gone(&web, &viewer),
        Err(e) => return store_failed(&web, &viewer, &e),
    };
    let (body, content_type) = if format == "json" {
        match pryx_core::export::session_json(&detail) {
            Ok(b) => (b, "application/json; charset=utf-8"),
            Err(e) => return store_failed(&web, &viewer, &e.to_string()),
        }
    } else {
        (
            pryx_core::export::session_markdown(&detail),
            "text/markdown; charset=utf-8",
        )
    };
    let disposition = format!(
        "attachment; filename=\"pryx-session-{}.{format}\"",
        query::file_safe(&detail.session.id)
    );
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn gone(web: &Web, viewer: &Viewer) -> Response {
    problem(
        web,
        Some(viewer),
        StatusCode::NOT_FOUND,
        "No such session",
        "That session does not exist (it may have been deleted). Find sessions on the Sessions page.",
    )
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// The confirmation step before deleting (a page, so it works without JS).
async fn confirm_delete(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(b): Query<Back>,
) -> Response {
    let core = web.core.clone();
    let sid = id.clone();
    let detail = blocking(move || core.session_detail(&sid).map_err(|e| e.to_string())).await;
    match detail {
        Ok(Some(d)) => render(
            StatusCode::OK,
            &ConfirmDelete {
                layout: Layout::new(&web, &viewer, "Delete session", "sessions"),
                id: d.session.id.clone(),
                title: view::title_of(&d.session.title),
                messages: d.messages.len(),
                busy: d.session.busy,
                back: query::safe_back(b.back.as_deref()),
            },
        ),
        Ok(None) => gone(&web, &viewer),
        Err(e) => store_failed(&web, &viewer, &e),
    }
}

async fn delete(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<Back>,
) -> Response {
    let core = web.core.clone();
    let sid = id.clone();
    let title = blocking(move || {
        let title = core
            .store()
            .get_session(&sid)
            .map_err(|e| e.to_string())?
            .map(|s| view::title_of(&s.title));
        match core.delete_session(&sid) {
            Ok(()) => Ok(Ok(title.unwrap_or_default())),
            Err(e) => Ok(Err(e)),
        }
    })
    .await;
    match title {
        Ok(Ok(title)) => {
            tracing::info!(session = %id, browser = %viewer.session.id, "a session was deleted from the dashboard");
            let back = query::safe_back(b.back.as_deref());
            see_other(&query::with_deleted(&back, &title))
        }
        Ok(Err(CoreError::SessionBusy(_))) => problem(
            &web,
            Some(&viewer),
            StatusCode::CONFLICT,
            "Session is running a turn",
            "A turn is running in this session, so it was not deleted. Wait for it to end (or cancel it in the chat), then delete it again.",
        ),
        Ok(Err(CoreError::SessionNotFound(_))) => gone(&web, &viewer),
        Ok(Err(e)) => store_failed(&web, &viewer, &e.to_string()),
        Err(e) => store_failed(&web, &viewer, &e),
    }
}
