//! Typed errors of model calls and their mapping to wire error codes.

use std::time::Duration;

use pryx_protocol::ErrorCode;

/// Why a model call failed. Messages never contain API keys.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("provider {provider} is rate limiting requests: {message}; wait{} and try again, or switch to another model", retry_hint(*retry_after))]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
        message: String,
    },
    #[error(
        "the conversation is too long for this model ({message}); compact or shorten it, or pick a model with a larger context window"
    )]
    ContextExceeded { message: String },
    #[error(
        "provider {provider} rejected the API key{}: {message}; check the key configured for this provider", http_hint(*.status)
    )]
    /// `status` is 0 when the error arrived inside a stream.
    Auth {
        provider: String,
        status: u16,
        message: String,
    },
    #[error(
        "provider {provider} rejected the request{}: {message}; check the model name and request options", http_hint(*.status)
    )]
    BadRequest {
        provider: String,
        status: u16,
        message: String,
    },
    #[error(
        "provider {provider} failed{}: {message}; try again later or switch provider", http_hint(*.status)
    )]
    Server {
        provider: String,
        status: u16,
        message: String,
    },
    #[error(
        "could not reach provider {provider}: {message}; check the network and the provider's base URL"
    )]
    Network { provider: String, message: String },
    #[error("provider {provider} {}; try again, or raise `{}` in the provider settings", .phase.what_happened(*.after), .phase.setting())]
    Timeout {
        provider: String,
        phase: TimeoutPhase,
        after: Duration,
    },
    #[error("provider {provider} is failing repeatedly, so calls are paused for about {}s; try again then or switch provider", .retry_in.as_secs().max(1))]
    CircuitOpen {
        provider: String,
        retry_in: Duration,
    },
    #[error(
        "provider {provider} sent a response this client cannot understand: {message}; try again, and report it if it persists"
    )]
    Protocol { provider: String, message: String },
    #[error("the model call was cancelled")]
    Cancelled,
}

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    Connect,
    FirstToken,
    /// The answer had started streaming, then nothing usable arrived for too long.
    Idle,
    /// The whole call (every attempt, retry waits included) ran past its overall limit, e.g. a
    /// server that keeps sending just often enough to dodge the idle timeout.
    Call,
}

impl TimeoutPhase {
    /// The provider setting that bounds this wait, so the message can say what to raise.
    pub fn setting(&self) -> &'static str {
        match self {
            TimeoutPhase::Connect => "connect_timeout_ms",
            TimeoutPhase::FirstToken => "first_token_timeout_ms",
            TimeoutPhase::Idle => "stream_idle_timeout_ms",
            TimeoutPhase::Call => "call_timeout_ms",
        }
    }

    fn what_happened(&self, after: Duration) -> String {
        let secs = after.as_secs_f64();
        match self {
            TimeoutPhase::Connect | TimeoutPhase::FirstToken => {
                format!("did not {self} within {secs}s")
            }
            TimeoutPhase::Idle => {
                format!("stopped sending in the middle of its answer (nothing for {secs}s)")
            }
            TimeoutPhase::Call => format!("did not finish its answer within {secs}s"),
        }
    }
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "accept the connection",
            TimeoutPhase::FirstToken => "start answering",
            TimeoutPhase::Idle => "keep streaming its answer",
            TimeoutPhase::Call => "finish its answer",
        })
    }
}

/// `" (HTTP 500)"`, or nothing for errors that arrived inside a stream (status 0).
fn http_hint(status: u16) -> String {
    if status == 0 {
        String::new()
    } else {
        format!(" (HTTP {status})")
    }
}

fn retry_hint(after: Option<Duration>) -> String {
    match after {
        Some(d) => format!(" {}s", d.as_secs().max(1)),
        None => String::new(),
    }
}

impl LlmError {
    /// The stable wire code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            LlmError::RateLimited { .. } => ErrorCode::LlmRateLimited,
            LlmError::ContextExceeded { .. } => ErrorCode::LlmContextExceeded,
            LlmError::Auth { .. } => ErrorCode::LlmAuth,
            LlmError::BadRequest { .. } => ErrorCode::LlmBadRequest,
            LlmError::Server { .. } => ErrorCode::LlmServer,
            LlmError::Network { .. } => ErrorCode::LlmNetwork,
            LlmError::Timeout { .. } => ErrorCode::LlmTimeout,
            LlmError::CircuitOpen { .. } => ErrorCode::LlmCircuitOpen,
            LlmError::Protocol { .. } => ErrorCode::LlmProtocol,
            LlmError::Cancelled => ErrorCode::LlmCancelled,
        }
    }

    /// How long the provider asked us to wait, if it said.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            LlmError::RateLimited { retry_after, .. } => retry_after.map(|d| d.as_millis() as u64),
            LlmError::CircuitOpen { retry_in, .. } => Some(retry_in.as_millis() as u64),
            _ => None,
        }
    }

    /// Machine-readable details for the error body (`retry_after_ms` when known).
    pub fn details(&self) -> serde_json::Value {
        match self.retry_after_ms() {
            Some(ms) => serde_json::json!({ "retry_after_ms": ms }),
            None => serde_json::Value::Null,
        }
    }
}
