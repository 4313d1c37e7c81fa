use pryx_protocol::ErrorCode;

/// Why a setting could not be turned into a live part. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// No provider, or no model chosen: the user has to set one up first.
    #[error("{0}")]
    NotConfigured(String),
    /// A name (agent, provider, model, policy, workspace) this core does not know.
    #[error("{0}")]
    Unknown(String),
    /// A value that cannot be used (a workspace that is not a directory, the data dir, …).
    #[error("{0}")]
    Invalid(String),
    /// Reading the catalog, the secret store or a policy file, or building a client, failed.
    #[error("{0}")]
    Failed(String),
}

impl SetupError {
    /// The wire code surfaces switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            SetupError::NotConfigured(_) => ErrorCode::ProviderNotConfigured,
            SetupError::Unknown(_) => ErrorCode::NotFound,
            SetupError::Invalid(_) => ErrorCode::ValidationFailed,
            SetupError::Failed(_) => ErrorCode::ConfigInvalid,
        }
    }
}
