use pryx_protocol::ErrorCode;

/// Why a turn could not run or had to stop abnormally.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Llm(#[from] pryx_llm::LlmError),
    #[error("{0}")]
    Constraint(#[from] pryx_catalog::ConstraintError),
    #[error("the local store failed: {0}; run `pryx doctor`")]
    Store(#[from] pryx_store::StoreError),
    /// A message that cannot fit the model even alone; refused before it is stored.
    #[error(
        "the message is too large for {model}: with the system prompt and tool definitions it needs about {estimated} tokens and the model takes at most {limit}; shorten or split it, or pick a model with a larger context"
    )]
    PromptTooLarge {
        model: String,
        estimated: u32,
        limit: u32,
    },
    #[error("session {0} not found; list sessions with `pryx sessions` or start a new one")]
    SessionNotFound(String),
    #[error("tool {tool} failed fatally: {message}")]
    FatalTool { tool: String, message: String },
    /// Summarising older messages failed; the history is untouched.
    #[error("compaction failed: {0}")]
    Compaction(String),
    /// Nothing (more) to summarise, or too much for one summary: the history stays whole.
    #[error("{0}")]
    CannotCompact(String),
    /// Pinned messages (with the system prompt and tools) alone fill the model's window.
    #[error("{0}")]
    PinnedTooLarge(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AgentError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AgentError::Llm(e) => e.code(),
            AgentError::Constraint(e) => e.code(),
            AgentError::PromptTooLarge { .. } => ErrorCode::LlmContextExceeded,
            AgentError::Store(_) => ErrorCode::StoreFailed,
            AgentError::SessionNotFound(_) => ErrorCode::NotFound,
            AgentError::FatalTool { .. } => ErrorCode::ToolFailed,
            AgentError::Compaction(_) => ErrorCode::CompactionFailed,
            AgentError::CannotCompact(_) => ErrorCode::Conflict,
            AgentError::PinnedTooLarge(_) => ErrorCode::LlmContextExceeded,
            AgentError::Internal(_) => ErrorCode::Internal,
        }
    }
}
