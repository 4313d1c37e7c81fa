//! The dashboard's pages, one module each.

mod approvals;
mod audit;
mod chat;
mod costs;
mod diagnostics;
mod home;
mod integrations;
mod mcp;
mod mcp_server;
mod policies;
mod policy_form;
pub(crate) mod sessions;
mod settings;
mod skills;
mod tasks;
mod timeline;
mod welcome;

use crate::Web;
use axum::Router;
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .merge(home::routes())
        .merge(settings::routes())
        .merge(chat::routes())
        .merge(sessions::routes())
        .merge(approvals::routes())
        .merge(integrations::routes())
        .merge(tasks::routes())
        .merge(audit::routes())
        .merge(policies::routes())
        .merge(costs::routes())
        .merge(diagnostics::routes())
        .merge(skills::routes())
        .merge(mcp::routes())
        .merge(timeline::routes())
        .merge(welcome::routes())
}
