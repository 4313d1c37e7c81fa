//! Who may talk to the core (DESIGN.md §5.1): the Host header — exactly one — and an
//! absolute-form request target must name this gateway (no DNS rebinding, no smuggled
//! authority), an Origin must be the gateway's own (no cross-site requests or WebSockets), and
//! every API call but the health probes and the OpenAPI document carries the bearer token or,
//! from a signed-in dashboard browser, its cookie (plus the CSRF token when it changes
//! something); the OpenAI-compatible `/v1` takes the bearer token or a per-client API key
//! (`pryx-sk-…`, never accepted under `/api/`). The token is never accepted in a URL. Failed
//! authentication (wrong or revoked keys included) is logged and, past a threshold per client
//! address, answered with 429.

use crate::error::{ApiError, REQUEST, RequestIds};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pryx_protocol::ErrorCode;
use pryx_web::FailureLimiter;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Paths reachable without the token (still Host- and Origin-checked).
const PUBLIC: [&str; 3] = [
    "/api/v1/health",
    "/api/v1/health/ready",
    "/api/v1/openapi.json",
];
const WS_PATH: &str = "/api/v1/ws";
/// Mints browser login links: the bearer token only, never a browser's cookie.
pub const LOGIN_LINK_PATH: &str = "/api/v1/web/login";
/// Manages API keys: the bearer token only, never a browser's cookie (nor a key).
pub const API_KEYS_PATH: &str = "/api/v1/api-keys";

/// The API key a `/v1` request authenticated with; absent when it carried the gateway token.
#[derive(Debug, Clone)]
pub struct ClientKey(pub Arc<pryx_store::ApiKey>);

/// What the guard accepts.
pub struct Guard {
    token: String,
    hosts: Vec<String>,
    port: u16,
    /// Exposed beyond loopback: any IP-literal Host with our port is fine (rebinding needs a name).
    remote: bool,
    limiter: FailureLimiter,
}

impl Guard {
    /// `bind` is the listening address; `extra_hosts` are further names (with or without port)
    /// a remote deployment is reached by.
    pub fn new(
        token: String,
        bind: SocketAddr,
        extra_hosts: &[String],
        failures_per_minute: u32,
    ) -> Guard {
        let port = bind.port();
        let mut hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        match bind.ip() {
            IpAddr::V4(ip) => hosts.push(format!("{ip}:{port}")),
            IpAddr::V6(ip) => hosts.push(format!("[{ip}]:{port}")),
        }
        for h in extra_hosts {
            hosts.push(if h.contains(':') && !h.ends_with(']') {
                h.clone()
            } else {
                format!("{h}:{port}")
            });
        }
        hosts.iter_mut().for_each(|h| *h = h.to_ascii_lowercase());
        Guard {
            token,
            hosts,
            port,
            remote: !bind.ip().is_loopback(),
            limiter: FailureLimiter::new(failures_per_minute, Duration::from_secs(60)),
        }
    }

    /// Whether a Host header value names this gateway.
    pub fn host_ok(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        if self.hosts.contains(&host) {
            return true;
        }
        self.remote
            && host
                .parse::<SocketAddr>()
                .is_ok_and(|a| a.port() == self.port)
    }

    /// Whether an Origin header value is this gateway's own page.
    pub fn origin_ok(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|rest| !rest.contains('/') && self.host_ok(rest))
    }

    fn token_ok(&self, given: &str) -> bool {
        pryx_web::auth::constant_time_eq(given.as_bytes(), self.token.as_bytes())
    }
}

fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    ApiError::new(status, code, message).into_response()
}

/// Outermost layer: gives every request its ids (in error bodies and `x-request-id`).
pub async fn request_ids(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| format!("req-{}", uuid::Uuid::now_v7().simple()));
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let ids = RequestIds {
        request_id: request_id.clone(),
        trace_id: trace_id.clone(),
    };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut res = REQUEST.scope(ids, next.run(req)).await;
    tracing::debug!(%method, %path, status = res.status().as_u16(), request_id = %request_id, "served");
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Host, Origin and token checks.
pub async fn check(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let guard = &state.guard;
    // Channel deliveries arrive through the user's tunnel or proxy (another Host) and prove
    // themselves with the channel's own secret, checked by their handler.
    if req.uri().path().starts_with(crate::hooks::HOOKS_PREFIX) {
        return next.run(req).await;
    }
    let headers = req.headers();
    // Two Host headers let whatever sits in front of the gateway read one and the gateway the
    // other; HTTP says such a request is bad (RFC 9112 §3.2).
    if headers.get_all(header::HOST).iter().nth(1).is_some() {
        tracing::warn!(peer = %peer, "refused a request with more than one Host header");
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed,
            "the request has more than one Host header; send exactly one, naming this gateway (127.0.0.1 or localhost with the gateway's port)",
        );
    }
    // An absolute-form target (`GET http://host/path`) carries its own authority, which HTTP
    // says takes the place of Host, so it must name this gateway as well.
    if let Some(authority) = req.uri().authority()
        && !guard.host_ok(authority.as_str())
    {
        tracing::warn!(peer = %peer, authority = %authority, "refused a request target naming a foreign host");
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed,
            "the request target names another host; send a path (`GET /api/v1/…`) or this gateway's own address",
        );
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    match host {
        Some(h) if guard.host_ok(h) => {}
        other => {
            tracing::warn!(peer = %peer, host = ?other, "refused a request naming a foreign host");
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "the Host header does not name this gateway; connect to 127.0.0.1 or localhost with the gateway's port",
            );
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| guard.origin_ok(o))
    {
        tracing::warn!(peer = %peer, origin = ?origin, "refused a cross-origin request");
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "cross-origin requests are refused; only the gateway's own pages may call it",
        );
    }
    let path = req.uri().path().to_string();
    let path = path.as_str();
    if PUBLIC.contains(&path) {
        return next.run(req).await;
    }
    // The dashboard's pages sign browsers in with their own cookie (pryx-web); only the API
    // (and `/metrics`) needs a credential here. The OpenAI-compatible `/v1` and MCP's `/mcp` take a bearer
    // token or API key only: their clients are programs, never the dashboard's pages.
    let openai = crate::openai::is_openai_path(path) || crate::mcp::is_mcp_path(path);
    if !path.starts_with("/api/") && !openai && path != crate::metrics::METRICS_PATH {
        return next.run(req).await;
    }
    let Some(given) = bearer(headers) else {
        if path != LOGIN_LINK_PATH
            && !is_api_keys_path(path)
            && !openai
            && let Some(browser) = state.web.browser(headers)
        {
            return browser_call(browser, req, next).await;
        }
        tracing::info!(peer = %peer, %path, "refused a request without a token");
        return unauthorized(
            "missing bearer token: send `Authorization: Bearer <token>` with the token from the data dir's `token` file",
        );
    };
    if guard.token_ok(&given) {
        return next.run(req).await;
    }
    let mut wrong = "the bearer token is wrong; read it from the data dir's `token` file";
    if given.starts_with(pryx_store::API_KEY_PREFIX) {
        wrong = "API keys are accepted on the OpenAI-compatible /v1 and on /mcp only; /api/v1 takes the token from the data dir's `token` file";
        if openai {
            let store = state.core.store().clone();
            let found = tokio::task::spawn_blocking(move || store.use_api_key(&given)).await;
            match found {
                Ok(Ok(Some(key))) if !key.is_revoked() => {
                    req.extensions_mut().insert(ClientKey(Arc::new(key)));
                    return next.run(req).await;
                }
                Ok(Ok(Some(_))) => {
                    wrong = "this API key was revoked; make a new one with `pryx api-keys create`"
                }
                Ok(Ok(None)) => {
                    wrong = "the API key is wrong; list the valid ones with `pryx api-keys list` or make one with `pryx api-keys create`"
                }
                Ok(Err(e)) => return crate::ApiError::from(e).into_response(),
                Err(e) => {
                    return crate::ApiError::internal(format!("checking the API key failed: {e}"))
                        .into_response();
                }
            }
        }
    }
    // A wrong token is a guess: counted per address, logged until the limit, then refused with
    // 429 for the rest of the window. The right token always passes, so a flood of guesses
    // from a local page cannot lock the user's own clients out.
    let failures = guard.limiter.record(peer.ip());
    if failures > guard.limiter.max() {
        if failures == guard.limiter.max().saturating_add(1) {
            tracing::warn!(peer = %peer, "too many failed authentications; refusing further guesses for a minute");
        }
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unauthorized,
            "too many failed authentications from this address; wait a minute and use the token from the data dir's `token` file",
        );
    }
    tracing::warn!(peer = %peer, %path, failures, "authentication failed: wrong token or API key");
    unauthorized(wrong)
}

fn is_api_keys_path(path: &str) -> bool {
    path == API_KEYS_PATH || path.starts_with("/api/v1/api-keys/")
}

fn unauthorized(message: &str) -> Response {
    let mut res = refuse(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message);
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// An API call from a signed-in dashboard browser: a state-changing call must echo the
/// session's CSRF token in `x-csrf-token`, and a WebSocket upgrade must carry an Origin
/// (browsers always send one; the Origin itself was checked above).
async fn browser_call(browser: pryx_web::BrowserSession, req: Request, next: Next) -> Response {
    let safe = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if req.uri().path() == WS_PATH && !req.headers().contains_key(header::ORIGIN) {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "a browser WebSocket must come from the dashboard's own page",
        );
    }
    if !safe {
        let given = req
            .headers()
            .get(pryx_web::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !pryx_web::auth::csrf_ok(&browser, given) {
            tracing::warn!(browser = %browser.id, path = %req.uri().path(), "refused a browser API call without the CSRF token");
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "this call needs the page's CSRF token in `x-csrf-token`; reload the dashboard page",
            );
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(bind: &str) -> Guard {
        Guard::new(
            "secret".into(),
            bind.parse().unwrap(),
            &["pryx.example".into()],
            3,
        )
    }

    #[test]
    fn hosts_and_origins() {
        let g = guard("127.0.0.1:4000");
        assert!(g.host_ok("127.0.0.1:4000"));
        assert!(g.host_ok("LOCALHOST:4000"));
        assert!(g.host_ok("[::1]:4000"));
        assert!(g.host_ok("pryx.example:4000"));
        assert!(!g.host_ok("localhost"));
        assert!(!g.host_ok("127.0.0.1:4001"));
        assert!(!g.host_ok("evil.example:4000"));
        assert!(!g.host_ok("10.0.0.5:4000"));
        assert!(g.origin_ok("http://localhost:4000"));
        assert!(!g.origin_ok("https://localhost:4000"));
        assert!(!g.origin_ok("http://evil.example:4000"));
        assert!(!g.origin_ok("null"));
        assert!(!g.origin_ok("http://localhost:4000/x"));
        let remote = guard("0.0.0.0:4000");
        assert!(remote.host_ok("10.0.0.5:4000"));
        assert!(!remote.host_ok("rebind.example:4000"));
    }

    #[test]
    fn tokens() {
        let g = guard("127.0.0.1:1");
        assert!(g.token_ok("secret"));
        assert!(!g.token_ok("secreT"));
        assert!(!g.token_ok(""));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
    }
}
