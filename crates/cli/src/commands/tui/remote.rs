//! [`CoreApi`] over the HTTP/WebSocket client. Calls wait briefly for the supervisor to have a
//! core (they run in background tasks, so the UI never waits); what the API has no route for is
//! either done beside the core without touching its database (skills, MCP, exports) or reported
//! as unsupported.

use super::local;
use crate::supervisor::Link;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use pryx_client::{Client, ClientError};
use pryx_config::DataDir;
use pryx_protocol::api::{
    ApprovalDecision, ApprovalScope, ChannelView, CreateSession, ModelView, NotificationList,
    PairingCode, PendingApproval, ProviderPreset, ProviderTestReport, ProviderView, PutProvider,
    PutTelemetry, SessionDetail, SessionSummary, TaskRunView, TaskView, TelemetryStatus,
    TestProvider, TurnAccepted, UpdateSession, UpdateStatus,
};
use pryx_tui::model::{ExportFormat, McpServerView, McpTestReport, SkillView, SpanView};
use pryx_tui::{ApiError, ApiResult, CoreApi, CoreUpdate};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

/// How long a call waits for a core that is (re)starting.
const WAIT_FOR_CORE: Duration = Duration::from_secs(5);
/// Sessions listed when the search box is empty.
const RECENT: u32 = 100;

/// The TUI's view of the core.
pub struct RemoteCore {
    link: watch::Receiver<Option<Link>>,
    updates: Mutex<Option<mpsc::UnboundedReceiver<CoreUpdate>>>,
    retry: Arc<Notify>,
    dir: DataDir,
    workspace: PathBuf,
    /// Session → the turn this UI started there (the API cancels by turn id).
    turns: Mutex<HashMap<String, String>>,
}

impl RemoteCore {
    pub fn new(
        link: watch::Receiver<Option<Link>>,
        updates: mpsc::UnboundedReceiver<CoreUpdate>,
        retry: Arc<Notify>,
        dir: DataDir,
        workspace: PathBuf,
    ) -> Self {
        RemoteCore {
            link,
            updates: Mutex::new(Some(updates)),
            retry,
            dir,
            workspace,
            turns: Mutex::new(HashMap::new()),
        }
    }

    async fn client(&self) -> ApiResult<Client> {
        let mut link = self.link.clone();
        let found = tokio::time::timeout(WAIT_FOR_CORE, link.wait_for(Option::is_some)).await;
        match found {
            Ok(Ok(l)) => l
                .as_ref()
                .map(|l| l.client.clone())
                .ok_or_else(|| down("no core is running")),
            Ok(Err(_)) => Err(down("the supervisor stopped")),
            Err(_) => Err(down("the core is not up yet")),
        }
    }
}

fn down(why: &str) -> ApiError {
    ApiError::Unreachable(why.to_string())
}

/// Maps client errors to what the UI shows.
pub fn api_error(e: ClientError) -> ApiError {
    match e {
        ClientError::Api { body, .. } => ApiError::Api {
            code: body.code.as_str().to_string(),
            message: body.message,
        },
        e @ (ClientError::Unreachable { .. }
        | ClientError::WebSocket(_)
        | ClientError::Closed(_)
        | ClientError::NotRunning { .. }
        | ClientError::Stale { .. }) => ApiError::Unreachable(e.to_string()),
        e => ApiError::Api {
            code: "CLIENT_ERROR".to_string(),
            message: e.to_string(),
        },
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CoreApi for RemoteCore {
    fn events(&self) -> BoxStream<'static, CoreUpdate> {
        match lock(&self.updates).take() {
            Some(rx) => tokio_stream(rx).boxed(),
            None => futures_util::stream::empty().boxed(),
        }
    }

    async fn create_session(&self) -> ApiResult<SessionSummary> {
        // The core's default agent supplies the model, policy and workspace.
        let body = CreateSession::default();
        self.client()
            .await?
            .create_session(&body)
            .await
            .map_err(api_error)
    }

    async fn load_session(&self, id: &str) -> ApiResult<SessionDetail> {
        self.client()
            .await?
            .get_session(id)
            .await
            .map_err(api_error)
    }

    async fn search_sessions(&self, query: &str) -> ApiResult<Vec<SessionSummary>> {
        let c = self.client().await?;
        let list = if query.trim().is_empty() {
            c.list_sessions(Some(RECENT), None).await
        } else {
            c.search_sessions(query, Some(RECENT), None).await
        };
        list.map(|l| l.sessions).map_err(api_error)
    }

    async fn export_session(&self, id: &str, format: ExportFormat) -> ApiResult<String> {
        let detail = self.load_session(id).await?;
        let dir = self.dir.exports_dir();
        tokio::task::spawn_blocking(move || local::export(&dir, &detail, format))
            .await
            .map_err(|e| local::failed("export", e))?
    }

    async fn delete_session(&self, id: &str) -> ApiResult<()> {
        self.client()
            .await?
            .delete_session(id)
            .await
            .map_err(api_error)
    }

    async fn send_prompt(&self, session_id: &str, text: &str) -> ApiResult<TurnAccepted> {
        let t = self
            .client()
            .await?
            .send_message(session_id, text)
            .await
            .map_err(api_error)?;
        lock(&self.turns).insert(t.session_id.clone(), t.turn_id.clone());
        Ok(t)
    }

    async fn retry_last(&self, session_id: &str, model: Option<&str>) -> ApiResult<TurnAccepted> {
        let t = self
            .client()
            .await?
            .retry_last(session_id, model)
            .await
            .map_err(api_error)?;
        lock(&self.turns).insert(t.session_id.clone(), t.turn_id.clone());
        Ok(t)
    }

    async fn cancel_turn(&self, session_id: &str) -> ApiResult<()> {
        let turn = lock(&self.turns).get(session_id).cloned();
        let Some(turn) = turn else {
            return Err(ApiError::Api {
                code: "NOT_FOUND".into(),
                message: "no turn started from this window runs in this session".into(),
            });
        };
        self.client()
            .await?
            .cancel_turn(&turn)
            .await
            .map(|_| ())
            .map_err(api_error)
    }

    async fn list_grants(&self) -> ApiResult<Vec<pryx_protocol::api::GrantView>> {
        self.client().await?.grants().await.map_err(api_error)
    }

    async fn revoke_grant(&self, id: &str) -> ApiResult<()> {
        self.client()
            .await?
            .revoke_grant(id)
            .await
            .map_err(api_error)
    }

    async fn pending_approvals(&self) -> ApiResult<Vec<PendingApproval>> {
        self.client()
            .await?
            .pending_approvals()
            .await
            .map_err(api_error)
    }

    async fn answer_approval(
        &self,
        id: &str,
        decision: ApprovalDecision,
        scope: ApprovalScope,
    ) -> ApiResult<()> {
        self.client()
            .await?
            .answer_approval(id, decision, scope)
            .await
            .map(|_| ())
            .map_err(api_error)
    }

    async fn list_models(&self, provider: Option<&str>) -> ApiResult<Vec<ModelView>> {
        self.client()
            .await?
            .models_for(provider)
            .await
            .map_err(api_error)
    }

    async fn set_default_model(&self, model: &str) -> ApiResult<()> {
        self.client()
            .await?
            .set_model(model)
            .await
            .map(|_| ())
            .map_err(api_error)
    }

    async fn set_default_policy(&self, policy: &str) -> ApiResult<()> {
        self.client()
            .await?
            .set_policy(policy)
            .await
            .map(|_| ())
            .map_err(api_error)
    }

    async fn update_session(
        &self,
        session_id: &str,
        update: &UpdateSession,
    ) -> ApiResult<SessionSummary> {
        self.client()
            .await?
            .update_session(session_id, update)
            .await
            .map_err(api_error)
    }

    async fn list_providers(&self) -> ApiResult<Vec<ProviderView>> {
        self.client().await?.providers().await.map_err(api_error)
    }

    async fn list_presets(&self) -> ApiResult<Vec<ProviderPreset>> {
        self.client()
            .await?
            .provider_presets()
            .await
            .map_err(api_error)
    }

    async fn put_provider(&self, id: &str, body: &PutProvider) -> ApiResult<ProviderView> {
        self.client()
            .await?
            .put_provider(id, body)
            .await
            .map_err(api_error)
    }

    async fn test_provider(&self, id: &str, model: Option<&str>) -> ApiResult<ProviderTestReport> {
        let body = TestProvider {
            model: model.map(str::to_string),
        };
        self.client()
            .await?
            .test_provider(id, &body)
            .await
            .map_err(api_error)
    }

    async fn list_skills(&self) -> ApiResult<Vec<SkillView>> {
        let (ws, dir) = (self.workspace.clone(), self.dir.clone());
        tokio::task::spawn_blocking(move || local::skills(&ws, dir))
            .await
            .map_err(|e| local::failed("skills", e))
    }

    async fn set_skill_enabled(&self, name: &str, enabled: bool) -> ApiResult<()> {
        let (ws, dir, name) = (self.workspace.clone(), self.dir.clone(), name.to_string());
        tokio::task::spawn_blocking(move || local::set_skill(&ws, dir, &name, enabled))
            .await
            .map_err(|e| local::failed("skills", e))?
    }

    async fn list_mcp_servers(&self) -> ApiResult<Vec<McpServerView>> {
        local::mcp_servers(&self.dir, &self.workspace).await
    }

    async fn test_mcp_server(&self, name: &str) -> ApiResult<McpTestReport> {
        local::mcp_test(&self.dir, &self.workspace, name).await
    }

    async fn list_channels(&self) -> ApiResult<Vec<ChannelView>> {
        self.client().await?.channels().await.map_err(api_error)
    }

    async fn pair_channel(&self, id: &str) -> ApiResult<PairingCode> {
        self.client()
            .await?
            .pair_channel(id)
            .await
            .map_err(api_error)
    }

    async fn set_channel_enabled(&self, id: &str, enabled: bool) -> ApiResult<ChannelView> {
        self.client()
            .await?
            .set_channel_enabled(id, enabled)
            .await
            .map_err(api_error)
    }

    async fn session_spans(&self, session_id: &str) -> ApiResult<Vec<SpanView>> {
        let list = self
            .client()
            .await?
            .session_spans(session_id)
            .await
            .map_err(api_error)?;
        Ok(list.spans.into_iter().map(span_view).collect())
    }

    async fn telemetry(&self) -> ApiResult<TelemetryStatus> {
        self.client().await?.telemetry().await.map_err(api_error)
    }

    async fn set_telemetry(&self, enabled: bool) -> ApiResult<TelemetryStatus> {
        let body = PutTelemetry {
            enabled,
            endpoint: None,
            tier: None,
        };
        self.client()
            .await?
            .set_telemetry(&body)
            .await
            .map_err(api_error)
    }

    async fn list_tasks(&self) -> ApiResult<Vec<TaskView>> {
        self.client().await?.tasks().await.map_err(api_error)
    }

    async fn set_task_active(&self, id: &str, resume: bool) -> ApiResult<TaskView> {
        self.client()
            .await?
            .set_task_active(id, resume)
            .await
            .map_err(api_error)
    }

    async fn run_task(&self, id: &str) -> ApiResult<TaskRunView> {
        self.client().await?.run_task(id).await.map_err(api_error)
    }

    async fn task_runs(&self, id: &str, limit: u32) -> ApiResult<Vec<TaskRunView>> {
        self.client()
            .await?
            .task_runs(id, limit)
            .await
            .map_err(api_error)
    }

    async fn notifications(&self, limit: u32) -> ApiResult<NotificationList> {
        self.client()
            .await?
            .notifications(limit)
            .await
            .map_err(api_error)
    }

    async fn mark_notifications_read(&self, ids: &[i64]) -> ApiResult<NotificationList> {
        self.client()
            .await?
            .mark_notifications_read(ids)
            .await
            .map_err(api_error)
    }

    async fn update_status(&self) -> ApiResult<UpdateStatus> {
        self.client()
            .await?
            .update_status()
            .await
            .map_err(api_error)
    }

    async fn update_seen(&self) -> ApiResult<()> {
        self.client().await?.update_seen().await.map_err(api_error)
    }

    async fn session_context(&self, session_id: &str) -> ApiResult<pryx_protocol::SessionContext> {
        let c = self.client().await?;
        c.session_context(session_id).await.map_err(api_error)
    }

    async fn compact_session(
        &self,
        session_id: &str,
    ) -> ApiResult<pryx_protocol::ContextCompacted> {
        let c = self.client().await?;
        c.compact_session(session_id).await.map_err(api_error)
    }

    async fn pin_message(
        &self,
        session_id: &str,
        message_id: &str,
        pinned: bool,
    ) -> ApiResult<pryx_protocol::api::MessageView> {
        let c = self.client().await?;
        c.pin_message(session_id, message_id, pinned)
            .await
            .map_err(api_error)
    }

    async fn fork_session(
        &self,
        session_id: &str,
        message_id: Option<&str>,
    ) -> ApiResult<SessionSummary> {
        let c = self.client().await?;
        c.fork_session(session_id, message_id)
            .await
            .map_err(api_error)
    }

    async fn session_processes(
        &self,
        session_id: &str,
    ) -> ApiResult<Vec<pryx_protocol::ProcessView>> {
        let c = self.client().await?;
        c.session_processes(session_id)
            .await
            .map(|l| l.processes)
            .map_err(api_error)
    }

    async fn retry(&self) -> ApiResult<()> {
        self.retry.notify_one();
        Ok(())
    }
}

fn tokio_stream<T: Send + 'static>(
    mut rx: mpsc::UnboundedReceiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;

/// The timeline screen wants epoch milliseconds; the API speaks RFC 3339.
fn span_view(s: pryx_protocol::api::SpanInfo) -> SpanView {
    let ms = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .ok()
            .and_then(|d| u64::try_from(d.unix_timestamp_nanos() / 1_000_000).ok())
    };
    SpanView {
        id: s.id,
        parent_id: s.parent_id,
        kind: s.kind,
        name: s.name,
        start_ms: ms(&s.started_at).unwrap_or(0),
        end_ms: s.ended_at.as_deref().and_then(ms),
        status: s.status,
        tokens_in: s.tokens_in,
        tokens_out: s.tokens_out,
        cost_usd: s.cost_usd,
    }
}
