//! The approvals inbox: every approval waiting for an answer (its exact preview, as text),
//! answered here with the same broker call the API makes (surface `web`); below, how earlier
//! approvals ended (from the audit log) and the standing grants, each revocable. The list
//! refreshes itself: htmx polls a fragment that answers 204 while nothing changed.

use crate::Web;
use crate::page::{Layout, Viewer, problem, render, see_other};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pryx_protocol::Surface;
use pryx_protocol::api::{
    ApprovalAnswer, ApprovalDecision, ApprovalScope, GrantView, PendingApproval,
};
use pryx_protocol::safe_text;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// History rows shown.
const HISTORY: u32 = 50;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/approvals", get(show))
        .route("/approvals/live", get(live))
        .route("/approvals/{id}/answer", post(answer))
        .route("/approvals/grants/{id}/revoke", post(revoke))
}

/// A pending approval as shown.
pub struct Pending {
    pub id: String,
    pub session_id: String,
    pub tool: String,
    pub rule: String,
    pub reason: String,
    /// The preview, control characters made visible.
    pub preview: String,
    pub preview_escaped: bool,
    pub arguments: String,
    pub looks_like_secret: Vec<String>,
    pub workspace: String,
    pub policy: String,
    pub age: String,
    pub created_at: String,
}

impl Pending {
    fn from_api(p: PendingApproval, now: time::OffsetDateTime) -> Pending {
        let args = serde_json::to_string_pretty(&p.arguments).unwrap_or_default();
        Pending {
            preview_escaped: safe_text::has_controls_exact(&p.preview),
            preview: safe_text::escape_exact(&p.preview).into_owned(),
            arguments: safe_text::escape_exact(&args).into_owned(),
            age: age(&p.created_at, now),
            id: p.id,
            session_id: p.session_id,
            tool: p.tool,
            rule: p.rule,
            reason: p.reason,
            looks_like_secret: p.looks_like_secret,
            workspace: p.workspace.unwrap_or_default(),
            policy: p.policy.unwrap_or_default(),
            created_at: p.created_at,
        }
    }
}

/// How an approval ended, from its audit row.
pub struct Past {
    pub when: String,
    pub decision: String,
    pub scope: String,
    pub by: String,
    pub tool: String,
    pub session_id: String,
    pub workspace: String,
}

impl Past {
    fn from_audit(r: pryx_store::AuditRecord) -> Past {
        let d = &r.entry.details;
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        let outcome = d.get("outcome");
        let grant = d.get("grant").filter(|g| !g.is_null());
        let (decision, scope, by) = match r.entry.action.as_str() {
            "approval.granted" | "approval.denied" => (
                s(outcome.and_then(|o| o.get("decision"))),
                s(outcome.and_then(|o| o.get("scope"))),
                s(outcome.and_then(|o| o.get("surface"))),
            ),
            "approval.timeout" => (
                format!(
                    "{} (no answer in time)",
                    s(outcome.and_then(|o| o.get("default")))
                ),
                String::new(),
                "policy default".into(),
            ),
            "approval.reused" => (
                "approve".into(),
                s(grant.and_then(|g| g.get("scope"))),
                "standing grant".into(),
            ),
            "approval.cancelled" => ("cancelled".into(), String::new(), "turn ended".into()),
            "approval.unavailable" => ("deny".into(), String::new(), "nobody could answer".into()),
            "grant.revoked" => (
                "revoked".into(),
                s(d.get("scope")),
                r.entry.actor.trim_start_matches("user:").to_string(),
            ),
            _ => (
                r.entry.outcome.clone(),
                String::new(),
                r.entry.actor.clone(),
            ),
        };
        Past {
            when: r
                .timestamp
                .get(..19)
                .unwrap_or(&r.timestamp)
                .replacen('T', " ", 1)
                + " UTC",
            tool: s(d.get("tool")),
            workspace: s(grant
                .and_then(|g| g.get("workspace"))
                .or_else(|| d.get("workspace"))),
            session_id: r.entry.session_id.unwrap_or_default(),
            decision,
            scope,
            by,
        }
    }
}

/// A standing grant as shown.
pub(crate) struct Grant {
    pub id: String,
    pub tool: String,
    pub scope: String,
    pub session_id: String,
    pub workspace: String,
    pub policy: String,
    pub arguments: String,
    pub created_at: String,
    pub expires_at: String,
    pub uses: u64,
    pub expired: bool,
}

impl Grant {
    pub(crate) fn from_api(g: GrantView) -> Grant {
        let args = serde_json::to_string(&g.arguments).unwrap_or_default();
        Grant {
            id: g.id,
            tool: g.tool,
            scope: g.scope.as_str().to_string(),
            session_id: g.session_id.unwrap_or_default(),
            workspace: g.workspace,
            policy: g.policy,
            arguments: safe_text::escape_exact(&args).into_owned(),
            created_at: g
                .created_at
                .get(..16)
                .unwrap_or(&g.created_at)
                .replacen('T', " ", 1),
            expires_at: g.expires_at.unwrap_or_default(),
            uses: g.uses,
            expired: g.expired,
        }
    }
}

/// Everything the inbox shows, and a signature of it (to tell whether it changed).
pub struct Inbox {
    pub pending: Vec<Pending>,
    pub history: Vec<Past>,
    pub grants: Vec<Grant>,
    pub signature: String,
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct Page {
    layout: Layout,
    inbox: Inbox,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "approvals_live.html")]
struct Live {
    inbox: Inbox,
    csrf: String,
}

fn age(created_at: &str, now: time::OffsetDateTime) -> String {
    let Ok(t) =
        time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339)
    else {
        return String::new();
    };
    let secs = (now - t).whole_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        _ => format!("{} h {} min ago", secs / 3600, (secs % 3600) / 60),
    }
}

async fn load(web: &Web) -> Result<Inbox, String> {
    let core = web.core.clone();
    let pending = core.broker().pending();
    let (history, grants) = tokio::task::spawn_blocking(move || {
        let history = core
            .store()
            .list_approval_history(HISTORY)
            .map_err(|e| e.to_string())?;
        let grants = core.grants().map_err(|e| e.to_string())?;
        Ok::<_, String>((history, grants))
    })
    .await
    .map_err(|e| format!("the query stopped early: {e}"))??;
    let signature = format!(
        "{}.{}.{}",
        pending
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(","),
        history.first().map_or(0, |h| h.seq),
        grants
            .iter()
            .map(|g| format!("{}:{}", g.id, g.uses))
            .collect::<Vec<_>>()
            .join(",")
    );
    let signature = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(signature.as_bytes())[..8]);
    let now = time::OffsetDateTime::now_utc();
    Ok(Inbox {
        pending: pending
            .into_iter()
            .map(|p| Pending::from_api(p, now))
            .collect(),
        history: history.into_iter().map(Past::from_audit).collect(),
        grants: grants.into_iter().map(Grant::from_api).collect(),
        signature,
    })
}

fn failed(web: &Web, viewer: &Viewer, why: &str) -> Response {
    tracing::error!(error = %why, "the approvals inbox could not be read");
    problem(
        web,
        Some(viewer),
        StatusCode::INTERNAL_SERVER_ERROR,
        "Approvals unavailable",
        &format!(
            "The approvals could not be read ({why}). Run `pryx doctor` to check the database."
        ),
    )
}

#[derive(Deserialize)]
struct Notice {
    done: Option<String>,
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(n): Query<Notice>) -> Response {
    let notice = n.done.as_deref().and_then(|d| match d {
        "approved" => Some("Approved.".to_string()),
        "denied" => Some("Denied.".to_string()),
        "revoked" => Some("Grant revoked: the next identical call asks again.".to_string()),
        _ => None,
    });
    match load(&web).await {
        Ok(inbox) => render(
            StatusCode::OK,
            &Page {
                layout: Layout::new(&web, &viewer, "Approvals", "approvals"),
                inbox,
                notice,
            },
        ),
        Err(e) => failed(&web, &viewer, &e),
    }
}

#[derive(Deserialize)]
struct Seen {
    seen: Option<String>,
}

/// The inbox's live part; 204 (htmx keeps the page as it is) while nothing changed.
async fn live(State(web): State<Arc<Web>>, viewer: Viewer, Query(s): Query<Seen>) -> Response {
    match load(&web).await {
        Ok(inbox) if s.seen.as_deref() == Some(inbox.signature.as_str()) => {
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(inbox) => render(
            StatusCode::OK,
            &Live {
                inbox,
                csrf: viewer.session.csrf.clone(),
            },
        ),
        Err(e) => failed(&web, &viewer, &e),
    }
}

#[derive(Deserialize)]
struct Answer {
    /// `once`, `session`, `always` or `deny`.
    choice: String,
}

/// Answers an approval from the dashboard: the broker call the API's handler makes.
async fn answer(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(a): axum::Form<Answer>,
) -> Response {
    let (decision, scope) = match a.choice.as_str() {
        "once" => (ApprovalDecision::Approve, ApprovalScope::Once),
        "session" => (ApprovalDecision::Approve, ApprovalScope::Session),
        "always" => (ApprovalDecision::Approve, ApprovalScope::Always),
        "deny" => (ApprovalDecision::Deny, ApprovalScope::Once),
        _ => {
            return problem(
                &web,
                Some(&viewer),
                StatusCode::BAD_REQUEST,
                "Unknown answer",
                "Answer with Once, Session, Always or Deny.",
            );
        }
    };
    let answered = web.core.broker().answer(
        &id,
        ApprovalAnswer {
            decision,
            scope,
            surface: Surface::Web,
        },
    );
    let htmx = headers.contains_key("hx-request");
    match answered {
        Ok(()) => {
            tracing::info!(approval = %id, choice = %a.choice, browser = %viewer.session.id, "an approval was answered from the dashboard");
            if htmx {
                // The row is swapped for nothing: it disappears.
                (StatusCode::OK, "").into_response()
            } else {
                let done = if decision == ApprovalDecision::Deny {
                    "denied"
                } else {
                    "approved"
                };
                see_other(&format!("/approvals?done={done}"))
            }
        }
        Err(e) => problem(
            &web,
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "Already answered",
            &format!("{e}. The inbox shows what is still waiting."),
        ),
    }
}

/// Revokes a standing grant (audited as revoked by `user:web`).
async fn revoke(State(web): State<Arc<Web>>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let core = web.core.clone();
    let gid = id.clone();
    let done = tokio::task::spawn_blocking(move || core.revoke_grant(&gid, Surface::Web)).await;
    match done {
        Ok(Ok(_)) => see_other("/approvals?done=revoked"),
        Ok(Err(pryx_core::CoreError::GrantNotFound(_))) => problem(
            &web,
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "No such grant",
            "That grant no longer exists (it may have been revoked already).",
        ),
        Ok(Err(e)) => failed(&web, &viewer, &e.to_string()),
        Err(e) => failed(&web, &viewer, &e.to_string()),
    }
}

#[cfg(test)]
mod tests;
