//! The web dashboard (DESIGN.md §1, PRD §7.2): HTML rendered by the binary from askama templates,
//! htmx and a little hand-written JS/CSS embedded with it (no build step, no CDN), live parts
//! over the gateway's own REST and WebSocket API. A browser signs in with a one-time link from
//! `pryx dashboard` and then holds a cookie session; the API token never reaches it.

pub mod assets;
pub mod auth;
pub mod markdown;
mod page;
mod pages;

pub use auth::{BrowserSession, FailureLimiter, LoginCode, WebAuth};
pub use page::{CSP, CSRF_HEADER};

use axum::Router;
use axum::http::HeaderMap;
use pryx_core::Core;
use std::sync::Arc;

/// Largest form body the dashboard reads.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

/// What the dashboard's handlers share.
pub struct Web {
    pub core: Core,
    pub auth: WebAuth,
    /// The cookie's name carries the port: cookies are not kept apart by port, so two gateways
    /// on one machine would otherwise overwrite each other's sign-in.
    cookie_name: String,
    /// The user skipped (part of) the onboarding wizard: `/` then goes to the chat even
    /// without a provider. Kept for this run of the gateway only.
    onboarding_skipped: std::sync::atomic::AtomicBool,
}

impl Web {
    pub fn new(core: Core, port: u16, auth: WebAuth) -> Web {
        Web {
            core,
            auth,
            cookie_name: format!("pryx_session_{port}"),
            onboarding_skipped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether `/` should still send a browser to the onboarding wizard: no provider is set
    /// up and the user has not skipped it.
    pub fn wants_onboarding(&self) -> bool {
        !self
            .onboarding_skipped
            .load(std::sync::atomic::Ordering::Relaxed)
            && self.core.providers().is_empty()
    }

    /// Remembers (for this run) that the user skipped onboarding.
    pub fn skip_onboarding(&self) {
        self.onboarding_skipped
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The signed-in browser behind a request's cookie, if any.
    pub fn viewer(&self, headers: &HeaderMap) -> Option<page::Viewer> {
        let cookie = page::cookie_value(headers, &self.cookie_name)?;
        let session = self.auth.session(&cookie)?;
        Some(page::Viewer { session, cookie })
    }

    /// The browser session behind a request's cookie (for the API's cookie authentication).
    pub fn browser(&self, headers: &HeaderMap) -> Option<BrowserSession> {
        self.viewer(headers).map(|v| v.session)
    }

    /// `system`, `light` or `dark`.
    pub fn theme(&self) -> String {
        match self.core.settings().config.ui.theme.as_str() {
            t @ ("light" | "dark") => t.to_string(),
            _ => "system".to_string(),
        }
    }

    /// The `Set-Cookie` value that signs a browser in.
    fn sign_in_cookie(&self, value: &str) -> String {
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000",
            self.cookie_name
        )
    }

    /// The `Set-Cookie` value that removes the sign-in.
    fn sign_out_cookie(&self) -> String {
        format!(
            "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
            self.cookie_name
        )
    }
}

/// The dashboard's "no such page" answer (with its security headers).
pub fn not_found(web: &Web, headers: &HeaderMap) -> axum::response::Response {
    let viewer = web.viewer(headers);
    let mut res = page::problem(
        web,
        viewer.as_ref(),
        axum::http::StatusCode::NOT_FOUND,
        "No such page",
        "The dashboard has no page at this address.",
    );
    page::set_security_headers(res.headers_mut());
    res
}

/// The dashboard's routes (pages, forms, fragments and assets), with the security headers and
/// the CSRF gate applied. The caller's Host/Origin guard runs in front of it.
pub fn router(web: Arc<Web>) -> Router {
    pages::routes()
        .layer(axum::middleware::from_fn_with_state(
            web.clone(),
            page::csrf_gate,
        ))
        .route("/assets/{*path}", axum::routing::get(assets::serve))
        .layer(axum::middleware::from_fn(page::security_headers))
        .with_state(web)
}
