//! Integrations: the chat channels and webhooks with their live status (from their real
//! traffic), what was last filtered out and why, the outbox, paired senders; a pairing code
//! for a new sender, pause and resume. Adding a channel (it needs a token) is `pryx channels
//! add`, shown here.

use crate::Web;
use crate::page::{Layout, Viewer, internal, problem, render};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use pryx_protocol::api::{ChannelState, ChannelView, PairingCode};
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/integrations", get(show))
        .route("/integrations/{id}/pair", post(pair))
        .route("/integrations/{id}/pause", post(pause))
        .route("/integrations/{id}/resume", post(resume))
}

/// A channel as shown.
pub struct Row {
    pub view: ChannelView,
    /// `ok`, `warn`, `bad` or `off`: the state's colour.
    pub tone: &'static str,
    pub state: &'static str,
}

fn row(view: ChannelView) -> Row {
    let (tone, state) = match view.state {
        ChannelState::Connected => ("ok", "connected"),
        ChannelState::Starting => ("warn", "starting"),
        ChannelState::Degraded => ("warn", "degraded"),
        ChannelState::Disconnected => ("bad", "disconnected"),
        ChannelState::Paused => ("off", "paused"),
    };
    Row { view, tone, state }
}

#[derive(Template)]
#[template(path = "integrations.html")]
struct Integrations {
    layout: Layout,
    rows: Vec<Row>,
    code: Option<PairingCode>,
    notice: Option<String>,
}

fn page(web: &Web, viewer: &Viewer, code: Option<PairingCode>, notice: Option<String>) -> Response {
    let rows = web.core.channels().into_iter().map(row).collect();
    render(
        StatusCode::OK,
        &Integrations {
            layout: Layout::new(web, viewer, "Integrations", "integrations"),
            rows,
            code,
            notice,
        },
    )
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    let w = web.clone();
    tokio::task::spawn_blocking(move || page(&w, &viewer, None, None))
        .await
        .unwrap_or_else(|e| internal(&web, &e.to_string()))
}

fn actor() -> &'static str {
    "user:web"
}

async fn pair(State(web): State<Arc<Web>>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let w = web.clone();
    tokio::task::spawn_blocking(move || match w.core.pair_code(&id, actor()) {
        Ok(code) => page(&w, &viewer, Some(code), None),
        Err(e) => problem(
            &w,
            Some(&viewer),
            StatusCode::BAD_REQUEST,
            "No pairing code",
            &e.to_string(),
        ),
    })
    .await
    .unwrap_or_else(|e| internal(&web, &e.to_string()))
}

async fn set_enabled(web: Arc<Web>, viewer: Viewer, id: String, enabled: bool) -> Response {
    let w = web.clone();
    tokio::task::spawn_blocking(
        move || match w.core.set_channel_enabled(&id, enabled, actor()) {
            Ok(c) => {
                let what = if enabled { "resumed" } else { "paused" };
                page(&w, &viewer, None, Some(format!("{} {what}.", c.id)))
            }
            Err(e) => problem(
                &w,
                Some(&viewer),
                StatusCode::BAD_REQUEST,
                "Not changed",
                &e.to_string(),
            ),
        },
    )
    .await
    .unwrap_or_else(|e| internal(&web, &e.to_string()))
}

async fn pause(State(web): State<Arc<Web>>, viewer: Viewer, Path(id): Path<String>) -> Response {
    set_enabled(web, viewer, id, false).await
}

async fn resume(State(web): State<Arc<Web>>, viewer: Viewer, Path(id): Path<String>) -> Response {
    set_enabled(web, viewer, id, true).await
}
