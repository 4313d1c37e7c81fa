//! Requests the UI makes of the core ([`Action`]) and what comes back ([`Response`]). Key presses
//! produce actions; a background task performs them, so the UI never waits on the network.

use crate::api::{ApiError, CoreApi};
use crate::model::{
    ExportFormat, McpServerView, McpTestReport, ProviderSetup, SkillView, SpanView,
};
use pryx_protocol::api::{
    ApprovalDecision, ApprovalScope, ChannelView, GrantView, ModelView, NotificationList,
    PairingCode, PendingApproval, ProviderPreset, ProviderTestReport, ProviderView, SessionDetail,
    SessionSummary, TaskRunView, TaskView, TurnAccepted, UpdateSession, UpdateStatus,
};
use pryx_protocol::{ErrorCode, SessionContext};
use tokio::sync::mpsc::UnboundedSender;

/// Something the user asked for that needs the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Sends a prompt; without a session one is created first.
    SendPrompt {
        session_id: Option<String>,
        text: String,
    },
    AnswerApproval {
        id: String,
        decision: ApprovalDecision,
        scope: ApprovalScope,
    },
    CancelTurn {
        session_id: String,
    },
    /// Runs the session's last message again (`/retry`), on another model when named.
    RetryLast {
        session_id: String,
        model: Option<String>,
    },
    NewSession,
    ResumeSession {
        id: String,
    },
    /// Loads the open session again without moving to the Chat screen (the core reset it).
    ReloadSession {
        id: String,
    },
    /// Reloads the token and cost totals of a session.
    RefreshTotals {
        session_id: String,
    },
    SearchSessions {
        query: String,
    },
    ExportSession {
        id: String,
        format: ExportFormat,
    },
    DeleteSession {
        id: String,
    },
    LoadApprovals,
    /// Lists the standing grants (`/grants`).
    LoadGrants,
    /// Revokes a standing grant: the next identical call asks again.
    RevokeGrant {
        id: String,
    },
    /// Lists models: the configured providers' (for the `/model` picker) or one provider's.
    LoadModels {
        provider: Option<String>,
    },
    /// The core's default model, for new sessions.
    SetDefaultModel {
        model: String,
    },
    /// The core's default policy, for new sessions.
    SetDefaultPolicy {
        policy: String,
    },
    /// Changes the model or policy of an open session's later turns.
    UpdateSession {
        session_id: String,
        model: Option<String>,
        policy: Option<String>,
    },
    LoadProviders,
    LoadPresets,
    /// Creates or replaces a provider (the setup screen's save).
    SaveProvider(ProviderSetup),
    TestProvider {
        id: String,
        model: Option<String>,
    },
    LoadSkills,
    ToggleSkill {
        name: String,
        enabled: bool,
    },
    LoadMcpServers,
    TestMcpServer {
        name: String,
    },
    LoadChannels,
    /// A pairing code for one new sender of a Telegram channel.
    PairChannel {
        id: String,
    },
    /// Pauses (`enabled: false`) or resumes a channel.
    SetChannelEnabled {
        id: String,
        enabled: bool,
    },
    LoadTimeline {
        session_id: String,
    },
    /// The telemetry export's state.
    LoadTelemetry,
    /// Switches the telemetry export on or off (on only after the screen's confirmation).
    SetTelemetry {
        enabled: bool,
    },
    LoadTasks,
    /// Pauses (`resume: false`) or resumes a task.
    SetTaskActive {
        id: String,
        resume: bool,
    },
    /// Runs a task now.
    RunTask {
        id: String,
    },
    /// A task's run history.
    LoadTaskRuns {
        id: String,
    },
    /// The notifications inbox (polled while connected).
    LoadNotifications,
    /// Marks these notifications read (all when empty).
    MarkNotificationsRead {
        ids: Vec<i64>,
    },
    /// The core's update status (asked once after connecting).
    LoadUpdate,
    /// The last update or rollback was shown.
    MarkUpdateSeen,
    /// How full a session's context is, for the status bar, `/context` or `/compact`.
    LoadContext {
        session_id: String,
        purpose: ContextPurpose,
    },
    /// Summarises the session's messages before its latest request (`/compact`, confirmed).
    CompactSession {
        session_id: String,
    },
    /// Pins or unpins one of the session's messages (`/pin`, `/unpin`).
    PinMessage {
        session_id: String,
        message_id: String,
        seq: u64,
        pinned: bool,
    },
    /// The session's background processes (`/processes`).
    LoadProcesses {
        session_id: String,
    },
    /// A new session with the messages up to `message_id` (the last when `None`) (`/fork`).
    ForkSession {
        session_id: String,
        message_id: Option<String>,
    },
    Retry,
}

/// What a session's context is loaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextPurpose {
    /// The status bar's gauge (failures are not shown).
    Gauge,
    /// `/context`: the breakdown in the transcript.
    Show,
    /// `/compact`: what it would summarise and cost, before it runs.
    Compact,
}

/// The outcome of an [`Action`], fed back into the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    SessionCreated(SessionSummary),
    SessionLoaded(SessionDetail),
    /// The open session as stored now ([`Action::ReloadSession`]).
    SessionReloaded(SessionDetail),
    Totals(SessionSummary),
    PromptAccepted(TurnAccepted),
    Sessions {
        query: String,
        sessions: Vec<SessionSummary>,
    },
    Exported {
        id: String,
        location: String,
    },
    Deleted {
        id: String,
    },
    Approvals(Vec<PendingApproval>),
    Grants(Vec<GrantView>),
    GrantRevoked {
        id: String,
    },
    Models {
        provider: Option<String>,
        models: Vec<ModelView>,
    },
    DefaultModelSet(String),
    DefaultPolicySet(String),
    SessionUpdated(SessionSummary),
    Providers(Vec<ProviderView>),
    Presets(Vec<ProviderPreset>),
    ProviderSaved(ProviderView),
    ProviderTested {
        id: String,
        report: ProviderTestReport,
    },
    /// A prompt could not run because the core has no provider yet; the core's words on how to
    /// fix it.
    NeedsSetup(String),
    Skills(Vec<SkillView>),
    SkillToggled {
        name: String,
        enabled: bool,
    },
    McpServers(Vec<McpServerView>),
    McpTested(McpTestReport),
    Channels(Vec<ChannelView>),
    ChannelPaired(PairingCode),
    /// A channel was paused or resumed: its status now.
    ChannelChanged(ChannelView),
    Spans {
        session_id: String,
        spans: Vec<SpanView>,
    },
    /// The export's state; `changed` after a switch.
    Telemetry {
        status: Box<pryx_protocol::api::TelemetryStatus>,
        changed: bool,
    },
    Tasks(Vec<TaskView>),
    /// A task was paused or resumed: how it is now.
    TaskChanged(Box<TaskView>),
    /// A run asked for by hand started.
    TaskRunStarted(TaskRunView),
    TaskRuns {
        id: String,
        runs: Vec<TaskRunView>,
    },
    /// The notifications inbox (after a poll or after marking some read).
    Notifications(NotificationList),
    /// The core has no notifications inbox: polling stops.
    NotificationsUnsupported,
    /// The core's update status.
    Update(UpdateStatus),
    Context {
        context: Box<SessionContext>,
        purpose: ContextPurpose,
    },
    /// A message was pinned or unpinned.
    Pinned {
        seq: u64,
        pinned: bool,
    },
    /// A fork of the open session was created.
    Forked(SessionSummary),
    Processes {
        session_id: String,
        processes: Vec<pryx_protocol::ProcessView>,
    },
    /// The action succeeded and has nothing to show.
    Done,
    /// The action failed; `what` names it for the user.
    Failed {
        what: String,
        error: String,
    },
}

fn failed(what: &str, e: impl std::fmt::Display) -> Response {
    Response::Failed {
        what: what.to_string(),
        error: e.to_string(),
    }
}

/// A failed prompt or session creation: the setup hint when the core has no provider yet.
fn failed_turn(what: &str, e: ApiError) -> Response {
    match e {
        ApiError::Api { code, message } if code == ErrorCode::ProviderNotConfigured.as_str() => {
            Response::NeedsSetup(message)
        }
        e => failed(what, e),
    }
}

/// Performs one action against the core, sending each response as soon as it is known (a prompt
/// without a session reports the new session before the turn starts).
pub async fn perform<A: CoreApi + ?Sized>(
    api: &A,
    action: Action,
    out: &UnboundedSender<Response>,
) {
    let send = |r: Response| {
        // The receiver is gone only when the UI is shutting down.
        let _ = out.send(r);
    };
    match action {
        Action::SendPrompt { session_id, text } => {
            let id = match session_id {
                Some(id) => id,
                None => match api.create_session().await {
                    Ok(s) => {
                        let id = s.id.clone();
                        send(Response::SessionCreated(s));
                        id
                    }
                    Err(e) => return send(failed_turn(CREATE_SESSION, e)),
                },
            };
            send(match api.send_prompt(&id, &text).await {
                Ok(t) => Response::PromptAccepted(t),
                Err(e) => failed_turn(SEND_PROMPT, e),
            });
        }
        Action::AnswerApproval {
            id,
            decision,
            scope,
        } => send(match api.answer_approval(&id, decision, scope).await {
            Ok(()) => Response::Done,
            Err(e) => failed("answer the approval", e),
        }),
        Action::CancelTurn { session_id } => send(match api.cancel_turn(&session_id).await {
            Ok(()) => Response::Done,
            Err(e) => failed("cancel the turn", e),
        }),
        Action::RetryLast { session_id, model } => {
            send(match api.retry_last(&session_id, model.as_deref()).await {
                Ok(_) => Response::Done,
                // The core put the message back: show the session as it is.
                Err(e) => {
                    let failure = failed_turn("retry the last message", e);
                    send(failure);
                    match api.load_session(&session_id).await {
                        Ok(d) => Response::SessionLoaded(d),
                        Err(e) => failed("open the session", e),
                    }
                }
            })
        }
        Action::NewSession => send(match api.create_session().await {
            Ok(s) => Response::SessionCreated(s),
            Err(e) => failed_turn(CREATE_SESSION, e),
        }),
        Action::ResumeSession { id } => send(match api.load_session(&id).await {
            Ok(d) => Response::SessionLoaded(d),
            Err(e) => failed("open the session", e),
        }),
        Action::ReloadSession { id } => send(match api.load_session(&id).await {
            Ok(d) => Response::SessionReloaded(d),
            Err(e) => failed(RELOAD_SESSION, e),
        }),
        Action::RefreshTotals { session_id } => {
            send(match api.load_session(&session_id).await {
                Ok(d) => Response::Totals(d.session),
                Err(e) => failed(REFRESH_TOTALS, e),
            });
            // The status bar's context gauge follows the totals.
            if let Ok(context) = api.session_context(&session_id).await {
                send(Response::Context {
                    context: Box::new(context),
                    purpose: ContextPurpose::Gauge,
                });
            }
        }
        Action::SearchSessions { query } => send(match api.search_sessions(&query).await {
            Ok(sessions) => Response::Sessions { query, sessions },
            Err(e) => failed("search sessions", e),
        }),
        Action::ExportSession { id, format } => send(match api.export_session(&id, format).await {
            Ok(location) => Response::Exported { id, location },
            Err(e) => failed("export the session", e),
        }),
        Action::DeleteSession { id } => send(match api.delete_session(&id).await {
            Ok(()) => Response::Deleted { id },
            Err(e) => failed("delete the session", e),
        }),
        Action::LoadApprovals => send(match api.pending_approvals().await {
            Ok(a) => Response::Approvals(a),
            Err(e) => failed(LOAD_APPROVALS, e),
        }),
        Action::LoadGrants => send(match api.list_grants().await {
            Ok(g) => Response::Grants(g),
            Err(e) => failed("list the standing approvals", e),
        }),
        Action::RevokeGrant { id } => send(match api.revoke_grant(&id).await {
            Ok(()) => Response::GrantRevoked { id },
            Err(e) => failed("revoke the grant", e),
        }),
        Action::LoadModels { provider } => send(match api.list_models(provider.as_deref()).await {
            Ok(models) => Response::Models { provider, models },
            Err(e) => failed(LIST_MODELS, e),
        }),
        Action::SetDefaultModel { model } => send(match api.set_default_model(&model).await {
            Ok(()) => Response::DefaultModelSet(model),
            Err(e) => failed(SET_DEFAULT_MODEL, e),
        }),
        Action::SetDefaultPolicy { policy } => send(match api.set_default_policy(&policy).await {
            Ok(()) => Response::DefaultPolicySet(policy),
            Err(e) => failed("switch the default policy", e),
        }),
        Action::UpdateSession {
            session_id,
            model,
            policy,
        } => {
            let update = UpdateSession {
                title: None,
                model,
                policy,
            };
            send(match api.update_session(&session_id, &update).await {
                Ok(s) => Response::SessionUpdated(s),
                Err(e) => failed("change the session", e),
            })
        }
        Action::LoadProviders => send(match api.list_providers().await {
            Ok(p) => Response::Providers(p),
            Err(e) => failed(LIST_PROVIDERS, e),
        }),
        Action::LoadPresets => send(match api.list_presets().await {
            Ok(p) => Response::Presets(p),
            Err(e) => failed(LIST_PRESETS, e),
        }),
        Action::SaveProvider(setup) => {
            send(match api.put_provider(&setup.id, &setup.to_put()).await {
                Ok(p) => Response::ProviderSaved(p),
                Err(e) => failed(SAVE_PROVIDER, e),
            })
        }
        Action::TestProvider { id, model } => {
            send(match api.test_provider(&id, model.as_deref()).await {
                Ok(report) => Response::ProviderTested { id, report },
                Err(e) => failed(TEST_PROVIDER, e),
            })
        }
        Action::LoadSkills => send(match api.list_skills().await {
            Ok(s) => Response::Skills(s),
            Err(e) => failed("list skills", e),
        }),
        Action::ToggleSkill { name, enabled } => {
            send(match api.set_skill_enabled(&name, enabled).await {
                Ok(()) => Response::SkillToggled { name, enabled },
                Err(e) => failed("change the skill", e),
            })
        }
        Action::LoadMcpServers => send(match api.list_mcp_servers().await {
            Ok(s) => Response::McpServers(s),
            Err(e) => failed("list MCP servers", e),
        }),
        Action::TestMcpServer { name } => send(match api.test_mcp_server(&name).await {
            Ok(r) => Response::McpTested(r),
            Err(e) => failed("test the MCP server", e),
        }),
        Action::LoadChannels => send(match api.list_channels().await {
            Ok(c) => Response::Channels(c),
            Err(e) => failed(LIST_CHANNELS, e),
        }),
        Action::PairChannel { id } => send(match api.pair_channel(&id).await {
            Ok(code) => Response::ChannelPaired(code),
            Err(e) => failed(PAIR_CHANNEL, e),
        }),
        Action::SetChannelEnabled { id, enabled } => {
            send(match api.set_channel_enabled(&id, enabled).await {
                Ok(c) => Response::ChannelChanged(c),
                Err(e) if enabled => failed(RESUME_CHANNEL, e),
                Err(e) => failed(PAUSE_CHANNEL, e),
            })
        }
        Action::LoadTelemetry => send(match api.telemetry().await {
            Ok(status) => Response::Telemetry {
                status: Box::new(status),
                changed: false,
            },
            Err(e) => failed(LOAD_TELEMETRY, e),
        }),
        Action::SetTelemetry { enabled } => send(match api.set_telemetry(enabled).await {
            Ok(status) => Response::Telemetry {
                status: Box::new(status),
                changed: true,
            },
            Err(e) => failed("switch the telemetry export", e),
        }),
        Action::LoadTimeline { session_id } => send(match api.session_spans(&session_id).await {
            Ok(spans) => Response::Spans { session_id, spans },
            Err(e) => failed("load the timeline", e),
        }),
        Action::LoadTasks => send(match api.list_tasks().await {
            Ok(t) => Response::Tasks(t),
            Err(e) => failed(LIST_TASKS, e),
        }),
        Action::SetTaskActive { id, resume } => {
            send(match api.set_task_active(&id, resume).await {
                Ok(t) => Response::TaskChanged(Box::new(t)),
                Err(e) if resume => failed(RESUME_TASK, e),
                Err(e) => failed(PAUSE_TASK, e),
            })
        }
        Action::RunTask { id } => send(match api.run_task(&id).await {
            Ok(run) => Response::TaskRunStarted(run),
            Err(e) => failed(RUN_TASK, e),
        }),
        Action::LoadTaskRuns { id } => send(match api.task_runs(&id, TASK_RUNS).await {
            Ok(runs) => Response::TaskRuns { id, runs },
            Err(e) => failed(LIST_TASK_RUNS, e),
        }),
        Action::LoadNotifications => send(match api.notifications(NOTIFICATIONS).await {
            Ok(list) => Response::Notifications(list),
            Err(ApiError::Unsupported(_)) => Response::NotificationsUnsupported,
            Err(e) => failed(LOAD_NOTIFICATIONS, e),
        }),
        Action::MarkNotificationsRead { ids } => {
            send(match api.mark_notifications_read(&ids).await {
                Ok(list) => Response::Notifications(list),
                Err(e) => failed(MARK_READ, e),
            })
        }
        // Background asks: an older core without them, or a failure, shows nothing.
        Action::LoadUpdate => send(match api.update_status().await {
            Ok(status) => Response::Update(status),
            Err(_) => Response::Done,
        }),
        Action::MarkUpdateSeen => {
            let _ = api.update_seen().await;
            send(Response::Done)
        }
        Action::LoadContext {
            session_id,
            purpose,
        } => send(match api.session_context(&session_id).await {
            Ok(context) => Response::Context {
                context: Box::new(context),
                purpose,
            },
            Err(_) if purpose == ContextPurpose::Gauge => Response::Done,
            Err(e) => failed("read the session's context", e),
        }),
        // The `context.compacted` event says what it did.
        Action::CompactSession { session_id } => {
            send(match api.compact_session(&session_id).await {
                Ok(_) => Response::Done,
                Err(e) => failed("compact the session", e),
            })
        }
        Action::PinMessage {
            session_id,
            message_id,
            seq,
            pinned,
        } => send(
            match api.pin_message(&session_id, &message_id, pinned).await {
                Ok(_) => Response::Pinned { seq, pinned },
                Err(e) => failed(
                    if pinned {
                        "pin the message"
                    } else {
                        "unpin the message"
                    },
                    e,
                ),
            },
        ),
        Action::LoadProcesses { session_id } => {
            send(match api.session_processes(&session_id).await {
                Ok(processes) => Response::Processes {
                    session_id,
                    processes,
                },
                Err(e) => failed("list the background processes", e),
            })
        }
        Action::ForkSession {
            session_id,
            message_id,
        } => send(
            match api.fork_session(&session_id, message_id.as_deref()).await {
                Ok(child) => Response::Forked(child),
                Err(e) => failed("fork the session", e),
            },
        ),
        Action::Retry => send(match api.retry().await {
            Ok(()) => Response::Done,
            Err(e) => failed("retry", e),
        }),
    }
}

/// `what` of a failed [`Action::SendPrompt`] send.
pub const SEND_PROMPT: &str = "send the prompt";
/// `what` of the pending-approvals load the TUI makes by itself (at start and reconnect).
pub const LOAD_APPROVALS: &str = "load pending approvals";
/// `what` of a failed [`Action::LoadTelemetry`] (made whenever the Telemetry screen opens).
pub const LOAD_TELEMETRY: &str = "load the telemetry export's state";
/// `what` of a failed [`Action::ReloadSession`] (made at a reset or a stale load).
pub const RELOAD_SESSION: &str = "reload the session";
/// `what` of a failed [`Action::RefreshTotals`] (made after every turn).
pub const REFRESH_TOTALS: &str = "refresh the totals";
/// `what` of the loads the TUI makes by itself, not at a key: their failures are said in the
/// status bar only, as a panel would take the next keys (typed for the chat) to close it.
/// Such a load may fail against a core that is being killed or replaced while the link
/// already shows the new one connected.
pub const AUTOMATIC_LOADS: &[&str] = &[
    LOAD_APPROVALS,
    RELOAD_SESSION,
    REFRESH_TOTALS,
    LOAD_TELEMETRY,
];
/// `what` of the failed session commands the user typed (`/compact`, `/pin`, `/fork`…): said
/// in the transcript.
pub const SESSION_COMMANDS: &[&str] = &[
    "compact the session",
    "pin the message",
    "unpin the message",
    "fork the session",
    "read the session's context",
    "list the background processes",
];
/// `what` of a failed session creation.
pub const CREATE_SESSION: &str = "create a session";
/// `what` of a failed [`Action::LoadModels`].
pub const LIST_MODELS: &str = "list models";
/// `what` of a failed [`Action::SetDefaultModel`].
pub const SET_DEFAULT_MODEL: &str = "set the default model";
/// `what` of a failed [`Action::LoadProviders`].
pub const LIST_PROVIDERS: &str = "list providers";
/// `what` of a failed [`Action::LoadPresets`].
pub const LIST_PRESETS: &str = "list the provider presets";
/// `what` of a failed [`Action::SaveProvider`].
pub const SAVE_PROVIDER: &str = "save the provider";
/// `what` of a failed [`Action::TestProvider`].
pub const TEST_PROVIDER: &str = "test the provider";
/// `what` of a failed [`Action::LoadChannels`].
pub const LIST_CHANNELS: &str = "list channels";
/// `what` of a failed [`Action::PairChannel`].
pub const PAIR_CHANNEL: &str = "make a pairing code";
/// `what` of a failed pause ([`Action::SetChannelEnabled`]).
pub const PAUSE_CHANNEL: &str = "pause the channel";
/// `what` of a failed resume ([`Action::SetChannelEnabled`]).
pub const RESUME_CHANNEL: &str = "resume the channel";
/// `what` of a failed [`Action::LoadTasks`].
pub const LIST_TASKS: &str = "list tasks";
/// `what` of a failed pause ([`Action::SetTaskActive`]).
pub const PAUSE_TASK: &str = "pause the task";
/// `what` of a failed resume ([`Action::SetTaskActive`]).
pub const RESUME_TASK: &str = "resume the task";
/// `what` of a failed [`Action::RunTask`].
pub const RUN_TASK: &str = "run the task";
/// `what` of a failed [`Action::LoadTaskRuns`].
pub const LIST_TASK_RUNS: &str = "load the task's runs";
/// `what` of a failed [`Action::LoadNotifications`] (a background poll: never a panel).
pub const LOAD_NOTIFICATIONS: &str = "load notifications";
/// `what` of a failed [`Action::MarkNotificationsRead`].
pub const MARK_READ: &str = "mark notifications read";
/// Runs the history shows.
pub const TASK_RUNS: u32 = 50;
/// Notifications each poll reads (the unread count covers all of them).
pub const NOTIFICATIONS: u32 = 20;
