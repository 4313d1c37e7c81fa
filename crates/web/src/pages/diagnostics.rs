//! Diagnostics (`/diagnostics`): `pryx doctor`'s checks on this core's data dir, each with what
//! was found and the fix, the problems first.

use crate::Web;
use crate::page::{Layout, Viewer, render};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use pryx_protocol::api::{DoctorCheck, DoctorStatus};
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new().route("/diagnostics", get(show))
}

struct Row {
    check: DoctorCheck,
    /// `ok`, `warn` or `fail`.
    status: &'static str,
}

#[derive(Template)]
#[template(path = "diagnostics.html")]
struct Page {
    layout: Layout,
    rows: Vec<Row>,
    failed: usize,
    warned: usize,
    took_ms: u64,
    error: Option<String>,
    version: &'static str,
    uptime: String,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    let (rows, took_ms, error) = match web.core.doctor().await {
        Ok(report) => {
            let mut rows: Vec<Row> = report
                .checks
                .into_iter()
                .map(|check| Row {
                    status: match check.status {
                        DoctorStatus::Ok => "ok",
                        DoctorStatus::Warn => "warn",
                        DoctorStatus::Fail => "fail",
                    },
                    check,
                })
                .collect();
            // Problems first, in the doctor's order within each group.
            rows.sort_by_key(|r| match r.check.status {
                DoctorStatus::Fail => 0,
                DoctorStatus::Warn => 1,
                DoctorStatus::Ok => 2,
            });
            (rows, report.took_ms, None)
        }
        Err(e) => (Vec::new(), 0, Some(e.to_string())),
    };
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    let secs = web.core.uptime().as_secs();
    render(
        StatusCode::OK,
        &Page {
            layout: Layout::new(&web, &viewer, "Diagnostics", "diagnostics"),
            failed: count("fail"),
            warned: count("warn"),
            rows,
            took_ms,
            error,
            version: env!("CARGO_PKG_VERSION"),
            uptime: format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
        },
    )
}
