use serde::{Deserialize, Serialize};

/// Stable machine-readable error codes (PRD §14). Surfaces switch on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    ValidationFailed,
    NotFound,
    Unauthorized,
    Forbidden,
    Conflict,
    Internal,
    ConfigInvalid,
    SecretMissing,
    StoreFailed,
    ToolDenied,
    ToolFailed,
    ToolTimeout,
    ApprovalTimeout,
    LlmRateLimited,
    LlmContextExceeded,
    LlmAuth,
    LlmBadRequest,
    LlmServer,
    LlmNetwork,
    LlmTimeout,
    LlmCircuitOpen,
    LlmUnsupported,
    LlmProtocol,
    LlmCancelled,
    BudgetExceeded,
    StepLimitReached,
    Cancelled,
    /// No provider (or no model) is configured yet: set one up, then retry.
    ProviderNotConfigured,
    /// Summarising a session's older messages failed; the history is untouched.
    CompactionFailed,
}

impl ErrorCode {
    /// The code as it appears on the wire, e.g. `LLM_RATE_LIMITED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "VALIDATION_FAILED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::ConfigInvalid => "CONFIG_INVALID",
            ErrorCode::SecretMissing => "SECRET_MISSING",
            ErrorCode::StoreFailed => "STORE_FAILED",
            ErrorCode::ToolDenied => "TOOL_DENIED",
            ErrorCode::ToolFailed => "TOOL_FAILED",
            ErrorCode::ToolTimeout => "TOOL_TIMEOUT",
            ErrorCode::ApprovalTimeout => "APPROVAL_TIMEOUT",
            ErrorCode::LlmRateLimited => "LLM_RATE_LIMITED",
            ErrorCode::LlmContextExceeded => "LLM_CONTEXT_EXCEEDED",
            ErrorCode::LlmAuth => "LLM_AUTH",
            ErrorCode::LlmBadRequest => "LLM_BAD_REQUEST",
            ErrorCode::LlmServer => "LLM_SERVER",
            ErrorCode::LlmNetwork => "LLM_NETWORK",
            ErrorCode::LlmTimeout => "LLM_TIMEOUT",
            ErrorCode::LlmCircuitOpen => "LLM_CIRCUIT_OPEN",
            ErrorCode::LlmUnsupported => "LLM_UNSUPPORTED",
            ErrorCode::LlmProtocol => "LLM_PROTOCOL",
            ErrorCode::LlmCancelled => "LLM_CANCELLED",
            ErrorCode::BudgetExceeded => "BUDGET_EXCEEDED",
            ErrorCode::StepLimitReached => "STEP_LIMIT_REACHED",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::ProviderNotConfigured => "PROVIDER_NOT_CONFIGURED",
            ErrorCode::CompactionFailed => "COMPACTION_FAILED",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error object of PRD §14.2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub timestamp: String,
}

/// `{"error": {...}}` as returned by every failing API call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_wire_names() {
        for code in [
            ErrorCode::LlmRateLimited,
            ErrorCode::ToolDenied,
            ErrorCode::StepLimitReached,
        ] {
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_string()));
        }
    }
}
