//! A session's context: how full it is, compaction, pins and forks.

use super::{Client, encode};
use crate::error::ClientError;
use pryx_protocol::api::{MessageView, SessionSummary};
use pryx_protocol::{ContextCompacted, ForkRequest, ProcessList, SessionContext};
use reqwest::Method;

impl Client {
    /// `GET /sessions/{id}/context`.
    pub async fn session_context(&self, id: &str) -> Result<SessionContext, ClientError> {
        let path = format!("/sessions/{}/context", encode(id));
        self.call(
            "GET /sessions/{id}/context",
            self.request(Method::GET, &path),
        )
        .await
    }

    /// `POST /sessions/{id}/compact`: summarises the messages before the latest request.
    pub async fn compact_session(&self, id: &str) -> Result<ContextCompacted, ClientError> {
        let path = format!("/sessions/{}/compact", encode(id));
        self.call(
            "POST /sessions/{id}/compact",
            self.request(Method::POST, &path),
        )
        .await
    }

    /// `PUT` (pin) or `DELETE` (unpin) `/sessions/{id}/messages/{message_id}/pin`.
    pub async fn pin_message(
        &self,
        session_id: &str,
        message_id: &str,
        pinned: bool,
    ) -> Result<MessageView, ClientError> {
        let path = format!(
            "/sessions/{}/messages/{}/pin",
            encode(session_id),
            encode(message_id)
        );
        let (method, what) = if pinned {
            (Method::PUT, "PUT /sessions/{id}/messages/{message_id}/pin")
        } else {
            (
                Method::DELETE,
                "DELETE /sessions/{id}/messages/{message_id}/pin",
            )
        };
        self.call(what, self.request(method, &path)).await
    }

    /// `POST /sessions/{id}/fork`: a new session with the messages up to `message_id` (the
    /// last by default).
    pub async fn fork_session(
        &self,
        id: &str,
        message_id: Option<&str>,
    ) -> Result<SessionSummary, ClientError> {
        let path = format!("/sessions/{}/fork", encode(id));
        let body = ForkRequest {
            message_id: message_id.map(str::to_owned),
        };
        self.call(
            "POST /sessions/{id}/fork",
            self.request(Method::POST, &path).json(&body),
        )
        .await
    }

    /// `GET /sessions/{id}/processes`: the session's background processes.
    pub async fn session_processes(&self, id: &str) -> Result<ProcessList, ClientError> {
        let path = format!("/sessions/{}/processes", encode(id));
        self.call(
            "GET /sessions/{id}/processes",
            self.request(Method::GET, &path),
        )
        .await
    }
}
