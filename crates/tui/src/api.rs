//! The boundary between the TUI and the core. A client of the HTTP/WebSocket API implements
//! [`CoreApi`]; tests implement it with a fake. Every method is called from a background task, so
//! a slow core never blocks typing.

use crate::model::{ExportFormat, McpServerView, McpTestReport, SkillView, SpanView};
use futures_util::stream::BoxStream;
use pryx_protocol::api::MessageView;
use pryx_protocol::api::{
    ApprovalDecision, ApprovalScope, ChannelView, GrantView, ModelView, NotificationList,
    PairingCode, PendingApproval, ProviderPreset, ProviderTestReport, ProviderView, PutProvider,
    SessionDetail, SessionSummary, TaskRunView, TaskView, TelemetryStatus, TurnAccepted,
    UpdateSession, UpdateStatus,
};
use pryx_protocol::{ContextCompacted, Event, ProcessView, SessionContext};
use std::future::Future;

/// Why a call to the core failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("the core is unreachable ({0}); check that it runs, then press r to retry")]
    Unreachable(String),
    /// The core answered with an error body (`code` is the wire name, e.g. `SESSION_NOT_FOUND`).
    #[error("{message} ({code})")]
    Api { code: String, message: String },
    #[error("this core does not support {0} yet; update pryx")]
    Unsupported(String),
}

/// How the link to the core is doing, as the supervisor or client sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionState {
    Connecting,
    Connected,
    /// The core cannot be reached or its child process keeps crashing.
    Down {
        reason: String,
        /// Consecutive failed starts or reconnects.
        failures: u32,
        /// The last lines of the core's log, newest last.
        log_tail: Vec<String>,
    },
}

/// What arrives from the core without being asked for. Nearly every update is an event, so
/// boxing the large variant would only add an allocation per event.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum CoreUpdate {
    Event(Event),
    Connection(ConnectionState),
    /// The core holds less of this session than was shown (its data dir was restored): what is
    /// shown of it must be loaded again.
    Reset {
        session_id: String,
    },
}

/// Result type of [`CoreApi`] calls.
pub type ApiResult<T> = Result<T, ApiError>;

/// Everything the TUI asks of the core.
pub trait CoreApi: Send + Sync + 'static {
    /// Live events of every session and changes of the connection. Called once per run.
    fn events(&self) -> BoxStream<'static, CoreUpdate>;

    fn create_session(&self) -> impl Future<Output = ApiResult<SessionSummary>> + Send;
    fn load_session(&self, id: &str) -> impl Future<Output = ApiResult<SessionDetail>> + Send;
    /// Empty query: the most recent sessions; otherwise a full-text search.
    fn search_sessions(
        &self,
        query: &str,
    ) -> impl Future<Output = ApiResult<Vec<SessionSummary>>> + Send;
    /// Writes the export and returns where it went.
    fn export_session(
        &self,
        id: &str,
        format: ExportFormat,
    ) -> impl Future<Output = ApiResult<String>> + Send;
    fn delete_session(&self, id: &str) -> impl Future<Output = ApiResult<()>> + Send;

    fn send_prompt(
        &self,
        session_id: &str,
        text: &str,
    ) -> impl Future<Output = ApiResult<TurnAccepted>> + Send;
    /// Runs the session's last user message again (on `model` when given), after the core
    /// takes back the answer or failure it got.
    fn retry_last(
        &self,
        session_id: &str,
        model: Option<&str>,
    ) -> impl Future<Output = ApiResult<TurnAccepted>> + Send;
    /// Cancels the turn running in the session, if any.
    fn cancel_turn(&self, session_id: &str) -> impl Future<Output = ApiResult<()>> + Send;
    fn pending_approvals(&self) -> impl Future<Output = ApiResult<Vec<PendingApproval>>> + Send;
    fn answer_approval(
        &self,
        id: &str,
        decision: ApprovalDecision,
        scope: ApprovalScope,
    ) -> impl Future<Output = ApiResult<()>> + Send;

    /// The standing grants, newest first.
    fn list_grants(&self) -> impl Future<Output = ApiResult<Vec<GrantView>>> + Send;
    /// Revokes a standing grant (audited as revoked from the TUI).
    fn revoke_grant(&self, id: &str) -> impl Future<Output = ApiResult<()>> + Send;

    /// Models the core can run. Without a provider: the configured providers' models first, with
    /// `default` marking the core's default; with one, that provider's models only.
    fn list_models(
        &self,
        provider: Option<&str>,
    ) -> impl Future<Output = ApiResult<Vec<ModelView>>> + Send;
    /// Sets the core's default model (`provider/model`), which new sessions run on; the core
    /// keeps it across restarts. Open sessions keep theirs.
    fn set_default_model(&self, model: &str) -> impl Future<Output = ApiResult<()>> + Send;
    /// Sets the core's default policy for new sessions (kept across restarts).
    fn set_default_policy(&self, policy: &str) -> impl Future<Output = ApiResult<()>> + Send;
    /// Changes the model, policy or title of one session's later turns; absent fields stay.
    fn update_session(
        &self,
        session_id: &str,
        update: &UpdateSession,
    ) -> impl Future<Output = ApiResult<SessionSummary>> + Send;

    /// The configured providers (an empty list opens the setup screen).
    fn list_providers(&self) -> impl Future<Output = ApiResult<Vec<ProviderView>>> + Send;
    /// The providers the core knows how to set up.
    fn list_presets(&self) -> impl Future<Output = ApiResult<Vec<ProviderPreset>>> + Send;
    /// Creates or replaces provider `id`. A key in `body` is stored by the core, never returned.
    fn put_provider(
        &self,
        id: &str,
        body: &PutProvider,
    ) -> impl Future<Output = ApiResult<ProviderView>> + Send;
    /// One tiny real call to provider `id`, on `model` or the provider's default. A call the
    /// provider refused is `Ok` with `ok: false`.
    fn test_provider(
        &self,
        id: &str,
        model: Option<&str>,
    ) -> impl Future<Output = ApiResult<ProviderTestReport>> + Send;

    fn list_skills(&self) -> impl Future<Output = ApiResult<Vec<SkillView>>> + Send;
    fn set_skill_enabled(
        &self,
        name: &str,
        enabled: bool,
    ) -> impl Future<Output = ApiResult<()>> + Send;

    fn list_mcp_servers(&self) -> impl Future<Output = ApiResult<Vec<McpServerView>>> + Send;
    fn test_mcp_server(&self, name: &str) -> impl Future<Output = ApiResult<McpTestReport>> + Send;

    /// The chat channels and webhooks the core hosts, with their live status.
    fn list_channels(&self) -> impl Future<Output = ApiResult<Vec<ChannelView>>> + Send;
    /// A single-use code that lets one new sender talk to a Telegram channel.
    fn pair_channel(&self, id: &str) -> impl Future<Output = ApiResult<PairingCode>> + Send;
    /// Pauses (`false`) or resumes (`true`) a channel; answers with its new status.
    fn set_channel_enabled(
        &self,
        id: &str,
        enabled: bool,
    ) -> impl Future<Output = ApiResult<ChannelView>> + Send;
    fn session_spans(
        &self,
        session_id: &str,
    ) -> impl Future<Output = ApiResult<Vec<SpanView>>> + Send;

    /// The scheduled tasks, by name, with their status, next run and last result. A link that
    /// does not serve tasks yet says so ([`ApiError::Unsupported`]).
    fn list_tasks(&self) -> impl Future<Output = ApiResult<Vec<TaskView>>> + Send {
        async { Err(ApiError::Unsupported("scheduled tasks".into())) }
    }
    /// Pauses (`resume: false`) or resumes a task; answers with how it is now.
    fn set_task_active(
        &self,
        id: &str,
        resume: bool,
    ) -> impl Future<Output = ApiResult<TaskView>> + Send {
        let _ = (id, resume);
        async { Err(ApiError::Unsupported("scheduled tasks".into())) }
    }
    /// Runs a task now (refused with a conflict while a run of it goes).
    fn run_task(&self, id: &str) -> impl Future<Output = ApiResult<TaskRunView>> + Send {
        let _ = id;
        async { Err(ApiError::Unsupported("scheduled tasks".into())) }
    }
    /// A task's last `limit` runs, newest first.
    fn task_runs(
        &self,
        id: &str,
        limit: u32,
    ) -> impl Future<Output = ApiResult<Vec<TaskRunView>>> + Send {
        let _ = (id, limit);
        async { Err(ApiError::Unsupported("scheduled tasks".into())) }
    }
    /// The newest `limit` notifications of finished runs, with how many are unread.
    fn notifications(
        &self,
        limit: u32,
    ) -> impl Future<Output = ApiResult<NotificationList>> + Send {
        let _ = limit;
        async { Err(ApiError::Unsupported("notifications".into())) }
    }
    /// Marks these notifications read (all when `ids` is empty).
    fn mark_notifications_read(
        &self,
        ids: &[i64],
    ) -> impl Future<Output = ApiResult<NotificationList>> + Send {
        let _ = ids;
        async { Err(ApiError::Unsupported("notifications".into())) }
    }

    /// Updates as the core sees them: a newer release, the last update or rollback.
    fn update_status(&self) -> impl Future<Output = ApiResult<UpdateStatus>> + Send {
        async { Err(ApiError::Unsupported("updates".into())) }
    }
    /// Marks the last update or rollback as shown.
    fn update_seen(&self) -> impl Future<Output = ApiResult<()>> + Send {
        async { Err(ApiError::Unsupported("updates".into())) }
    }

    /// How full the session's context is, and with what.
    fn session_context(
        &self,
        session_id: &str,
    ) -> impl Future<Output = ApiResult<SessionContext>> + Send {
        let _ = session_id;
        async { Err(ApiError::Unsupported("the session context".into())) }
    }
    /// Summarises the session's messages before its latest request.
    fn compact_session(
        &self,
        session_id: &str,
    ) -> impl Future<Output = ApiResult<ContextCompacted>> + Send {
        let _ = session_id;
        async { Err(ApiError::Unsupported("compaction".into())) }
    }
    /// Pins or unpins a message.
    fn pin_message(
        &self,
        session_id: &str,
        message_id: &str,
        pinned: bool,
    ) -> impl Future<Output = ApiResult<MessageView>> + Send {
        let _ = (session_id, message_id, pinned);
        async { Err(ApiError::Unsupported("pinned messages".into())) }
    }
    /// A new session with the messages up to `message_id` (the last when `None`).
    fn fork_session(
        &self,
        session_id: &str,
        message_id: Option<&str>,
    ) -> impl Future<Output = ApiResult<SessionSummary>> + Send {
        let _ = (session_id, message_id);
        async { Err(ApiError::Unsupported("forks".into())) }
    }

    /// The telemetry export's state, with a redacted sample of what it sends.
    fn telemetry(&self) -> impl Future<Output = ApiResult<TelemetryStatus>> + Send {
        async { Err(ApiError::Unsupported("the telemetry export".into())) }
    }
    /// Switches the telemetry export on or off (written to config and audited by the core).
    fn set_telemetry(
        &self,
        enabled: bool,
    ) -> impl Future<Output = ApiResult<TelemetryStatus>> + Send {
        let _ = enabled;
        async { Err(ApiError::Unsupported("the telemetry export".into())) }
    }

    /// The session's background processes.
    fn session_processes(
        &self,
        session_id: &str,
    ) -> impl Future<Output = ApiResult<Vec<ProcessView>>> + Send {
        let _ = session_id;
        async { Err(ApiError::Unsupported("background processes".into())) }
    }

    /// Asks the supervisor to restart or reconnect to the core now.
    fn retry(&self) -> impl Future<Output = ApiResult<()>> + Send;
}
