//! The turn loop: ask the model, run its tool calls, feed results back, until it answers.

use crate::agent::Agent;
use crate::context::Conversation;
use crate::error::AgentError;
use crate::history::{INTERRUPTED_RESULT, dangling_calls, title_from_prompt};
use crate::model_call::{Billed, Call};
use crate::prompt::system_prompt;
use crate::tool_call::CallEnd;
use pryx_catalog::{TokenUsage, check_request, estimate_tokens};
use pryx_llm::{Message, ToolSpec};
use pryx_protocol::{ErrorOccurred, TurnEnd, TurnStarted, TurnStop};
use pryx_store::{MessageUsage, NewMessage, NewSpan, Role, SpanEnd, SpanKind, SpanStatus};
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Result text for calls of the same model message that never ran because the turn was
/// cancelled first.
const NOT_RUN_CANCELLED: &str = "not run: the user cancelled the turn before this call started";

/// What a finished turn reports to its caller.
#[derive(Debug, Clone, Serialize)]
pub struct TurnReport {
    pub session_id: String,
    pub stop: TurnStop,
    /// The final answer (the text of the last assistant message).
    pub answer: String,
    pub steps: u32,
    pub tool_calls: u32,
    pub usage: TokenUsage,
    pub cost_usd: f64,
    /// Why the turn stopped at a limit (which budget, and the setting that raises it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
}

/// What every step of one turn needs: where it runs, its span and its cancel token, the model
/// it is on (0: the agent's own, then its fallbacks) and the budgets it has warned about.
pub(crate) struct TurnCtx<'a> {
    pub session_id: &'a str,
    pub span: &'a pryx_store::Span,
    pub cancel: &'a CancellationToken,
    pub model: std::sync::atomic::AtomicUsize,
    pub warnings: std::sync::Mutex<Vec<String>>,
    /// Tool output goes back to a model, inside an untrusted-data boundary (not for a client
    /// that called a tool itself).
    pub for_model: bool,
}

impl TurnCtx<'_> {
    /// True the first time budget `name` is warned about in this turn.
    pub fn warned(&self, name: &str) -> bool {
        let mut seen = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        if seen.iter().any(|n| n == name) {
            return false;
        }
        seen.push(name.to_string());
        true
    }
}

/// A turn whose start is durable: the user message, the turn span and `turn.started` are
/// committed. Finish it with [`Agent::finish_turn`].
pub struct BegunTurn {
    session_id: String,
    history: Conversation,
    span: pryx_store::Span,
    client_tools: Vec<ToolSpec>,
}

/// What starts a turn: the user's message, or the results of the tools a client ran for the
/// turn before (pass-through tools of the OpenAI-compatible endpoint).
#[derive(Debug, Clone, PartialEq)]
pub enum TurnInput {
    Prompt(String),
    ToolResults(Vec<ClientResult>),
}

/// The result a client sends for one of its own tools the model called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResult {
    /// The id of the model's call.
    pub call_id: String,
    pub content: String,
}

/// Tools a client offers for one turn: the model may call them as it calls Pryx's, but Pryx
/// does not run them. A turn whose model calls one ends there, the call left open for the client
/// to answer with [`TurnInput::ToolResults`].
pub type ClientTools = Vec<ToolSpec>;

impl BegunTurn {
    /// The turn span's id (the turn's trace).
    pub fn span_id(&self) -> &str {
        &self.span.id
    }
}

impl Agent {
    /// Runs one user turn in `session_id` to its end. Everything is stored as it happens.
    /// Cancelling `cancel` ends the turn with [`TurnStop::Cancelled`], also in the middle of a
    /// tool call or an approval wait.
    pub async fn run_turn(
        &self,
        session_id: &str,
        prompt: &str,
        cancel: CancellationToken,
    ) -> Result<TurnReport, AgentError> {
        let begun = self.begin_turn(session_id, prompt).await?;
        self.finish_turn(begun, cancel).await
    }

    /// Commits the start of a turn (the user message, the turn span, `turn.started`) and returns
    /// once it is durable, so whoever acknowledges the message to a client can promise it is kept.
    pub async fn begin_turn(
        &self,
        session_id: &str,
        prompt: &str,
    ) -> Result<BegunTurn, AgentError> {
        self.begin_turn_with(
            session_id,
            TurnInput::Prompt(prompt.to_string()),
            Vec::new(),
        )
        .await
    }

    /// As [`Agent::begin_turn`], from `input`, with `client_tools` offered to the model.
    pub async fn begin_turn_with(
        &self,
        session_id: &str,
        input: TurnInput,
        client_tools: ClientTools,
    ) -> Result<BegunTurn, AgentError> {
        if let TurnInput::Prompt(prompt) = &input {
            self.check_prompt_fits(prompt)?;
        }
        // Store work is batched into few hops to the store thread (each costs a wake-up).
        let sid = session_id.to_string();
        let (session, mut history) = self
            .db(move |s| {
                let session = s.get_session(&sid)?;
                s.mark_interrupted(&sid)?;
                Ok((session, crate::context::load(s, &sid)?))
            })
            .await?;
        let session = session.ok_or_else(|| AgentError::SessionNotFound(session_id.to_string()))?;
        // The client's results close the calls it was asked to run, before anything else would
        // close them as interrupted.
        if let TurnInput::ToolResults(results) = &input {
            for r in results {
                let result = Message::tool_result(r.call_id.clone(), r.content.clone(), false);
                let stored = self
                    .persist_message(session_id, &result, None, Some(&r.call_id))
                    .await?;
                history.push(result, &stored);
            }
        }
        let mut history = self.recover(session_id, history).await?;
        let (sid, model_id) = (session_id.to_string(), self.model_id());
        let title = match &input {
            TurnInput::Prompt(prompt) if history.entries.is_empty() && session.title.is_empty() => {
                Some(title_from_prompt(prompt))
            }
            _ => None,
        };
        let span = NewSpan {
            trace_id: None,
            parent_id: None,
            session_id: Some(session_id.to_string()),
            kind: SpanKind::Turn,
            name: "turn".to_string(),
            attributes: json!({"model": self.model_id(), "surface": self.parts.settings.surface.as_str()}),
        };
        let user = match &input {
            TurnInput::Prompt(prompt) => {
                let user = Message::user(prompt);
                Some((self.new_message(session_id, &user, None, None)?, user))
            }
            TurnInput::ToolResults(_) => None,
        };
        let stored_user = user.clone();
        let (turn_span, stored_user) = self
            .batch(session_id, move |b| {
                if let Some(title) = title {
                    b.store.set_session_title(&sid, &title)?;
                }
                b.store.set_session_model(&sid, &model_id)?;
                let span = b.store.start_span(&span)?;
                b.emit(TurnStarted {
                    span_id: span.id.clone(),
                })?;
                b.span(&span);
                let stored = match stored_user {
                    Some((new_user, user)) => Some(b.message(&new_user, user)?),
                    None => None,
                };
                Ok((span, stored))
            })
            .await?;
        if let (Some((_, user)), Some(stored)) = (user, stored_user) {
            history.push(user, &stored);
        }
        Ok(BegunTurn {
            session_id: session_id.to_string(),
            history,
            span: turn_span,
            client_tools,
        })
    }

    pub(crate) fn tool_specs(&self) -> Vec<ToolSpec> {
        self.parts
            .tools
            .definitions()
            .into_iter()
            .map(|d| ToolSpec {
                name: d.name,
                description: d.description,
                parameters: d.parameters,
            })
            .collect()
    }

    /// Refuses a prompt that could never fit the model, before it is stored: kept in the
    /// history, it would make every later turn of the session fail the same way.
    fn check_prompt_fits(&self, prompt: &str) -> Result<(), AgentError> {
        let tools = serde_json::to_string(&self.tool_specs()).unwrap_or_default();
        let text = format!("{}{tools}{prompt}", system_prompt(self.workspace()));
        match check_request(
            &self.parts.model,
            estimate_tokens(&text),
            false,
            false,
            None,
        ) {
            Err(pryx_catalog::ConstraintError::ContextExceeded { estimated, limit }) => {
                Err(AgentError::PromptTooLarge {
                    model: self.model_id(),
                    estimated,
                    limit,
                })
            }
            _ => Ok(()),
        }
    }

    /// Runs a begun turn to its end.
    pub async fn finish_turn(
        &self,
        begun: BegunTurn,
        cancel: CancellationToken,
    ) -> Result<TurnReport, AgentError> {
        let BegunTurn {
            session_id,
            mut history,
            span: turn_span,
            client_tools,
        } = begun;
        let session_id = session_id.as_str();
        let mut report = TurnReport {
            session_id: session_id.to_string(),
            stop: TurnStop::Completed,
            answer: String::new(),
            steps: 0,
            tool_calls: 0,
            usage: TokenUsage::default(),
            cost_usd: 0.0,
            stop_reason: None,
        };
        let turn = TurnCtx {
            session_id,
            span: &turn_span,
            cancel: &cancel,
            model: Default::default(),
            warnings: Default::default(),
            for_model: true,
        };
        let result = self
            .turn_steps(&turn, &mut history, &client_tools, &mut report)
            .await;
        let status = match (&result, report.stop) {
            (Err(_), _) => SpanStatus::Error,
            (Ok(()), TurnStop::Cancelled) => SpanStatus::Cancelled,
            _ => SpanStatus::Ok,
        };
        let mut end = SpanEnd::status(status);
        end.tokens_in = Some(report.usage.total_input());
        end.tokens_out = Some(report.usage.output);
        end.cost_usd = Some(report.cost_usd);
        let (failed, completed) = match &result {
            Ok(()) => (
                None,
                match (report.stop, &report.stop_reason) {
                    (TurnStop::BudgetExceeded, Some(why)) => TurnEnd::BudgetExceeded {
                        steps: report.steps,
                        cost_usd: report.cost_usd,
                        message: why.clone(),
                    },
                    (stop, _) => TurnEnd::finished(stop, report.steps, report.cost_usd),
                },
            ),
            Err(e) => (
                Some(ErrorOccurred::new(e.code(), e.to_string())),
                TurnEnd::Error {
                    code: e.code(),
                    message: e.to_string(),
                    trace_id: Some(turn_span.trace_id.clone()),
                },
            ),
        };
        let span_id = turn_span.id.clone();
        self.batch(session_id, move |b| {
            let ended = b.store.end_span(&span_id, &end)?;
            // Before the end: a client that stops reading at `turn.completed` has it.
            b.span(&ended);
            if let Some(failed) = failed {
                b.emit(failed)?;
            }
            b.emit(completed)
        })
        .await?;
        result.map(|()| report)
    }

    /// The system prompt of a turn starting now: the base rules and workspace instructions,
    /// then each prompt source's text.
    pub(crate) fn system_now(&self) -> String {
        let mut system = system_prompt(self.workspace());
        for source in &self.parts.prompt_sources {
            if let Some(extra) = source() {
                system.push_str("\n\n");
                system.push_str(&extra);
            }
        }
        system
    }

    async fn turn_steps(
        &self,
        turn: &TurnCtx<'_>,
        history: &mut Conversation,
        client_tools: &[ToolSpec],
        report: &mut TurnReport,
    ) -> Result<(), AgentError> {
        let session_id = turn.session_id;
        let system = self.system_now();
        let mut tools = self.tool_specs();
        tools.extend(client_tools.iter().cloned());
        let is_client = |name: &str| client_tools.iter().any(|t| t.name == name);
        loop {
            if turn.cancel.is_cancelled() {
                report.stop = TurnStop::Cancelled;
                return Ok(());
            }
            if report.steps >= self.parts.settings.max_steps {
                report.stop = TurnStop::StepLimit;
                return Ok(());
            }
            report.steps += 1;
            let messages = match self.prepare_request(turn, history, &system, &tools).await? {
                crate::context::Prepared::Messages(m) => m,
                crate::context::Prepared::OverBudget(why) => {
                    report.steps -= 1;
                    report.stop = TurnStop::BudgetExceeded;
                    report.stop_reason = Some(why);
                    return Ok(());
                }
            };
            let (response, billed) = match self
                .model_call(turn, &system, &tools, &messages, report)
                .await
            {
                Ok(Call::Answered(response, billed)) => (response, billed),
                Ok(Call::OverBudget(why)) => {
                    report.steps -= 1;
                    report.stop = TurnStop::BudgetExceeded;
                    report.stop_reason = Some(why);
                    return Ok(());
                }
                Err(AgentError::Llm(pryx_llm::LlmError::Cancelled)) => {
                    report.stop = TurnStop::Cancelled;
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let calls: Vec<pryx_llm::ToolCall> =
                response.tool_calls().into_iter().cloned().collect();
            report.answer = response.text();
            let message = response.into_message();
            let stored = self
                .persist_message(session_id, &message, Some(&billed), None)
                .await?;
            history.push(message, &stored);
            if calls.is_empty() {
                report.stop = TurnStop::Completed;
                return Ok(());
            }
            let mut cancelled = false;
            // The client's own tools are left open for it to run; the turn ends after Pryx's.
            let (client_calls, calls): (Vec<_>, Vec<_>) =
                calls.into_iter().partition(|c| is_client(&c.name));
            for call in &calls {
                if cancelled {
                    // Every call of the message gets a result, so the conversation stays valid.
                    let result = Message::tool_result(call.id.clone(), NOT_RUN_CANCELLED, true);
                    let stored_result = self
                        .persist_message(session_id, &result, None, Some(&call.id))
                        .await?;
                    history.push(result, &stored_result);
                    continue;
                }
                report.tool_calls += 1;
                let outcome = self.handle_tool_call(turn, Some(&stored.id), call).await?;
                let result =
                    Message::tool_result(call.id.clone(), outcome.content, outcome.is_error);
                let stored_result = self
                    .persist_message(session_id, &result, None, Some(&call.id))
                    .await?;
                history.push(result, &stored_result);
                match outcome.end {
                    CallEnd::Continue => {}
                    CallEnd::Cancelled => cancelled = true,
                    CallEnd::Fatal(message) => {
                        return Err(AgentError::FatalTool {
                            tool: call.name.clone(),
                            message,
                        });
                    }
                }
            }
            if cancelled || turn.cancel.is_cancelled() {
                report.stop = TurnStop::Cancelled;
                return Ok(());
            }
            if !client_calls.is_empty() {
                report.stop = TurnStop::Completed;
                return Ok(());
            }
        }
    }

    /// Loads the conversation, closing any tool call a crash left without a result.
    async fn recover(
        &self,
        session_id: &str,
        mut history: Conversation,
    ) -> Result<Conversation, AgentError> {
        for (call_id, tool) in dangling_calls(&history.messages()) {
            let result = Message::tool_result(call_id.clone(), INTERRUPTED_RESULT, true);
            let stored = self
                .persist_message(session_id, &result, None, Some(&call_id))
                .await?;
            self.audit(
                session_id,
                "tool.interrupted",
                &call_id,
                json!({"tool": tool}),
                "interrupted",
            )
            .await?;
            history.push(result, &stored);
        }
        Ok(history)
    }

    pub(crate) async fn persist_message(
        &self,
        session_id: &str,
        message: &Message,
        usage: Option<&Billed>,
        tool_call_id: Option<&str>,
    ) -> Result<pryx_store::Message, AgentError> {
        let new = self.new_message(session_id, message, usage, tool_call_id)?;
        let message = message.clone();
        self.batch(session_id, move |b| b.message(&new, message))
            .await
    }

    /// The row to store for `message`.
    fn new_message(
        &self,
        session_id: &str,
        message: &Message,
        billed: Option<&Billed>,
        tool_call_id: Option<&str>,
    ) -> Result<NewMessage, AgentError> {
        let role = Role::from(message.role());
        let usage = billed.map_or_else(MessageUsage::default, |b| MessageUsage {
            tokens_in: Some(b.usage.input),
            tokens_out: Some(b.usage.output),
            cache_read_tokens: Some(b.usage.cache_read),
            cache_write_tokens: Some(b.usage.cache_write),
            cost_usd: Some(b.cost),
        });
        let content =
            serde_json::to_value(message).map_err(|e| AgentError::Internal(e.to_string()))?;
        Ok(NewMessage {
            session_id: session_id.to_string(),
            role,
            content,
            text: message.text(),
            tool_call_id: tool_call_id.map(str::to_string),
            model: (role == Role::Assistant)
                .then(|| billed.map_or_else(|| self.model_id(), |b| b.model.clone())),
            usage,
        })
    }
}
