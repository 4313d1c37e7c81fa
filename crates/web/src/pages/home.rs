//! Signing in and out, and the front door: `/` sends a signed-in browser to the onboarding
//! wizard while no provider is set up (unless the user skipped it), to the chat otherwise.

use crate::Web;
use crate::page::{Viewer, see_other, signed_out};
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/", get(front))
        .route("/login", get(login))
        .route("/logout", post(logout))
}

async fn front(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    if web.viewer(&headers).is_none() {
        return signed_out(&web, StatusCode::OK, None);
    }
    if web.wants_onboarding() {
        see_other("/welcome")
    } else {
        see_other("/chat")
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    code: Option<String>,
}

/// Trades a one-time code for a cookie and redirects, so the code leaves the address bar.
async fn login(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let ip = peer.ip();
    if web.auth.failures.blocked(ip) {
        tracing::warn!(peer = %peer, "refused a login attempt: too many failed codes");
        return signed_out(
            &web,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many wrong or used login links from this address. Wait a minute, then run `pryx dashboard` for a new link.".into()),
        );
    }
    let Some(code) = q.code.filter(|c| !c.is_empty() && c.len() <= 128) else {
        return signed_out(
            &web,
            StatusCode::BAD_REQUEST,
            Some(
                "This address has no login code. Run `pryx dashboard` and open the link it prints."
                    .into(),
            ),
        );
    };
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown browser");
    let Some((cookie, session)) = web.auth.redeem(&code, agent) else {
        let failures = web.auth.failures.record(ip);
        tracing::warn!(peer = %peer, failures, "a login code was wrong, used or expired");
        return signed_out(
            &web,
            StatusCode::UNAUTHORIZED,
            Some("This login link is used, expired (links last 2 minutes) or wrong. Run `pryx dashboard` for a new one.".into()),
        );
    };
    tracing::info!(browser = %session.id, peer = %peer, "a browser signed in to the dashboard");
    with_cookie(see_other("/"), &web.sign_in_cookie(&cookie))
}

async fn logout(State(web): State<Arc<Web>>, viewer: Viewer) -> Response {
    web.auth.logout(&viewer.cookie);
    tracing::info!(browser = %viewer.session.id, "a browser signed out of the dashboard");
    with_cookie(see_other("/"), &web.sign_out_cookie())
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    match HeaderValue::from_str(cookie) {
        Ok(v) => {
            res.headers_mut().insert(header::SET_COOKIE, v);
            res
        }
        Err(_) => problem_500(),
    }
}

fn problem_500() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "cannot set the sign-in cookie",
    )
        .into_response()
}
