//! A fake core: canned answers, a log of calls, and events pushed by the test.

use futures_util::stream::{self, BoxStream, StreamExt};
use pryx_protocol::api::{
    ApprovalDecision, ApprovalScope, ChannelState, ChannelView, GrantView, ModelView,
    NotificationList, PairingCode, PendingApproval, ProviderPreset, ProviderTestReport,
    ProviderView, PutProvider, RunStatus, SessionDetail, SessionSummary, TaskRunView, TaskStatus,
    TaskView, TurnAccepted, UpdateSession,
};
use pryx_tui::model::{ExportFormat, McpServerView, McpTestReport, SkillView, SpanView};
use pryx_tui::{ApiError, ApiResult, CoreApi, CoreUpdate};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, Semaphore, mpsc};

pub struct FakeCore {
    pub calls: Arc<Mutex<Vec<String>>>,
    /// Signalled after every call.
    pub called: Arc<Notify>,
    /// One permit each time the UI takes an update from the event stream (or sees it end).
    pub pulled: Arc<Semaphore>,
    /// What `list_providers` answers: one configured provider unless the test says otherwise.
    pub providers: Mutex<Vec<ProviderView>>,
    /// What `list_grants` answers (revoking removes one).
    pub grants: Mutex<Vec<GrantView>>,
    /// What `list_channels` answers (pausing and resuming change it).
    pub channels: Mutex<Vec<ChannelView>>,
    /// What `list_tasks` answers (pausing, resuming and running change it).
    pub tasks: Mutex<Vec<TaskView>>,
    /// What `notifications` answers (marking read changes it).
    pub inbox: Mutex<NotificationList>,
    events: Mutex<Option<mpsc::UnboundedReceiver<CoreUpdate>>>,
}

/// The key the fake's providers refuse.
pub const BAD_KEY: &str = "sk-wrong";

impl FakeCore {
    pub fn new() -> (FakeCore, mpsc::UnboundedSender<CoreUpdate>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let core = FakeCore {
            calls: Arc::default(),
            called: Arc::default(),
            pulled: Arc::new(Semaphore::new(0)),
            providers: Mutex::new(vec![provider("openai")]),
            grants: Mutex::new(Vec::new()),
            channels: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
            inbox: Mutex::new(NotificationList {
                notifications: vec![],
                unread: 0,
            }),
            events: Mutex::new(Some(rx)),
        };
        (core, tx)
    }

    /// A core without any provider: the TUI opens setup.
    pub fn unconfigured() -> (FakeCore, mpsc::UnboundedSender<CoreUpdate>) {
        let (core, tx) = Self::new();
        core.providers.lock().unwrap().clear();
        (core, tx)
    }

    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
        self.called.notify_one();
    }
}

/// Waits until `calls` holds `want`.
pub async fn wait_for_call(calls: &Mutex<Vec<String>>, called: &Notify, want: &str) {
    loop {
        if calls.lock().unwrap().iter().any(|c| c == want) {
            return;
        }
        called.notified().await;
    }
}

fn session(id: &str) -> SessionSummary {
    super::summary(id, "Fake session", 2000, 0.02)
}

fn provider(id: &str) -> ProviderView {
    ProviderView {
        id: id.into(),
        kind: "openai-compatible".into(),
        base_url: None,
        default_model: None,
        key_ref: Some(format!("secret:{id}")),
        key_ok: true,
        local: false,
    }
}

fn opt(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

impl CoreApi for FakeCore {
    fn events(&self) -> BoxStream<'static, CoreUpdate> {
        let rx = self.events.lock().unwrap().take();
        let pulled = self.pulled.clone();
        match rx {
            Some(rx) => stream::unfold((rx, pulled), |(mut rx, pulled)| async move {
                let item = rx.recv().await;
                // Also when the stream ends, so tests can wait for the UI to notice.
                pulled.add_permits(1);
                Some((item?, (rx, pulled)))
            })
            .boxed(),
            None => stream::pending().boxed(),
        }
    }
    async fn create_session(&self) -> ApiResult<SessionSummary> {
        self.record("create_session".into());
        Ok(session("s1"))
    }
    async fn load_session(&self, id: &str) -> ApiResult<SessionDetail> {
        self.record(format!("load_session {id}"));
        Ok(SessionDetail {
            session: session(id),
            messages: vec![],
            last_version: 0,
        })
    }
    async fn search_sessions(&self, query: &str) -> ApiResult<Vec<SessionSummary>> {
        self.record(format!("search {query}"));
        Ok(vec![session("s1")])
    }
    async fn export_session(&self, id: &str, format: ExportFormat) -> ApiResult<String> {
        self.record(format!("export {id} {}", format.as_str()));
        Ok(format!("exports/{id}"))
    }
    async fn delete_session(&self, id: &str) -> ApiResult<()> {
        self.record(format!("delete {id}"));
        Ok(())
    }
    async fn send_prompt(&self, session_id: &str, text: &str) -> ApiResult<TurnAccepted> {
        self.record(format!("send_prompt {session_id} {text}"));
        Ok(TurnAccepted {
            turn_id: "t1".into(),
            session_id: session_id.into(),
            after_version: 0,
        })
    }
    async fn retry_last(&self, session_id: &str, model: Option<&str>) -> ApiResult<TurnAccepted> {
        self.record(format!("retry {session_id} {}", model.unwrap_or("-")));
        Ok(TurnAccepted {
            turn_id: "t2".into(),
            session_id: session_id.into(),
            after_version: 0,
        })
    }
    async fn cancel_turn(&self, session_id: &str) -> ApiResult<()> {
        self.record(format!("cancel {session_id}"));
        Ok(())
    }
    async fn list_grants(&self) -> ApiResult<Vec<GrantView>> {
        self.record("list_grants".into());
        Ok(self.grants.lock().unwrap().clone())
    }
    async fn revoke_grant(&self, id: &str) -> ApiResult<()> {
        self.record(format!("revoke_grant {id}"));
        let mut grants = self.grants.lock().unwrap();
        let before = grants.len();
        grants.retain(|g| g.id != id);
        if grants.len() == before {
            return Err(ApiError::Api {
                code: "NOT_FOUND".into(),
                message: format!("no standing grant with id {id}"),
            });
        }
        Ok(())
    }
    async fn pending_approvals(&self) -> ApiResult<Vec<PendingApproval>> {
        self.record("pending_approvals".into());
        Ok(vec![])
    }
    async fn answer_approval(
        &self,
        id: &str,
        d: ApprovalDecision,
        s: ApprovalScope,
    ) -> ApiResult<()> {
        let d = serde_json::to_value(d).unwrap();
        let s = serde_json::to_value(s).unwrap();
        self.record(format!(
            "answer {id} {} {}",
            d.as_str().unwrap(),
            s.as_str().unwrap()
        ));
        Ok(())
    }
    async fn list_models(&self, provider: Option<&str>) -> ApiResult<Vec<ModelView>> {
        self.record(format!("list_models {}", opt(provider)));
        let all = super::models();
        Ok(match provider {
            Some(p) => all.into_iter().filter(|m| m.provider == p).collect(),
            None => all,
        })
    }
    async fn set_default_model(&self, model: &str) -> ApiResult<()> {
        self.record(format!("set_default_model {model}"));
        Ok(())
    }
    async fn set_default_policy(&self, policy: &str) -> ApiResult<()> {
        Err(ApiError::Api {
            code: "POLICY_NOT_FOUND".into(),
            message: format!("no policy named {policy}"),
        })
    }
    async fn update_session(
        &self,
        session_id: &str,
        update: &UpdateSession,
    ) -> ApiResult<SessionSummary> {
        self.record(format!(
            "update_session {session_id} model={} policy={}",
            opt(update.model.as_deref()),
            opt(update.policy.as_deref())
        ));
        let mut s = session(session_id);
        if update.model.is_some() {
            s.model = update.model.clone();
        }
        s.policy = update.policy.clone();
        Ok(s)
    }
    async fn list_providers(&self) -> ApiResult<Vec<ProviderView>> {
        self.record("list_providers".into());
        Ok(self.providers.lock().unwrap().clone())
    }
    async fn list_presets(&self) -> ApiResult<Vec<ProviderPreset>> {
        self.record("list_presets".into());
        Ok(super::presets())
    }
    async fn put_provider(&self, id: &str, body: &PutProvider) -> ApiResult<ProviderView> {
        self.record(format!(
            "put_provider {id} preset={} key={} env={} base_url={} model={}",
            opt(body.preset.as_deref()),
            opt(body.api_key.as_deref()),
            opt(body.api_key_env.as_deref()),
            opt(body.base_url.as_deref()),
            opt(body.default_model.as_deref()),
        ));
        let bad = body.api_key.as_deref() == Some(BAD_KEY);
        let mut p = provider(id);
        p.key_ok = !bad;
        self.providers.lock().unwrap().push(p.clone());
        Ok(p)
    }
    async fn test_provider(&self, id: &str, model: Option<&str>) -> ApiResult<ProviderTestReport> {
        self.record(format!("test_provider {id} {}", opt(model)));
        let ok = self
            .providers
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|p| p.id == id)
            .is_some_and(|p| p.key_ok);
        Ok(super::test_report(ok))
    }
    async fn list_skills(&self) -> ApiResult<Vec<SkillView>> {
        Ok(vec![])
    }
    async fn set_skill_enabled(&self, _name: &str, _enabled: bool) -> ApiResult<()> {
        Ok(())
    }
    async fn list_mcp_servers(&self) -> ApiResult<Vec<McpServerView>> {
        Ok(vec![])
    }
    async fn test_mcp_server(&self, name: &str) -> ApiResult<McpTestReport> {
        Err(ApiError::Unreachable(format!("cannot reach {name}")))
    }
    async fn list_channels(&self) -> ApiResult<Vec<ChannelView>> {
        self.record("list_channels".into());
        Ok(self.channels.lock().unwrap().clone())
    }
    async fn pair_channel(&self, id: &str) -> ApiResult<PairingCode> {
        self.record(format!("pair_channel {id}"));
        let channels = self.channels.lock().unwrap();
        match channels.iter().find(|c| c.id == id) {
            Some(c) if c.kind == "telegram" => Ok(super::pairing_code(id)),
            Some(_) => Err(ApiError::Api {
                code: "VALIDATION_FAILED".into(),
                message: format!("channel {id} is a webhook; only chat channels pair senders"),
            }),
            None => Err(ApiError::Api {
                code: "NOT_FOUND".into(),
                message: format!("no channel {id}"),
            }),
        }
    }
    async fn list_tasks(&self) -> ApiResult<Vec<TaskView>> {
        self.record("list_tasks".into());
        Ok(self.tasks.lock().unwrap().clone())
    }
    async fn set_task_active(&self, id: &str, resume: bool) -> ApiResult<TaskView> {
        self.record(format!("set_task_active {id} {resume}"));
        let mut tasks = self.tasks.lock().unwrap();
        let t = tasks.iter_mut().find(|t| t.id == id).ok_or(ApiError::Api {
            code: "TASK_NOT_FOUND".into(),
            message: format!("no task {id}"),
        })?;
        t.status = if resume {
            TaskStatus::Active
        } else {
            TaskStatus::Paused
        };
        Ok(t.clone())
    }
    async fn run_task(&self, id: &str) -> ApiResult<TaskRunView> {
        self.record(format!("run_task {id}"));
        let mut tasks = self.tasks.lock().unwrap();
        let t = tasks.iter_mut().find(|t| t.id == id).ok_or(ApiError::Api {
            code: "TASK_NOT_FOUND".into(),
            message: format!("no task {id}"),
        })?;
        if t.last_run
            .as_ref()
            .is_some_and(|r| r.status == RunStatus::Running)
        {
            return Err(ApiError::Api {
                code: "CONFLICT".into(),
                message: format!(
                    "task {} is running now; wait for that run to end",
                    t.spec.name
                ),
            });
        }
        t.runs += 1;
        let run = super::task_run(id, t.runs, RunStatus::Running);
        t.last_run = Some(run.clone());
        Ok(run)
    }
    async fn task_runs(&self, id: &str, _limit: u32) -> ApiResult<Vec<TaskRunView>> {
        self.record(format!("task_runs {id}"));
        let tasks = self.tasks.lock().unwrap();
        Ok(tasks
            .iter()
            .filter(|t| t.id == id)
            .filter_map(|t| t.last_run.clone())
            .collect())
    }
    async fn notifications(&self, _limit: u32) -> ApiResult<NotificationList> {
        self.record("notifications".into());
        Ok(self.inbox.lock().unwrap().clone())
    }
    async fn mark_notifications_read(&self, ids: &[i64]) -> ApiResult<NotificationList> {
        self.record(format!("mark_read {ids:?}"));
        let mut inbox = self.inbox.lock().unwrap();
        for n in &mut inbox.notifications {
            if ids.is_empty() || ids.contains(&n.id) {
                n.read = true;
            }
        }
        inbox.unread = inbox.notifications.iter().filter(|n| !n.read).count() as u64;
        Ok(inbox.clone())
    }
    async fn set_channel_enabled(&self, id: &str, enabled: bool) -> ApiResult<ChannelView> {
        self.record(format!("set_channel_enabled {id} {enabled}"));
        let mut channels = self.channels.lock().unwrap();
        let Some(c) = channels.iter_mut().find(|c| c.id == id) else {
            return Err(ApiError::Api {
                code: "NOT_FOUND".into(),
                message: format!("no channel {id}"),
            });
        };
        c.enabled = enabled;
        c.state = if enabled {
            ChannelState::Starting
        } else {
            ChannelState::Paused
        };
        c.detail = if enabled {
            "starting"
        } else {
            "paused; `pryx channels resume` starts it again"
        }
        .into();
        Ok(c.clone())
    }
    async fn session_spans(&self, _session_id: &str) -> ApiResult<Vec<SpanView>> {
        Ok(vec![])
    }
    async fn retry(&self) -> ApiResult<()> {
        self.record("retry".into());
        Ok(())
    }
}
