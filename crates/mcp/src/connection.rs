//! One configured server: connected on first need, kept alive, restarted with backoff when it
//! dies, and shut down (whole process group) on request.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pryx_config::DataDir;
use rmcp::RoleClient;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, CancelledNotificationParam,
    ClientRequest, GetPromptRequestParams, GetPromptResult, Prompt, ReadResourceRequestParams,
    ReadResourceResult, Resource, ServerResult, Tool as McpToolDef,
};
use rmcp::service::{Peer, PeerRequestOptions, ServiceError};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::McpError;
use crate::callbacks::ClientCallbacks;
use crate::config::{ServerConfig, TransportKind};
use crate::handler::{PryxClientHandler, token_key};
use crate::pins::{CurrentDefs, PinStore, ToolsChanged};
use crate::transport::{self, ConnectEnv, Live};

/// Longest wait before restarting a server that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Hook called when a server's tool list changed.
pub(crate) type ChangeHook = Arc<dyn Fn(&ToolsChanged) + Send + Sync>;

/// What every connection shares with the manager.
pub(crate) struct Shared {
    pub data_dir: DataDir,
    pub roots: Vec<PathBuf>,
    pub allowed_env: Vec<String>,
    pub callbacks: Arc<dyn ClientCallbacks>,
    pub on_tools_changed: Mutex<Option<ChangeHook>>,
    /// What each tool was when it last ran (`mcp/pins.json`).
    pub pins: PinStore,
}

/// A snapshot for `pryx mcp list` and the UIs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServerStatus {
    pub name: String,
    pub transport: TransportKind,
    pub enabled: bool,
    /// The user trusts the server's tool annotations (see [`ServerConfig::trusted`]).
    pub trusted: bool,
    /// `connected`, `idle` (not started yet), `failed` or `disabled`.
    pub status: &'static str,
    /// The wire actually used: `stdio`, `streamable-http` or `sse`.
    pub wire: Option<&'static str>,
    pub tool_count: Option<usize>,
    pub last_error: Option<String>,
    pub pid: Option<u32>,
    /// The last change of its tool list (or tools refused for colliding names), for showing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

#[derive(Default)]
struct State {
    live: Option<Live>,
    handler: Option<PryxClientHandler>,
    tools: Option<Vec<McpToolDef>>,
    /// Consecutive failed starts or crashes; sets the restart delay.
    failures: u32,
    last_failure: Option<Instant>,
    last_error: Option<String>,
}

/// A configured server and its (lazy) session.
pub struct ServerConnection {
    name: String,
    config: ServerConfig,
    /// Hash of the transport (see [`crate::pins::server_identity`]).
    identity: String,
    /// The transport, for people.
    transport: String,
    /// The definitions the server offers now.
    current: Arc<CurrentDefs>,
    shared: Arc<Shared>,
    state: tokio::sync::Mutex<State>,
    snapshot: Arc<Mutex<ServerStatus>>,
}

/// Delay before the next start after `failures` consecutive failures.
pub(crate) fn backoff(failures: u32) -> Duration {
    if failures <= 1 {
        return Duration::ZERO;
    }
    let exp = (failures - 2).min(16);
    (Duration::from_millis(500) * 2u32.pow(exp)).min(MAX_BACKOFF)
}

impl ServerConnection {
    pub(crate) fn new(name: &str, config: ServerConfig, shared: Arc<Shared>) -> Self {
        let snapshot = ServerStatus {
            name: name.to_owned(),
            transport: config.transport_kind(),
            enabled: config.enabled,
            trusted: config.trusted,
            status: if config.enabled { "idle" } else { "disabled" },
            wire: None,
            tool_count: None,
            last_error: None,
            pid: None,
            notice: None,
        };
        Self {
            name: name.to_owned(),
            identity: crate::pins::server_identity(&config),
            transport: crate::pins::describe_transport(&config),
            current: Arc::new(CurrentDefs::default()),
            config,
            shared,
            state: tokio::sync::Mutex::new(State::default()),
            snapshot: Arc::new(Mutex::new(snapshot)),
        }
    }

    /// Server name from `servers.json`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entry this connection was made from.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The server's identity: a hash of its transport.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The transport, for people (`stdio: node server.js`).
    pub fn transport(&self) -> &str {
        &self.transport
    }

    pub(crate) fn pins(&self) -> &PinStore {
        &self.shared.pins
    }

    /// The server's current definition of `tool` (`Some(None)`: withdrawn); `None` before
    /// the first listing.
    pub(crate) fn current_def(&self, tool: &str) -> Option<Option<McpToolDef>> {
        self.current.get(tool)
    }

    /// Books a new tool list: replaces the current definitions and, when they changed, tells
    /// the host and keeps the notice for the status.
    fn book_tools(
        name: &str,
        current: &CurrentDefs,
        hook: Option<&ChangeHook>,
        snapshot: &Mutex<ServerStatus>,
        defs: &[McpToolDef],
    ) {
        let change = current.replace(name, defs);
        if change.is_empty() {
            return;
        }
        tracing::warn!("{change}");
        snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .notice = Some(change.to_string());
        if let Some(hook) = hook {
            hook(&change);
        }
    }

    fn hook(&self) -> Option<ChangeHook> {
        self.shared
            .on_tools_changed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Shows a notice in the status (e.g. tools refused for colliding names).
    pub(crate) fn set_notice(&self, notice: Option<String>) {
        self.update(|s| s.notice = notice);
    }

    /// Current status without touching the server.
    pub fn status(&self) -> ServerStatus {
        self.snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut ServerStatus)) {
        f(&mut self.snapshot.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn fail(&self, state: &mut State, err: &McpError) {
        state.failures += 1;
        state.last_failure = Some(Instant::now());
        state.last_error = Some(err.to_string());
        self.update(|s| {
            s.status = "failed";
            s.last_error = Some(err.to_string());
            s.pid = None;
        });
    }

    /// A live peer, starting (or restarting) the server when needed.
    async fn peer(&self) -> Result<(Peer<RoleClient>, PryxClientHandler), McpError> {
        if !self.config.enabled {
            return Err(McpError::Disabled(self.name.clone()));
        }
        let mut state = self.state.lock().await;
        if let (Some(live), Some(h)) = (&state.live, &state.handler) {
            if !live.service.is_closed() && !live.service.peer().is_transport_closed() {
                return Ok((live.service.peer().clone(), h.clone()));
            }
            let err = McpError::Disconnected {
                server: self.name.clone(),
                message: "the server exited".into(),
            };
            tracing::warn!(server = %self.name, "MCP server went away; restarting");
            state.live = None;
            state.tools = None;
            self.fail(&mut state, &err);
        }
        // A server that keeps failing is not retried on every request: callers (the agent's
        // tool list, every turn) get the last error at once until the backoff has passed.
        if let Some(at) = state.last_failure {
            let wait = backoff(state.failures).saturating_sub(at.elapsed());
            if !wait.is_zero() {
                return Err(McpError::Backoff {
                    server: self.name.clone(),
                    failures: state.failures,
                    secs: wait.as_secs().max(1),
                    last: state.last_error.clone().unwrap_or_default(),
                });
            }
        }
        let handler = PryxClientHandler::new(
            &self.name,
            self.shared.roots.clone(),
            self.shared.callbacks.clone(),
        );
        {
            let (name, current, hook) = (self.name.clone(), self.current.clone(), self.hook());
            let snapshot = self.snapshot.clone();
            *handler
                .events
                .on_change
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(move |defs| {
                Self::book_tools(&name, &current, hook.as_ref(), &snapshot, &defs);
            }));
        }
        let env = ConnectEnv {
            data_dir: &self.shared.data_dir,
            allowed_env: &self.shared.allowed_env,
        };
        match transport::connect(&self.name, &self.config, &env, handler.clone()).await {
            Ok(live) => {
                let peer = live.service.peer().clone();
                self.update(|s| {
                    s.status = "connected";
                    s.wire = Some(live.wire);
                    s.pid = live.pid;
                    s.last_error = None;
                });
                state.live = Some(live);
                state.handler = Some(handler.clone());
                Ok((peer, handler))
            }
            Err(e) => {
                self.fail(&mut state, &e);
                Err(e)
            }
        }
    }

    fn map_err(&self, e: ServiceError) -> McpError {
        match e {
            ServiceError::McpError(data) => McpError::Request {
                server: self.name.clone(),
                message: data.message.to_string(),
            },
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
                McpError::Disconnected {
                    server: self.name.clone(),
                    message: e.to_string(),
                }
            }
            ServiceError::Timeout { .. } => McpError::Timeout {
                server: self.name.clone(),
                secs: self.config.timeout().as_secs(),
            },
            other => McpError::Request {
                server: self.name.clone(),
                message: other.to_string(),
            },
        }
    }

    /// Runs `fut` under the server's timeout and the caller's cancel token.
    async fn bounded<T>(
        &self,
        cancel: Option<&CancellationToken>,
        fut: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, McpError> {
        let never = CancellationToken::new();
        let cancel = cancel.unwrap_or(&never);
        let timeout = self.config.timeout();
        // Dropping an rmcp request future sends `notifications/cancelled`.
        let res = tokio::select! {
            r = fut => r.map_err(|e| self.map_err(e)),
            () = cancel.cancelled() => Err(McpError::Cancelled),
            () = tokio::time::sleep(timeout) => Err(McpError::Timeout {
                server: self.name.clone(),
                secs: timeout.as_secs(),
            }),
        };
        self.settle(res).await
    }

    /// Books the outcome of a request: a lost connection is dropped (and its process group
    /// killed) so the next request starts the server again; a success resets the backoff.
    async fn settle<T>(&self, res: Result<T, McpError>) -> Result<T, McpError> {
        match &res {
            Err(e @ McpError::Disconnected { .. }) => {
                let mut state = self.state.lock().await;
                state.tools = None;
                if let Some(live) = state.live.take() {
                    let pid = live.pid;
                    drop(live);
                    if let Some(pid) = pid {
                        kill_group(pid);
                    }
                }
                self.fail(&mut state, e);
            }
            Ok(_) => self.state.lock().await.failures = 0,
            Err(_) => {}
        }
        res
    }

    /// The server's tools, fetched again after `notifications/tools/list_changed`.
    pub async fn list_tools(&self) -> Result<Vec<McpToolDef>, McpError> {
        let (peer, handler) = self.peer().await?;
        let stale = handler.events.tools_stale.swap(false, Ordering::SeqCst);
        if !stale && let Some(tools) = self.state.lock().await.tools.clone() {
            return Ok(tools);
        }
        let tools = self.bounded(None, peer.list_all_tools()).await?;
        Self::book_tools(
            &self.name,
            &self.current,
            self.hook().as_ref(),
            &self.snapshot,
            &tools,
        );
        self.state.lock().await.tools = Some(tools.clone());
        let n = tools.len();
        self.update(|s| s.tool_count = Some(n));
        Ok(tools)
    }

    /// Calls `tool` (the server's own name). `canonical` labels progress reports. When
    /// `cancel` fires or the timeout passes, the server gets `notifications/cancelled`.
    pub async fn call_tool(
        &self,
        tool: &str,
        canonical: &str,
        arguments: Map<String, Value>,
        cancel: &CancellationToken,
    ) -> Result<CallToolResult, McpError> {
        let (peer, handler) = self.peer().await?;
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        let handle = peer
            .send_request_with_option(
                ClientRequest::CallToolRequest(CallToolRequest::new(params)),
                PeerRequestOptions::no_options(),
            )
            .await
            .map_err(|e| self.map_err(e));
        let handle = match handle {
            Ok(h) => h,
            Err(e) => return self.settle(Err(e)).await,
        };
        let token = token_key(&handle.progress_token);
        let id = handle.id.clone();
        handler.events.track(&token, canonical);
        let timeout = self.config.timeout();
        let res = tokio::select! {
            r = handle.await_response() => match r {
                Ok(ServerResult::CallToolResult(r)) => Ok(r),
                Ok(_) => Err(self.map_err(ServiceError::UnexpectedResponse)),
                Err(e) => Err(self.map_err(e)),
            },
            () = cancel.cancelled() => Err(McpError::Cancelled),
            () = tokio::time::sleep(timeout) => Err(McpError::Timeout {
                server: self.name.clone(),
                secs: timeout.as_secs(),
            }),
        };
        handler.events.untrack(&token);
        if matches!(res, Err(McpError::Cancelled | McpError::Timeout { .. })) {
            let reason = match &res {
                Err(McpError::Cancelled) => "cancelled by the user",
                _ => "timed out",
            };
            let _ = peer
                .notify_cancelled(CancelledNotificationParam::new(
                    Some(id),
                    Some(reason.to_owned()),
                ))
                .await;
        }
        self.settle(res).await
    }

    /// All resources the server lists.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, McpError> {
        let (peer, _) = self.peer().await?;
        self.bounded(None, peer.list_all_resources()).await
    }

    /// Reads one resource.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, McpError> {
        let (peer, _) = self.peer().await?;
        self.bounded(
            None,
            peer.read_resource(ReadResourceRequestParams::new(uri)),
        )
        .await
    }

    /// All prompts the server lists.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, McpError> {
        let (peer, _) = self.peer().await?;
        self.bounded(None, peer.list_all_prompts()).await
    }

    /// Renders one prompt.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<GetPromptResult, McpError> {
        let (peer, _) = self.peer().await?;
        let mut params = GetPromptRequestParams::new(name.to_owned());
        if !arguments.is_empty() {
            params = params.with_arguments(arguments);
        }
        self.bounded(None, peer.get_prompt(params)).await
    }

    /// Connects now (if not yet), for `pryx mcp test`.
    pub async fn connect(&self) -> Result<(), McpError> {
        self.peer().await.map(|_| ())
    }

    /// Process id of a running stdio server.
    pub async fn pid(&self) -> Option<u32> {
        self.state.lock().await.live.as_ref().and_then(|l| l.pid)
    }

    /// Ends the session: `DELETE` for HTTP sessions; for stdio, stdin is closed, then the
    /// process group gets SIGTERM and SIGKILL if it lingers.
    pub async fn shutdown(&self) {
        let live = self.state.lock().await.live.take();
        if let Some(live) = live {
            let pid = live.pid;
            // Servers that ignore the closed stdin get SIGTERM/SIGKILL after a short grace.
            let grace = if pid.is_some() {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(5)
            };
            let _ = tokio::time::timeout(grace, live.service.cancel()).await;
            if let Some(pid) = pid {
                kill_group(pid);
            }
        }
        self.update(|s| {
            if s.status == "connected" {
                s.status = "idle";
            }
            s.pid = None;
        });
    }
}

/// Kills whatever is left of a server's process group (helpers it spawned).
fn kill_group(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else { return };
    if let Some(pid) = rustix::process::Pid::from_raw(raw) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(0), Duration::ZERO);
        assert_eq!(backoff(1), Duration::ZERO);
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(1));
        assert_eq!(backoff(5), Duration::from_secs(4));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
