//! What can go wrong talking to a core, with the API's error code when the core answered.

use pryx_protocol::{ErrorBody, ErrorCode};
use std::path::PathBuf;

/// Every failure of the client. API errors keep the core's code so callers switch on it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The core answered with the error body of PRD §14.2.
    #[error("{} ({}): {}", .body.code, .status, .body.message)]
    Api { status: u16, body: Box<ErrorBody> },
    /// The core answered with an unexpected status and no error body.
    #[error("the core answered {status} without an error body: {snippet}")]
    Status { status: u16, snippet: String },
    /// The answer was not the expected JSON.
    #[error(
        "cannot read the core's answer to {what}: {detail}; client and core versions may differ"
    )]
    Decode { what: String, detail: String },
    /// The core could not be reached.
    #[error("cannot reach the core at {url}: {detail}; is `pryx serve` running?")]
    Unreachable { url: String, detail: String },
    /// The base URL is not an `http://` URL.
    #[error("invalid core URL {url:?}: {detail}")]
    InvalidUrl { url: String, detail: String },
    /// No `metadata.json`: no core is running on this data dir.
    #[error("no core is running on {} (no metadata.json); start one with `pryx serve`", .dir.display())]
    NotRunning { dir: PathBuf },
    /// `metadata.json` names a process that is gone (the core crashed or was killed).
    #[error(
        "metadata.json names process {pid}, which is not running; the core stopped without cleaning up, start it again with `pryx serve`"
    )]
    Stale { pid: u32 },
    /// `metadata.json` exists but cannot be read or parsed.
    #[error("cannot read {}: {detail}; delete it if no core is running", .path.display())]
    Metadata { path: PathBuf, detail: String },
    /// The API token file cannot be read.
    #[error("cannot read the API token {}: {detail}; it is created by `pryx serve` and must be readable by you", .path.display())]
    Token { path: PathBuf, detail: String },
    /// The event socket failed (handshake refused, protocol error).
    #[error("event socket: {0}")]
    WebSocket(String),
    /// The subscription ended (dropped, or it gave up reconnecting) or the socket closed before
    /// an answer arrived.
    #[error("the event subscription is closed: {0}")]
    Closed(String),
}

impl ClientError {
    /// The API error code, when the core answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// The HTTP status, when the core answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the core could not be reached at all (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. })
    }

    pub(crate) fn from_status(status: u16, text: &str) -> ClientError {
        match serde_json::from_str::<pryx_protocol::ErrorEnvelope>(text) {
            Ok(env) => ClientError::Api {
                status,
                body: Box::new(env.error),
            },
            Err(_) => ClientError::Status {
                status,
                snippet: text.chars().take(200).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_keep_their_code() {
        let text =
            r#"{"error":{"code":"NOT_FOUND","message":"session x not found","timestamp":"t"}}"#;
        let e = ClientError::from_status(404, text);
        assert_eq!(e.code(), Some(ErrorCode::NotFound));
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.to_string(), "NOT_FOUND (404): session x not found");
        let text = r#"{"error":{"code":"PROVIDER_NOT_CONFIGURED","message":"no provider is configured; run pryx setup","timestamp":"t"}}"#;
        let e = ClientError::from_status(409, text);
        assert_eq!(e.code(), Some(ErrorCode::ProviderNotConfigured));
        assert_eq!(e.status(), Some(409));
        let e = ClientError::from_status(502, "<html>bad gateway</html>");
        assert_eq!(e.code(), None);
        assert!(e.to_string().contains("502"), "{e}");
    }
}
