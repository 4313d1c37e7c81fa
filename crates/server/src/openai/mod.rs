//! The OpenAI-compatible API at `/v1` (docs/interop.md): `GET /v1/models` lists the agents and
//! `POST /v1/chat/completions` runs a turn of a Pryx session through the core, exactly like
//! `POST /api/v1/sessions/{id}/messages` (policy, approvals, memory, audit). Kept out of the
//! OpenAPI document: its contract is OpenAI's.

mod error;
mod history;
mod request;
mod stream;

pub use error::{is_openai_path, reshape};

use crate::error::blocking;
use crate::extract::ApiJson;
use crate::guard::ClientKey;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use error::OpenAiError;
use pryx_core::{Core, SessionRequest, TurnInput};
use pryx_protocol::TurnEnd;
use pryx_protocol::openai::{
    AnswerMessage, ChatCompletion, ChatRequest, ChatRole, ChatToolCall, Choice, FinishReason,
    ModelInfo, ModelList, Usage,
};
use pryx_store::ApiKey;
use std::sync::Arc;

/// The request and response header naming the Pryx session of a conversation.
pub const SESSION_HEADER: &str = "x-pryx-session";

pub fn router() -> axum::Router<Arc<AppState>> {
    axum::Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn model_id(agent: &str) -> String {
    format!("pryx:{agent}")
}

/// The key a request came with, if any (the gateway token has none).
type Caller = Option<Arc<ApiKey>>;

fn caller(key: Option<Extension<ClientKey>>) -> Caller {
    key.map(|Extension(ClientKey(k))| k)
}

async fn models(
    State(st): State<Arc<AppState>>,
    key: Option<Extension<ClientKey>>,
) -> Result<Json<ModelList>, OpenAiError> {
    let core = st.core.clone();
    let key = caller(key);
    let ids = blocking(move || {
        Ok(core
            .profiles()
            .into_iter()
            .map(|p| p.id)
            .filter(|id| key.as_ref().is_none_or(|k| k.allows(id)))
            .collect())
    })
    .await?;
    let created = now_secs().saturating_sub(st.core.uptime().as_secs());
    Ok(Json(list_of(ids, created)))
}

fn list_of(ids: Vec<String>, created: u64) -> ModelList {
    ModelList {
        object: "list".into(),
        data: ids
            .into_iter()
            .map(|id| ModelInfo {
                id: model_id(&id),
                object: "model".into(),
                created,
                owned_by: "pryx".into(),
            })
            .collect(),
    }
}

/// What a turn needs once the request is read.
struct Prepared {
    session_id: String,
    /// Messages stored before the turn: its own (input and answer) follow.
    stored_before: usize,
    /// The client's tools offered in this request, by name.
    client_tools: Vec<String>,
    tokens_before: (u64, u64),
    /// Created for this request (removed again if the turn cannot start).
    created: bool,
}

async fn chat(
    State(st): State<Arc<AppState>>,
    key: Option<Extension<ClientKey>>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChatRequest>,
) -> Response {
    let session = headers
        .get(SESSION_HEADER)
        .map(|v| v.to_str().map(str::to_string));
    let session = match session {
        Some(Err(_)) => {
            return OpenAiError::new(
                StatusCode::BAD_REQUEST,
                format!("the `{SESSION_HEADER}` header is not a session id"),
            )
            .into_response();
        }
        Some(Ok(s)) => Some(s),
        None => None,
    };
    match run(st, req, session, caller(key)).await {
        Ok(r) => r,
        Err((e, sid)) => with_session(e.into_response(), sid.as_deref()),
    }
}

fn with_session(mut res: Response, session: Option<&str>) -> Response {
    if let Some(v) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        res.headers_mut().insert(SESSION_HEADER, v);
    }
    res
}

type Failed = (OpenAiError, Option<String>);

async fn run(
    st: Arc<AppState>,
    req: ChatRequest,
    session: Option<String>,
    key: Caller,
) -> Result<Response, Failed> {
    let fail = |e: OpenAiError| (e, None);
    request::check_params(&req).map_err(fail)?;
    let tools = request::read_tools(&req).map_err(fail)?;
    let names: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
    let said = request::read_messages(&req.messages).map_err(fail)?;
    let agent = known_agent(&st.core, &req.model, key.as_deref())
        .await
        .map_err(fail)?;
    let model = model_id(&agent);
    let core = st.core.clone();
    let (prepared, input) =
        blocking(move || Ok(prepare(&core, &agent, session, &said, key, names)))
            .await
            .map_err(|e| fail(e.into()))?
            .map_err(fail)?;
    let sid = prepared.session_id.clone();
    // Subscribe before the turn starts so nothing of it is missed.
    let rx = st.core.bus().subscribe();
    let input = match input {
        history::NewInput::Prompt(p) => TurnInput::Prompt(p),
        history::NewInput::ToolResults(r) => TurnInput::ToolResults(r),
    };
    let started = match st.core.start_turn_with(&sid, input, tools).await {
        Ok(s) => s,
        Err(e) => {
            if prepared.created {
                let _ = st.core.delete_session(&sid);
                return Err((e.into(), None));
            }
            return Err((e.into(), Some(sid)));
        }
    };
    let id = format!("chatcmpl-{}", started.turn_id);
    if req.stream == Some(true) {
        let include_usage = req
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false);
        let s = stream::Answer {
            core: st.core.clone(),
            id,
            model,
            created: now_secs(),
            include_usage,
            tokens_before: prepared.tokens_before,
            stored_before: prepared.stored_before,
            client_tools: prepared.client_tools.clone(),
            turn: started,
        };
        let res = stream::respond(s, rx, st.shutdown.clone()).into_response();
        return Ok(with_session(res, Some(&sid)));
    }
    let end = st
        .core
        // Not cut short by the server's shutdown: the core cancels the turn, and its end
        // (cancelled) still answers the request.
        .wait_turn_end(rx, &started, &tokio_util::sync::CancellationToken::new())
        .await
        .ok_or_else(|| {
            (
                OpenAiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the gateway is shutting down; the turn's outcome is in its session",
                ),
                Some(sid.clone()),
            )
        })?;
    let finish = finish_reason(&end).map_err(|e| (e, Some(sid.clone())))?;
    let core = st.core.clone();
    let (text, calls, usage) = blocking({
        let sid = sid.clone();
        move || answer(&core, &sid, &prepared)
    })
    .await
    .map_err(|e| (e.into(), Some(sid.clone())))?;
    let body = ChatCompletion {
        id,
        object: "chat.completion".into(),
        created: now_secs(),
        model,
        choices: vec![Choice {
            index: 0,
            finish_reason: if calls.is_empty() {
                finish
            } else {
                FinishReason::ToolCalls
            },
            message: AnswerMessage {
                role: ChatRole::Assistant,
                content: (!text.is_empty() || calls.is_empty()).then_some(text),
                refusal: None,
                tool_calls: (!calls.is_empty()).then_some(calls),
            },
            logprobs: None,
        }],
        usage,
        system_fingerprint: None,
    };
    Ok(with_session(Json(body).into_response(), Some(&sid)))
}

/// The agent the request's `model` names, if this core has it and the caller's key may use it.
async fn known_agent(
    core: &Core,
    model: &str,
    key: Option<&ApiKey>,
) -> Result<String, OpenAiError> {
    let not_found = || {
        OpenAiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "the model `{model}` does not exist; use `pryx` or `pryx:<agent id>` (GET /v1/models lists them)"
            ),
        )
        .with_param("model")
        .with_code("model_not_found")
    };
    let agent = request::agent_of(model).ok_or_else(not_found)?.to_string();
    if let Some(k) = key.filter(|k| !k.allows(&agent)) {
        let allowed: Vec<String> = k.agents.iter().map(|a| model_id(a)).collect();
        return Err(OpenAiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this API key may not use the model `{model}`; it may use {}",
                allowed.join(", ")
            ),
        )
        .with_param("model")
        .with_code("model_not_allowed"));
    }
    let core = core.clone();
    let ids: Vec<String> =
        blocking(move || Ok(core.profiles().into_iter().map(|p| p.id).collect())).await?;
    if ids.contains(&agent) {
        Ok(agent)
    } else {
        Err(not_found())
    }
}

/// Finds or creates the session and works out the turn's prompt from the history.
fn prepare(
    core: &Core,
    agent: &str,
    session: Option<String>,
    said: &[request::Said],
    key: Caller,
    client_tools: Vec<String>,
) -> Result<(Prepared, history::NewInput), OpenAiError> {
    let store = core.store();
    let Some(sid) = session else {
        if said.iter().any(|s| s.role != ChatRole::User) {
            return Err(OpenAiError::param(
                "messages",
                format!(
                    "a new session starts from one user message; to continue a conversation, send the `{SESSION_HEADER}` header its earlier answer carried"
                ),
            )
            .with_code("history_without_session"));
        }
        let input = history::new_input(said, &[])?;
        let s = core.create_session(&SessionRequest {
            agent: Some(agent.to_string()),
            ..SessionRequest::default()
        })?;
        if let Some(k) = &key
            && let Err(e) = store.set_session_api_key(&s.id, &k.id)
        {
            let _ = core.delete_session(&s.id);
            return Err(pryx_core::CoreError::from(e).into());
        }
        let prepared = Prepared {
            session_id: s.id,
            stored_before: 0,
            client_tools,
            tokens_before: (0, 0),
            created: true,
        };
        return Ok((prepared, input));
    };
    let not_found = || {
        OpenAiError::new(
            StatusCode::NOT_FOUND,
            format!("session {sid} not found; leave out `{SESSION_HEADER}` to start a new session"),
        )
        .with_code("session_not_found")
    };
    let s = store
        .get_session(&sid)
        .map_err(pryx_core::CoreError::from)?
        .ok_or_else(not_found)?;
    // A key continues only the sessions it started: another client's conversation is not
    // there for it (the same answer as an unknown id). The gateway token continues any.
    if let Some(k) = &key {
        let owner = store
            .session_api_key(&sid)
            .map_err(pryx_core::CoreError::from)?;
        if owner.as_deref() != Some(k.id.as_str()) {
            return Err(not_found());
        }
    }
    let owner = s
        .agent
        .clone()
        .unwrap_or_else(|| pryx_config::MAIN_AGENT.to_string());
    if owner != agent {
        return Err(OpenAiError::param(
            "model",
            format!(
                "session {sid} belongs to agent `{owner}`; send `model: \"pryx:{owner}\"` to continue it"
            ),
        )
        .with_code("model_mismatch"));
    }
    let messages = store
        .list_messages(&sid)
        .map_err(pryx_core::CoreError::from)?;
    let input = history::new_input(said, &history::stored_view(&messages, &client_tools))?;
    let prepared = Prepared {
        session_id: sid,
        stored_before: messages.len(),
        client_tools,
        tokens_before: (s.total_tokens_in, s.total_tokens_out),
        created: false,
    };
    Ok((prepared, input))
}

/// How an OpenAI client is told the turn ended; a failed turn is an error.
pub(crate) fn finish_reason(end: &TurnEnd) -> Result<FinishReason, OpenAiError> {
    match end {
        TurnEnd::Completed { .. } | TurnEnd::Cancelled { .. } => Ok(FinishReason::Stop),
        TurnEnd::StepLimit { .. } | TurnEnd::BudgetExceeded { .. } => Ok(FinishReason::Length),
        TurnEnd::Error {
            code,
            message,
            trace_id,
        } => {
            let status = match crate::error::status_of(*code) {
                s if s == StatusCode::INTERNAL_SERVER_ERROR => StatusCode::BAD_GATEWAY,
                s => s,
            };
            let trace = end
                .short_trace()
                .map(|t| format!(" (trace {t})"))
                .unwrap_or_default();
            Err(
                OpenAiError::new(status, format!("the turn failed: {message}{trace}"))
                    .with_code(code.as_str().to_ascii_lowercase())
                    .with_trace(trace_id.clone()),
            )
        }
        TurnEnd::Interrupted => Err(OpenAiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the turn was interrupted (the process running it stopped); send the message again",
        )
        .with_code("interrupted")),
    }
}

/// The turn's answer text, the calls of the client's tools it left open, and its tokens, from
/// the store.
fn answer(
    core: &Core,
    sid: &str,
    p: &Prepared,
) -> Result<(String, Vec<ChatToolCall>, Usage), crate::ApiError> {
    let (text, calls) = turn_output(core, sid, p.stored_before, &p.client_tools)?;
    Ok((text, calls, usage_since(core, sid, p.tokens_before)?))
}

/// What a turn that began after `stored_before` messages answered: all its text, and the calls
/// of the client's tools its last message made.
pub(crate) fn turn_output(
    core: &Core,
    sid: &str,
    stored_before: usize,
    client_tools: &[String],
) -> Result<(String, Vec<ChatToolCall>), crate::ApiError> {
    let messages = core.store().list_messages(sid)?;
    let turn = messages.get(stored_before..).unwrap_or_default();
    let text = turn
        .iter()
        .skip_while(|m| m.role != pryx_store::Role::Assistant)
        .take_while(|m| m.role != pryx_store::Role::User)
        .filter(|m| m.role == pryx_store::Role::Assistant)
        .map(|m| m.text.as_str())
        .collect::<String>();
    let view = history::stored_view(turn, client_tools);
    Ok((text, history::pending_calls(&view)))
}

/// Tokens the session spent since `before` (the turn's: one turn runs per session).
pub(crate) fn usage_since(
    core: &Core,
    sid: &str,
    before: (u64, u64),
) -> Result<Usage, crate::ApiError> {
    let s = core
        .store()
        .get_session(sid)?
        .ok_or_else(|| crate::ApiError::not_found(format!("session {sid} was deleted")))?;
    Ok(Usage::new(
        s.total_tokens_in.saturating_sub(before.0),
        s.total_tokens_out.saturating_sub(before.1),
    ))
}
