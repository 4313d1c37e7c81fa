//! Approvals page (being built).

use crate::Web;
use crate::page::{Layout, Viewer, render};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new().route("/approvals", get(show))
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct Page {
    layout: Layout,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    render(
        StatusCode::OK,
        &Page {
            layout: Layout::new(&web, &viewer, "Approvals", "approvals"),
        },
    )
}
