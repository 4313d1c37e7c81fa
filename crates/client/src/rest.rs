//! [`Client`] and one typed method per REST endpoint of `/api/v1`. The endpoints that configure
//! a running core (providers, models, agents, a session's settings) are in [`setup`].

mod api_keys;
mod channels;
mod context;
mod setup;
mod tasks;
mod telemetry;
mod update;

use crate::error::ClientError;
use pryx_protocol::Surface;
use pryx_protocol::api::{
    AnswerApproval, ApprovalAccepted, ApprovalDecision, ApprovalScope, AuditList, CreateSession,
    Diagnostics, GrantView, Health, ModelChoice, ModelView, PendingApproval, PolicyChoice,
    SendMessage, SessionDetail, SessionList, SessionSummary, SpanList, ToolView, TurnAccepted,
    TurnCancelled,
};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// A handle on one core's API. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    pub base: String,
    pub token: String,
    /// Which surface this client is; recorded on approval answers sent over the socket.
    pub surface: Surface,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of logs.
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

/// Percent-encodes one path segment or query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// A client of the core at `base_url` (`http://127.0.0.1:PORT`, with or without `/api/v1`)
    /// presenting `token`.
    pub fn new(base_url: &str, token: impl Into<String>) -> Result<Client, ClientError> {
        let invalid = |detail: &str| ClientError::InvalidUrl {
            url: base_url.to_string(),
            detail: detail.to_string(),
        };
        let trimmed = base_url.trim().trim_end_matches('/');
        let base = trimmed.strip_suffix("/api/v1").unwrap_or(trimmed);
        let rest = base.strip_prefix("http://").ok_or_else(|| {
            invalid("the core speaks plain http on loopback; use http://HOST:PORT")
        })?;
        if rest.is_empty() || rest.contains('/') {
            return Err(invalid("expected http://HOST:PORT"));
        }
        let http = pryx_http::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| invalid(&e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: base.to_string(),
                token: token.into(),
                surface: Surface::Cli,
            }),
        })
    }

    /// The same client announcing itself as `surface` on the event socket.
    pub fn with_surface(self, surface: Surface) -> Client {
        Client {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                base: self.inner.base.clone(),
                token: self.inner.token.clone(),
                surface,
            }),
        }
    }

    /// `http://host:port` of the core.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.inner
            .http
            .request(method, format!("{}/api/v1{path}", self.inner.base))
            .bearer_auth(&self.inner.token)
    }

    async fn send(
        &self,
        what: &str,
        req: RequestBuilder,
    ) -> Result<(StatusCode, String), ClientError> {
        let res = req.send().await.map_err(|e| ClientError::Unreachable {
            url: self.inner.base.clone(),
            detail: format!("{what}: {e}"),
        })?;
        let status = res.status();
        let text = res.text().await.map_err(|e| ClientError::Unreachable {
            url: self.inner.base.clone(),
            detail: format!("{what}: reading the answer: {e}"),
        })?;
        Ok((status, text))
    }

    /// Sends `req`; a success status is decoded as `T`, anything else becomes [`ClientError`].
    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        req: RequestBuilder,
    ) -> Result<T, ClientError> {
        let (status, text) = self.send(what, req).await?;
        if !status.is_success() {
            return Err(ClientError::from_status(status.as_u16(), &text));
        }
        decode(what, &text)
    }

    /// Sends `req` and expects a success without a body (`204`).
    async fn call_empty(&self, what: &str, req: RequestBuilder) -> Result<(), ClientError> {
        let (status, text) = self.send(what, req).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(ClientError::from_status(status.as_u16(), &text))
        }
    }

    /// `GET /health`: the process answers (no token needed).
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.call("GET /health", self.request(Method::GET, "/health"))
            .await
    }

    /// `GET /health/ready`. A core that is not ready answers 503 with `status: unavailable`;
    /// that is returned as `Ok` too, so callers read `status`.
    pub async fn ready(&self) -> Result<Health, ClientError> {
        let what = "GET /health/ready";
        let (status, text) = self
            .send(what, self.request(Method::GET, "/health/ready"))
            .await?;
        if status.is_success() || status == StatusCode::SERVICE_UNAVAILABLE {
            decode(what, &text)
        } else {
            Err(ClientError::from_status(status.as_u16(), &text))
        }
    }

    /// `GET /diagnostics`: components and live figures of the core.
    pub async fn diagnostics(&self) -> Result<Diagnostics, ClientError> {
        self.call(
            "GET /diagnostics",
            self.request(Method::GET, "/diagnostics"),
        )
        .await
    }

    /// `GET /models`: the models of the configured providers, configured first; `default` marks
    /// the model new sessions run on. [`Client::models_for`] lists one provider's.
    pub async fn models(&self) -> Result<Vec<ModelView>, ClientError> {
        self.models_for(None).await
    }

    /// `GET /tools`.
    pub async fn tools(&self) -> Result<Vec<ToolView>, ClientError> {
        let list: pryx_protocol::api::ToolList = self
            .call("GET /tools", self.request(Method::GET, "/tools"))
            .await?;
        Ok(list.tools)
    }

    /// `GET /audit`: the latest `limit` entries (core default 100), optionally of one session.
    pub async fn audit(
        &self,
        session_id: Option<&str>,
        limit: Option<u32>,
    ) -> Result<AuditList, ClientError> {
        let mut query = Vec::new();
        if let Some(s) = session_id {
            query.push(format!("session_id={}", encode(s)));
        }
        if let Some(l) = limit {
            query.push(format!("limit={l}"));
        }
        let path = with_query("/audit", &query);
        self.call("GET /audit", self.request(Method::GET, &path))
            .await
    }

    /// `GET /sessions`: one page, newest first.
    pub async fn list_sessions(
        &self,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> Result<SessionList, ClientError> {
        let path = with_query("/sessions", &page(limit, offset));
        self.call("GET /sessions", self.request(Method::GET, &path))
            .await
    }

    /// `GET /sessions?q=`: sessions whose messages match every term, best first, with snippets.
    pub async fn search_sessions(
        &self,
        text: &str,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> Result<SessionList, ClientError> {
        let mut query = vec![format!("q={}", encode(text))];
        query.extend(page(limit, offset));
        let path = with_query("/sessions", &query);
        self.call("GET /sessions?q", self.request(Method::GET, &path))
            .await
    }

    /// `POST /sessions`.
    pub async fn create_session(
        &self,
        body: &CreateSession,
    ) -> Result<SessionSummary, ClientError> {
        self.call(
            "POST /sessions",
            self.request(Method::POST, "/sessions").json(body),
        )
        .await
    }

    /// `GET /sessions/{id}`: the session, its messages and its last event version.
    pub async fn get_session(&self, id: &str) -> Result<SessionDetail, ClientError> {
        let path = format!("/sessions/{}", encode(id));
        self.call("GET /sessions/{id}", self.request(Method::GET, &path))
            .await
    }

    /// `GET /sessions/{id}/spans`: the session's trace timeline, oldest first.
    pub async fn session_spans(&self, id: &str) -> Result<SpanList, ClientError> {
        let path = format!("/sessions/{}/spans", encode(id));
        self.call("GET /sessions/{id}/spans", self.request(Method::GET, &path))
            .await
    }

    /// `DELETE /sessions/{id}` (refused with `CONFLICT` while a turn runs there).
    pub async fn delete_session(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/sessions/{}", encode(id));
        self.call_empty("DELETE /sessions/{id}", self.request(Method::DELETE, &path))
            .await
    }

    /// `POST /sessions/{id}/messages`: starts a turn and returns at once; its events follow
    /// `after_version` on the session, ending with `turn.completed`.
    pub async fn send_message(
        &self,
        session_id: &str,
        content: &str,
    ) -> Result<TurnAccepted, ClientError> {
        let path = format!("/sessions/{}/messages", encode(session_id));
        let body = SendMessage {
            content: content.to_string(),
        };
        self.call(
            "POST /sessions/{id}/messages",
            self.request(Method::POST, &path).json(&body),
        )
        .await
    }

    /// `POST /turns/{id}/cancel`.
    /// `POST /sessions/{id}/retry`: runs the session's last user message again as a new turn,
    /// on `model` when given (the session moves to it), after taking back what it got.
    pub async fn retry_last(
        &self,
        session_id: &str,
        model: Option<&str>,
    ) -> Result<TurnAccepted, ClientError> {
        let path = format!("/sessions/{}/retry", encode(session_id));
        let body = pryx_protocol::api::RetryTurn {
            model: model.map(str::to_owned),
        };
        self.call(
            "POST /sessions/{id}/retry",
            self.request(Method::POST, &path).json(&body),
        )
        .await
    }

    pub async fn cancel_turn(&self, turn_id: &str) -> Result<TurnCancelled, ClientError> {
        let path = format!("/turns/{}/cancel", encode(turn_id));
        self.call("POST /turns/{id}/cancel", self.request(Method::POST, &path))
            .await
    }

    /// `GET /approvals`: questions waiting for an answer, oldest first.
    pub async fn pending_approvals(&self) -> Result<Vec<PendingApproval>, ClientError> {
        let list: pryx_protocol::api::ApprovalList = self
            .call("GET /approvals", self.request(Method::GET, "/approvals"))
            .await?;
        Ok(list.approvals)
    }

    /// `POST /approvals/{id}`. The first answer from any surface wins; a later one fails with
    /// `NOT_FOUND`.
    pub async fn answer_approval(
        &self,
        id: &str,
        decision: ApprovalDecision,
        scope: ApprovalScope,
    ) -> Result<ApprovalAccepted, ClientError> {
        let path = format!("/approvals/{}", encode(id));
        let body = AnswerApproval {
            decision,
            scope,
            surface: Some(self.inner.surface),
        };
        self.call(
            "POST /approvals/{id}",
            self.request(Method::POST, &path).json(&body),
        )
        .await
    }

    /// `GET /approvals/grants`: every standing grant, newest first.
    pub async fn grants(&self) -> Result<Vec<GrantView>, ClientError> {
        let list: pryx_protocol::api::GrantList = self
            .call(
                "GET /approvals/grants",
                self.request(Method::GET, "/approvals/grants"),
            )
            .await?;
        Ok(list.grants)
    }

    /// `DELETE /approvals/grants/{id}`: the next identical call asks again. Audited as revoked
    /// by this client's surface. An unknown id fails with `NOT_FOUND`.
    pub async fn revoke_grant(&self, id: &str) -> Result<(), ClientError> {
        let surface = self.inner.surface.as_str();
        let path = format!("/approvals/grants/{}?surface={surface}", encode(id));
        self.call_empty(
            "DELETE /approvals/grants/{id}",
            self.request(Method::DELETE, &path),
        )
        .await
    }

    /// `PUT /policy`: the core's default policy, which new sessions run under (a built-in mode or
    /// a file stem in the core's `policies/`); the core keeps it across restarts. An unknown name
    /// fails with `NOT_FOUND`, a path or malformed name with `VALIDATION_FAILED`. One session's
    /// policy is changed with [`Client::update_session`].
    pub async fn set_policy(&self, name: &str) -> Result<PolicyChoice, ClientError> {
        let body = PolicyChoice {
            name: name.to_string(),
        };
        self.call(
            "PUT /policy",
            self.request(Method::PUT, "/policy").json(&body),
        )
        .await
    }

    /// `PUT /model`: the core's default model (`provider/model`), which new sessions run on; the
    /// core keeps it across restarts and answers the full id in use. An unknown provider or model
    /// fails with `NOT_FOUND`, a malformed id with `VALIDATION_FAILED`. One session's model is
    /// changed with [`Client::update_session`].
    pub async fn set_model(&self, id: &str) -> Result<ModelChoice, ClientError> {
        let body = ModelChoice { id: id.to_string() };
        self.call(
            "PUT /model",
            self.request(Method::PUT, "/model").json(&body),
        )
        .await
    }

    /// `ws://host:port/api/v1/ws?surface=…`.
    pub(crate) fn ws_url(&self) -> String {
        let host = self.inner.base.trim_start_matches("http://");
        let surface = serde_json::to_value(self.inner.surface)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "cli".to_string());
        format!("ws://{host}/api/v1/ws?surface={surface}")
    }
}

fn page(limit: Option<u32>, offset: Option<u32>) -> Vec<String> {
    let mut q = Vec::new();
    if let Some(l) = limit {
        q.push(format!("limit={l}"));
    }
    if let Some(o) = offset {
        q.push(format!("offset={o}"));
    }
    q
}

fn with_query(path: &str, query: &[String]) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn decode<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, ClientError> {
    serde_json::from_str(text).map_err(|e| ClientError::Decode {
        what: what.to_string(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_and_checked() {
        let c = Client::new("http://127.0.0.1:4000/api/v1/", "t").unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:4000");
        assert_eq!(c.ws_url(), "ws://127.0.0.1:4000/api/v1/ws?surface=cli");
        let c = c.with_surface(Surface::Tui);
        assert_eq!(c.ws_url(), "ws://127.0.0.1:4000/api/v1/ws?surface=tui");
        assert!(Client::new("https://x:1", "t").is_err());
        assert!(Client::new("127.0.0.1:4000", "t").is_err());
        assert!(Client::new("http://h:1/other", "t").is_err());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("a b&c/é"), "a%20b%26c%2F%C3%A9");
        assert_eq!(with_query("/x", &page(Some(5), None)), "/x?limit=5");
        assert_eq!(with_query("/x", &[]), "/x");
    }
}
