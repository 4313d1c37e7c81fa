use pryx_protocol::ErrorCode;

/// Why the core refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("session {0} not found; list sessions with GET /api/v1/sessions")]
    SessionNotFound(String),
    #[error("session {0} has no message {1}; GET /api/v1/sessions/{0} lists its messages")]
    MessageNotFound(String, String),
    #[error("turn {0} not found; it may have finished already")]
    TurnNotFound(String),
    #[error(
        "no standing grant with id {0}; list them with `pryx approvals list` or GET /api/v1/approvals/grants"
    )]
    GrantNotFound(String),
    #[error("no channel with id {0}; list them with `pryx channels list`")]
    ChannelNotFound(String),
    #[error("no task with id or name {0}; list them with `pryx tasks list`")]
    TaskNotFound(String),
    /// Something else named in the request does not exist; the message says where to look.
    #[error("{0}")]
    NotFound(String),
    /// Well-formed, but it cannot be done as asked (a cron expression that does not parse, a
    /// time in the past, an unknown agent or channel): HTTP 422.
    #[error("{0}")]
    Unusable(String),
    /// A channel's request that did not prove where it came from (wrong secret or signature).
    #[error("{0}")]
    Unauthenticated(String),
    #[error("session {0} already has a running turn; wait for turn.completed or cancel it first")]
    SessionBusy(String),
    /// The request is fine but the session's state does not allow it now.
    #[error("{0}")]
    Conflict(String),
    #[error("the core is shutting down; retry against the next core")]
    ShuttingDown,
    #[error("{0}")]
    Invalid(String),
    #[error("the local store failed: {0}; run `pryx doctor`")]
    Store(#[from] pryx_store::StoreError),
    /// A turn run in this task ([`crate::Core::run_turn`]) failed.
    #[error(transparent)]
    Turn(#[from] pryx_agent::AgentError),
    /// A setting could not be used (no provider yet, an unknown name, a bad workspace).
    #[error(transparent)]
    Setup(#[from] crate::setup::SetupError),
    /// Writing `config.json` failed or was refused.
    #[error(transparent)]
    Config(#[from] pryx_config::ConfigError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    /// The store could not write (full disk, read-only data dir): nothing is wrong with the
    /// request, and it can succeed later.
    pub fn cannot_write(&self) -> bool {
        use pryx_store::StoreError::CannotWrite;
        matches!(
            self,
            CoreError::Store(CannotWrite(_))
                | CoreError::Turn(pryx_agent::AgentError::Store(CannotWrite(_)))
        )
    }

    /// The wire code surfaces switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::SessionNotFound(_)
            | CoreError::MessageNotFound(..)
            | CoreError::TurnNotFound(_)
            | CoreError::GrantNotFound(_)
            | CoreError::ChannelNotFound(_)
            | CoreError::TaskNotFound(_)
            | CoreError::NotFound(_) => ErrorCode::NotFound,
            CoreError::SessionBusy(_) | CoreError::Conflict(_) => ErrorCode::Conflict,
            CoreError::ShuttingDown => ErrorCode::Internal,
            CoreError::Unauthenticated(_) => ErrorCode::Unauthorized,
            CoreError::Invalid(_) | CoreError::Unusable(_) => ErrorCode::ValidationFailed,
            CoreError::Store(e) => e.code(),
            CoreError::Turn(e) => e.code(),
            CoreError::Setup(e) => e.code(),
            CoreError::Config(pryx_config::ConfigError::Stale { .. }) => ErrorCode::Conflict,
            CoreError::Config(
                pryx_config::ConfigError::Rejected { .. }
                | pryx_config::ConfigError::BadKey { .. }
                | pryx_config::ConfigError::NoSuchKey { .. },
            ) => ErrorCode::ValidationFailed,
            CoreError::Config(_) => ErrorCode::ConfigInvalid,
            CoreError::Internal(_) => ErrorCode::Internal,
        }
    }
}
