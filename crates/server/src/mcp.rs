//! MCP server mode at `/mcp` (docs/interop.md): another agent uses Pryx through MCP. It offers
//! a `chat` tool (a turn of a Pryx session), the agent's own tools run through Pryx's policy,
//! approvals and containment, the sessions it started as resources (subscribed to, a client is
//! told of each new message), and skills as prompts.
//!
//! What a connection may see: the sessions it started itself and, for a per-client API key,
//! the sessions that key started (here or on `/v1`). Another client's conversation is not
//! there for it: the same answer as an unknown id.

use crate::guard::ClientKey;
use crate::state::AppState;
use futures_util::stream::BoxStream;
use pryx_core::{Core, CoreError, SessionRequest};
use pryx_mcp::rmcp::ErrorData;
use pryx_mcp::rmcp::model::{
    CallToolResult, ContentBlock, GetPromptResult, Implementation, JsonObject, Prompt, Resource,
    ResourceContents, ResourceTemplate, Tool,
};
use pryx_mcp::serve::{Asked, HttpConfig, Offer, from_json, http_service};
use pryx_protocol::{EventPayload, TurnEnd};
use pryx_store::ApiKey;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;

/// Where the MCP endpoint is mounted.
pub const MCP_PATH: &str = "/mcp";
const CHAT: &str = "chat";
const SESSION_SCHEME: &str = "pryx://sessions/";

/// Whether `path` is the MCP endpoint's.
pub fn is_mcp_path(path: &str) -> bool {
    path == MCP_PATH || path.starts_with("/mcp/")
}

/// Mounts the endpoint on the gateway's router.
pub fn router(state: &Arc<AppState>) -> axum::Router<Arc<AppState>> {
    let core = state.core.clone();
    let service = http_service(
        move || PryxOffer {
            core: core.clone(),
            started: Mutex::default(),
            calls: tokio::sync::Mutex::default(),
        },
        HttpConfig {
            // The gateway's guard checks Host and Origin for every path before this.
            allowed_hosts: Vec::new(),
            cancel: state.shutdown.clone(),
        },
    );
    axum::Router::new().nest_service(MCP_PATH, service)
}

/// Who is asking: the gateway token's holder, or a per-client key.
enum Caller {
    Token,
    Key(Arc<ApiKey>),
}

fn caller(asked: &Asked) -> Caller {
    asked
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<ClientKey>())
        .map_or(Caller::Token, |ClientKey(k)| Caller::Key(k.clone()))
}

/// One MCP client session's view of Pryx.
struct PryxOffer {
    core: Core,
    /// Sessions this connection started, oldest first.
    started: Mutex<Vec<String>>,
    /// The one its direct tool calls are recorded in, once there is one (held while it is
    /// made, so concurrent first calls share it).
    calls: tokio::sync::Mutex<Option<String>>,
}

fn failure(e: CoreError) -> ErrorData {
    match e {
        CoreError::SessionNotFound(_) | CoreError::Invalid(_) | CoreError::SessionBusy(_) => {
            ErrorData::invalid_params(e.to_string(), None)
        }
        other => ErrorData::internal_error(other.to_string(), None),
    }
}

fn tool_error(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

impl PryxOffer {
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Core) -> Result<T, CoreError> + Send + 'static,
    ) -> Result<T, ErrorData> {
        let core = self.core.clone();
        tokio::task::spawn_blocking(move || work(&core))
            .await
            .map_err(|e| ErrorData::internal_error(format!("a store task failed: {e}"), None))?
            .map_err(failure)
    }

    /// The agent this caller works with: `main`, or the first agent its key may use.
    fn agent(&self, caller: &Caller) -> String {
        match caller {
            Caller::Key(k) if !k.allows(pryx_config::MAIN_AGENT) => k
                .agents
                .first()
                .cloned()
                .unwrap_or_else(|| pryx_config::MAIN_AGENT.to_string()),
            _ => pryx_config::MAIN_AGENT.to_string(),
        }
    }

    fn started(&self) -> Vec<String> {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The sessions `caller` may see here, newest first.
    async fn visible(&self, caller: &Caller) -> Result<Vec<pryx_store::Session>, ErrorData> {
        let mine = self.started();
        let key = match caller {
            Caller::Key(k) => Some(k.id.clone()),
            Caller::Token => None,
        };
        self.blocking(move |core| {
            let store = core.store();
            let mut ids = mine;
            if let Some(key) = &key {
                for id in store.sessions_of_api_key(key)? {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            let mut sessions = Vec::new();
            for id in ids {
                if let Some(s) = store.get_session(&id)? {
                    sessions.push(s);
                }
            }
            sessions.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
            Ok(sessions)
        })
        .await
    }

    async fn is_visible(&self, caller: &Caller, id: &str) -> Result<bool, ErrorData> {
        Ok(self.visible(caller).await?.iter().any(|s| s.id == id))
    }

    /// A new session for `caller`, remembered as this connection's (and its key's).
    async fn new_session(&self, caller: &Caller, title: &str) -> Result<String, ErrorData> {
        let agent = self.agent(caller);
        let key = match caller {
            Caller::Key(k) => Some(k.id.clone()),
            Caller::Token => None,
        };
        let title = title.to_string();
        let id = self
            .blocking(move |core| {
                let s = core.create_session(&SessionRequest {
                    agent: Some(agent),
                    title: Some(title),
                    ..SessionRequest::default()
                })?;
                if let Some(key) = &key
                    && let Err(e) = core.store().set_session_api_key(&s.id, key)
                {
                    let _ = core.delete_session(&s.id);
                    return Err(e.into());
                }
                Ok(s.id)
            })
            .await?;
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id.clone());
        Ok(id)
    }

    /// The session direct tool calls of this connection run in (made on the first call).
    async fn tools_session(&self, caller: &Caller) -> Result<String, ErrorData> {
        let mut calls = self.calls.lock().await;
        if let Some(id) = calls.as_ref() {
            return Ok(id.clone());
        }
        let id = self.new_session(caller, "MCP client tool calls").await?;
        *calls = Some(id.clone());
        Ok(id)
    }

    async fn chat(
        &self,
        caller: &Caller,
        arguments: &JsonObject,
        asked: &Asked,
    ) -> Result<CallToolResult, ErrorData> {
        let Some(prompt) = arguments
            .get("prompt")
            .and_then(Value::as_str)
            .filter(|p| !p.trim().is_empty())
        else {
            return Err(ErrorData::invalid_params(
                "`prompt` is missing or empty; send the message for the agent",
                None,
            ));
        };
        let sid = match arguments.get("session") {
            None | Some(Value::Null) => self.new_session(caller, "").await?,
            Some(Value::String(id)) if self.is_visible(caller, id).await? => id.clone(),
            Some(other) => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "session {other} not found; leave out `session` to start a new one, or send the id an earlier answer carried"
                    ),
                    None,
                ));
            }
        };
        let rx = self.core.bus().subscribe();
        let started = self.core.start_turn(&sid, prompt).await.map_err(failure)?;
        let end = self.core.wait_turn_end(rx, &started, &asked.ct).await;
        let Some(end) = end else {
            // The client cancelled the call (or the gateway is stopping): the turn stops too.
            let _ = self.core.cancel_turn(&started.turn_id);
            return Err(ErrorData::internal_error(
                format!("the turn was cancelled; its outcome is in session {sid}"),
                None,
            ));
        };
        let answer = {
            let (core, started) = (self.core.clone(), started.clone());
            tokio::task::spawn_blocking(move || core.turn_answer(&started))
                .await
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let structured = json!({"session": sid, "answer": answer, "end": end});
        let mut result = match &end {
            TurnEnd::Error { message, .. } => {
                let trace = end
                    .short_trace()
                    .map(|t| format!(", trace {t}"))
                    .unwrap_or_default();
                tool_error(format!("the turn failed: {message} (session {sid}{trace})"))
            }
            TurnEnd::Interrupted => tool_error(format!(
                "the turn was interrupted; send the message again (session {sid})"
            )),
            TurnEnd::Completed { .. }
            | TurnEnd::Cancelled { .. }
            | TurnEnd::StepLimit { .. }
            | TurnEnd::BudgetExceeded { .. } => {
                CallToolResult::success(vec![ContentBlock::text(answer)])
            }
        };
        result.structured_content = Some(structured);
        Ok(result)
    }
}

fn chat_tool() -> Result<Tool, ErrorData> {
    from_json(json!({
        "name": CHAT,
        "description": "Send a message to the Pryx agent and get its answer. The agent works in its own workspace with its own tools, under the user's policy and approvals. To continue a conversation, pass the `session` an earlier answer returned.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": "The message for the agent."},
                "session": {"type": "string", "description": "A session id from an earlier answer, to continue it."}
            },
            "required": ["prompt"]
        },
        "outputSchema": {
            "type": "object",
            "properties": {
                "session": {"type": "string"},
                "answer": {"type": "string"},
                "end": {"type": "object"}
            },
            "required": ["session", "answer", "end"]
        }
    }))
}

impl Offer for PryxOffer {
    fn server_info(&self) -> Implementation {
        Implementation::new("pryx", env!("CARGO_PKG_VERSION"))
    }

    fn instructions(&self) -> Option<String> {
        Some(
            "Pryx is the user's local agent. `chat` runs a turn of a Pryx session; the other tools are Pryx's own, run in its workspace under the user's policy. A call that needs the user's approval waits until they answer in Pryx."
                .into(),
        )
    }

    async fn tools(&self, asked: &Asked) -> Result<Vec<Tool>, ErrorData> {
        let agent = self.agent(&caller(asked));
        let agent = self
            .core
            .profile_agent(Some(&agent))
            .await
            .map_err(failure)?;
        let mut tools = vec![chat_tool()?];
        for d in agent.tools().definitions() {
            let tool = from_json(json!({
                "name": d.name, "description": d.description, "inputSchema": d.parameters,
            }))?;
            tools.push(tool);
        }
        Ok(tools)
    }

    async fn call_tool(
        &self,
        name: &str,
        arguments: JsonObject,
        asked: Asked,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller(&asked);
        if name == CHAT {
            return self.chat(&caller, &arguments, &asked).await;
        }
        let sid = self.tools_session(&caller).await?;
        let outcome = self
            .core
            .call_tool(&sid, name, &Value::Object(arguments), asked.ct.clone())
            .await
            .map_err(failure)?;
        let content = vec![ContentBlock::text(outcome.content)];
        Ok(if outcome.is_error {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        })
    }

    async fn resources(&self, asked: &Asked) -> Result<Vec<Resource>, ErrorData> {
        self.visible(&caller(asked))
            .await?
            .into_iter()
            .map(|s| {
                let title = if s.title.is_empty() {
                    "untitled session".to_string()
                } else {
                    s.title.clone()
                };
                from_json(json!({
                    "uri": format!("{SESSION_SCHEME}{}", s.id), "name": title,
                    "description": format!("Pryx session {} of agent {}", s.id,
                        s.agent.as_deref().unwrap_or(pryx_config::MAIN_AGENT)),
                    "mimeType": "application/json",
                }))
            })
            .collect()
    }

    fn resource_templates(&self) -> Vec<ResourceTemplate> {
        serde_json::from_value(json!([{
            "uriTemplate": format!("{SESSION_SCHEME}{{id}}"), "name": "session",
            "description": "A Pryx session this client started: its messages as JSON.",
            "mimeType": "application/json"}]))
        .unwrap_or_default()
    }

    async fn read_resource(
        &self,
        uri: &str,
        asked: &Asked,
    ) -> Result<Vec<ResourceContents>, ErrorData> {
        let not_found = || ErrorData::resource_not_found(format!("no resource {uri}"), None);
        let id = uri.strip_prefix(SESSION_SCHEME).ok_or_else(not_found)?;
        if !self.is_visible(&caller(asked), id).await? {
            return Err(not_found());
        }
        let sid = id.to_string();
        let (session, messages) = self
            .blocking(move |core| {
                let store = core.store();
                let s = store
                    .get_session(&sid)?
                    .ok_or(CoreError::SessionNotFound(sid.clone()))?;
                Ok((s, store.list_messages(&sid)?))
            })
            .await?;
        let messages: Vec<Value> = messages
            .iter()
            .filter(|m| !m.text.trim().is_empty())
            .map(|m| json!({"role": m.role.as_str(), "text": m.text, "at": m.created_at}))
            .collect();
        let body = json!({
            "id": session.id, "title": session.title, "agent": session.agent,
            "messages": messages,
        });
        from_json(json!([{"uri": uri, "mimeType": "application/json",
            "text": body.to_string()}]))
    }

    fn changes(&self) -> Option<BoxStream<'static, String>> {
        let rx = self.core.bus().subscribe();
        let changes = futures_util::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(ev) if matches!(ev.event.payload, EventPayload::SessionMessage(_)) => {
                        let uri = format!("{SESSION_SCHEME}{}", ev.event.session_id);
                        return Some((uri, rx));
                    }
                    // A reader that fell behind misses changes rather than stopping.
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                }
            }
        });
        Some(Box::pin(changes))
    }

    async fn prompts(&self, asked: &Asked) -> Result<Vec<Prompt>, ErrorData> {
        let skills = self.skills(&caller(asked)).await?;
        skills
            .iter()
            .map(|s| {
                from_json(json!({
                    "name": s.name(), "description": s.manifest.description,
                }))
            })
            .collect()
    }

    async fn get_prompt(
        &self,
        name: &str,
        _arguments: JsonObject,
        asked: &Asked,
    ) -> Result<GetPromptResult, ErrorData> {
        let skills = self.skills(&caller(asked)).await?;
        let skill = skills
            .iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| ErrorData::invalid_params(format!("no skill named {name}"), None))?;
        from_json(json!({
            "description": skill.manifest.description,
            "messages": [{"role": "user", "content": {"type": "text", "text": skill.body}}],
        }))
    }
}

impl PryxOffer {
    /// The skills usable by the caller's agent, read fresh from disk.
    async fn skills(&self, caller: &Caller) -> Result<Vec<pryx_skills::Skill>, ErrorData> {
        let agent = self.agent(caller);
        self.blocking(move |core| {
            let profile = core.profile(Some(&agent))?;
            let index = pryx_skills::SkillIndex::open(profile.workspace, core.dir().clone());
            let only = profile.skills;
            Ok(index
                .catalog()
                .active()
                .filter(|s| s.is_usable())
                .filter(|s| {
                    only.as_ref()
                        .is_none_or(|names| names.iter().any(|n| n == s.name()))
                })
                .cloned()
                .collect())
        })
        .await
    }
}
