//! API errors in the PRD §14.2 shape, stamped with the request's ids.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pryx_core::CoreError;
use pryx_protocol::{ErrorBody, ErrorCode, ErrorEnvelope};

/// The ids of the request being served (set by the outermost middleware).
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub trace_id: String,
}

tokio::task_local! {
    pub(crate) static REQUEST: RequestIds;
}

/// A failed API call.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub details: serde_json::Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed,
            message,
        )
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            message,
        )
    }
    /// For a well-formed body whose values are refused (a config check, a token the service
    /// rejects): 422 instead of 400, which stays for malformed requests.
    pub fn unprocessable_if_refused(mut self) -> Self {
        if matches!(
            self.code,
            ErrorCode::ValidationFailed | ErrorCode::ConfigInvalid
        ) {
            self.status = StatusCode::UNPROCESSABLE_ENTITY;
        }
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// The body, with the current request's ids when there is one.
    pub fn body(&self) -> ErrorEnvelope {
        let ids = REQUEST.try_with(Clone::clone).ok();
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: self.message.clone(),
                details: self.details.clone(),
                request_id: ids.as_ref().map(|i| i.request_id.clone()),
                trace_id: ids.map(|i| i.trace_id),
                timestamp: pryx_store::now_ts(),
            },
        }
    }
}

/// The HTTP status that goes with an error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::ValidationFailed | ErrorCode::ConfigInvalid => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::ToolDenied => StatusCode::FORBIDDEN,
        ErrorCode::Conflict | ErrorCode::ProviderNotConfigured => StatusCode::CONFLICT,
        ErrorCode::LlmRateLimited => StatusCode::TOO_MANY_REQUESTS,
        // Only ever an answer at accept time: the message cannot fit the model.
        ErrorCode::LlmContextExceeded => StatusCode::PAYLOAD_TOO_LARGE,
        // The model could not summarise: an upstream failure, the session unchanged.
        ErrorCode::CompactionFailed => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.code, message = %self.message, "request failed");
        }
        (self.status, Json(self.body())).into_response()
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let status = match &e {
            CoreError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            CoreError::Unusable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            // Nothing was accepted; it works again once the disk has room.
            other if other.cannot_write() => StatusCode::SERVICE_UNAVAILABLE,
            other => status_of(other.code()),
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<pryx_store::StoreError> for ApiError {
    fn from(e: pryx_store::StoreError) -> Self {
        CoreError::from(e).into()
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(format!("invalid query string: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(format!("invalid path: {}", r.body_text()))
    }
}

/// Runs a store query off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("a background task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn body_carries_the_request_ids() {
        let ids = RequestIds {
            request_id: "r1".into(),
            trace_id: "t1".into(),
        };
        let body = REQUEST
            .scope(ids, async { ApiError::not_found("gone").body() })
            .await;
        assert_eq!(body.error.request_id.as_deref(), Some("r1"));
        assert_eq!(body.error.trace_id.as_deref(), Some("t1"));
        assert_eq!(body.error.code, ErrorCode::NotFound);
        assert_eq!(status_of(ErrorCode::Conflict), StatusCode::CONFLICT);
    }
}
