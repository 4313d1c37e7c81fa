//! What every page shares: the signed-in viewer, the layout fields, rendering a template into a
//! response, the security headers on every dashboard response, and the CSRF gate in front of
//! every state-changing request.

use crate::Web;
use crate::auth::{BrowserSession, csrf_ok};
use askama::Template;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The content security policy of every dashboard response: scripts and styles only from the
/// gateway's own embedded files (no inline script, no eval), nothing framed, no outside
/// connections, no plug-ins, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The name of the CSRF header scripts send; forms send the same token as `_csrf`.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in browser making a request. As an extractor, a request without a valid cookie
/// gets the "sign in" page (401) instead of the handler's answer.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session: BrowserSession,
    /// The raw cookie value (to log it out).
    pub cookie: String,
}

impl FromRequestParts<Arc<Web>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        match web.viewer(&parts.headers) {
            Some(v) => Ok(v),
            None => Err(signed_out(web, StatusCode::UNAUTHORIZED, None)),
        }
    }
}

/// The value of our cookie in a request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// Layout fields every page template has.
pub struct Layout {
    pub title: String,
    /// Which nav entry is current (`chat`, `sessions`, `approvals`, `tasks`, `integrations`,
    /// `settings`, `welcome`).
    pub nav: &'static str,
    pub csrf: String,
    /// `system`, `light` or `dark` (config `ui.theme`).
    pub theme: String,
}

impl Layout {
    pub fn new(web: &Web, viewer: &Viewer, title: impl Into<String>, nav: &'static str) -> Layout {
        Layout {
            title: title.into(),
            nav,
            csrf: viewer.session.csrf.clone(),
            theme: web.theme(),
        }
    }

    /// For pages shown to a browser that is not signed in.
    pub fn anonymous(web: &Web, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            nav: "",
            csrf: String::new(),
            theme: web.theme(),
        }
    }

    /// An asset's fingerprinted URL.
    pub fn asset(&self, name: &str) -> String {
        crate::assets::url(name)
    }
}

/// Renders a template as an HTML response (a rendering failure is a plain 500 page).
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a dashboard page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>This page failed to render; the gateway log has the details.</p>".to_string()),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOut {
    layout: Layout,
    /// Why the browser is not signed in, when there is more to say than "not signed in".
    problem: Option<String>,
}

/// The page for a browser without a valid session: how to get a login link.
pub fn signed_out(web: &Web, status: StatusCode, problem: Option<String>) -> Response {
    render(
        status,
        &SignedOut {
            layout: Layout::anonymous(web, "Sign in"),
            problem,
        },
    )
}

#[derive(Template)]
#[template(path = "problem.html")]
struct Problem {
    layout: Layout,
    heading: String,
    message: String,
}

/// A page that says what went wrong and what to do.
/// A 500 page for something that failed inside (a task that stopped, a store error).
pub fn internal(web: &Web, e: &str) -> Response {
    problem(
        web,
        None,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something failed",
        e,
    )
}

pub fn problem(
    web: &Web,
    viewer: Option<&Viewer>,
    status: StatusCode,
    heading: &str,
    message: &str,
) -> Response {
    let layout = match viewer {
        Some(v) => Layout::new(web, v, heading, ""),
        None => Layout::anonymous(web, heading),
    };
    render(
        status,
        &Problem {
            layout,
            heading: heading.to_string(),
            message: message.to_string(),
        },
    )
}

/// See-other redirect (after a form post).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Adds the security headers to every dashboard response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    set_security_headers(res.headers_mut());
    res
}

pub fn set_security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null`
    // with a plain form POST, which the gateway's Origin check (rightly) refuses. Other
    // sites still get no referrer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The CSRF gate: a state-changing request from a signed-in browser must carry the session's
/// token, in the `x-csrf-token` header (scripts) or as the `_csrf` field of a form. Requests
/// without a session are left to the handlers (which answer "sign in"); the login link itself
/// is a GET.
pub async fn csrf_gate(State(web): State<Arc<Web>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(viewer) = web.viewer(req.headers()) else {
        return signed_out(&web, StatusCode::UNAUTHORIZED, None);
    };
    if let Some(given) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if csrf_ok(&viewer.session, given) {
            next.run(req).await
        } else {
            csrf_refused(&web, &viewer)
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return csrf_refused(&web, &viewer);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, crate::MAX_FORM_BYTES).await else {
        return problem(
            &web,
            Some(&viewer),
            StatusCode::PAYLOAD_TOO_LARGE,
            "Form too large",
            "The form sent more than the dashboard accepts; shorten the text and try again.",
        );
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.into_owned());
    match token {
        Some(t) if csrf_ok(&viewer.session, &t) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => csrf_refused(&web, &viewer),
    }
}

fn csrf_refused(web: &Web, viewer: &Viewer) -> Response {
    tracing::warn!(browser = %viewer.session.id, "refused a dashboard request without a valid CSRF token");
    problem(
        web,
        Some(viewer),
        StatusCode::FORBIDDEN,
        "Request refused",
        "This request did not carry the page's security token. Reload the page and try again.",
    )
}
