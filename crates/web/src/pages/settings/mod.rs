//! Settings: every key of `config.json` in sections generated from its schema (`section`), and
//! the signed-in browsers (revocable).

mod entries;
mod fields;
mod section;

use crate::Web;
use crate::auth::BrowserSession;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/settings", get(show))
        .route("/settings/browsers/{id}/revoke", post(revoke))
        .route("/settings/providers/test", post(entries::test_provider))
        .route(
            "/settings/{section}",
            get(section::show).post(section::save),
        )
        .route("/settings/{section}/add", post(entries::add))
        .route("/settings/{section}/remove", post(entries::remove))
}

#[derive(Template)]
#[template(path = "settings.html")]
struct Settings {
    layout: Layout,
    browsers: Vec<BrowserSession>,
    current: String,
    sections: Vec<(String, String, String)>,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    render(
        StatusCode::OK,
        &Settings {
            layout: Layout::new(&web, &viewer, "Settings", "settings"),
            browsers: web.auth.list(),
            current: viewer.session.id.clone(),
            sections: section::sections(&pryx_config::keys::schema()),
        },
    )
}

async fn revoke(State(web): State<Arc<Web>>, viewer: Viewer, Path(id): Path<String>) -> Response {
    if web.auth.revoke(&id) {
        tracing::info!(browser = %id, by = %viewer.session.id, "a browser session was revoked");
        see_other(if id == viewer.session.id {
            "/"
        } else {
            "/settings"
        })
    } else {
        problem(
            &web,
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "No such browser",
            "That browser is already signed out.",
        )
    }
}
