//! Errors of `/v1` in OpenAI's shape, so OpenAI clients raise their usual exceptions; every
//! refusal the rest of the gateway makes (token, limits, unknown paths) is reshaped on the way
//! out by [`reshape`].

use crate::error::ApiError;
use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pryx_protocol::openai::{OpenAiErrorBody, OpenAiErrorEnvelope};
use pryx_protocol::{ErrorCode, ErrorEnvelope};

/// A refused or failed `/v1` call.
#[derive(Debug)]
pub struct OpenAiError {
    pub status: StatusCode,
    pub message: String,
    pub param: Option<String>,
    pub code: Option<String>,
    /// A failed turn's trace (`pryx trace <id>` shows its spans).
    pub trace_id: Option<String>,
}

impl OpenAiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        OpenAiError {
            status,
            message: message.into(),
            param: None,
            code: None,
            trace_id: None,
        }
    }

    /// A 400 naming the parameter at fault.
    pub fn param(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message).with_param(param)
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn with_trace(mut self, trace_id: Option<String>) -> Self {
        self.trace_id = trace_id;
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn body(&self) -> OpenAiErrorEnvelope {
        OpenAiErrorEnvelope {
            error: OpenAiErrorBody {
                message: self.message.clone(),
                kind: kind_of(self.status).to_string(),
                param: self.param.clone(),
                code: self.code.clone(),
                trace_id: self.trace_id.clone(),
            },
        }
    }
}

/// OpenAI's error `type` for a status.
fn kind_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "authentication_error",
        StatusCode::FORBIDDEN => "permission_error",
        StatusCode::TOO_MANY_REQUESTS => "rate_limit_error",
        s if s.is_server_error() => "server_error",
        _ => "invalid_request_error",
    }
}

/// The Pryx error code as an OpenAI-style code: `VALIDATION_FAILED` → `validation_failed`.
fn code_of(code: ErrorCode) -> String {
    code.as_str().to_ascii_lowercase()
}

impl From<ApiError> for OpenAiError {
    fn from(e: ApiError) -> Self {
        let code = match e.status {
            StatusCode::UNAUTHORIZED => "invalid_api_key".to_string(),
            _ => code_of(e.code),
        };
        OpenAiError::new(e.status, e.message).with_code(code)
    }
}

impl From<pryx_core::CoreError> for OpenAiError {
    fn from(e: pryx_core::CoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(message = %self.message, "OpenAI-compatible request failed");
        }
        (self.status, Json(self.body())).into_response()
    }
}

/// Whether a path belongs to the OpenAI-compatible API.
pub fn is_openai_path(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

/// Error bodies are small; anything larger is passed on as it is.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Rewrites the gateway's own error bodies (`{"error": {"code", …}}`) on `/v1` paths into
/// OpenAI's shape, keeping the status and headers (`WWW-Authenticate`, `Retry-After`).
pub async fn reshape(req: Request, next: Next) -> Response {
    if !is_openai_path(req.uri().path()) {
        return next.run(req).await;
    }
    let res = next.run(req).await;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if res.status().is_success() || !is_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return OpenAiError::new(parts.status, "the request failed").into_response();
    };
    let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let api = ApiError::new(parts.status, envelope.error.code, envelope.error.message);
    let reshaped = OpenAiError::from(api).body();
    let Ok(json) = serde_json::to_vec(&reshaped) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}
