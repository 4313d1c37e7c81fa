//! The turn loop: ask the model, run its tool calls, feed results back, until it answers.

use crate::agent::Agent;
use crate::error::AgentError;
use crate::history::{INTERRUPTED_RESULT, dangling_calls, from_stored, title_from_prompt};
use crate::prompt::system_prompt;
use crate::tool_call::CallEnd;
use futures_util::StreamExt;
use pryx_catalog::{TokenUsage, check_request, cost_usd, estimate_tokens};
use pryx_llm::{ChatRequest, Message, ResponseCollector, StreamEvent, ToolSpec, Usage};
use pryx_protocol::{Delta, ErrorOccurred, TurnEnd, TurnStarted, TurnStop};
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
}

/// What every step of one turn needs: where it runs, its span and its cancel token.
pub(crate) struct TurnCtx<'a> {
    pub session_id: &'a str,
    pub span: &'a pryx_store::Span,
    pub cancel: &'a CancellationToken,
}

/// A turn whose start is durable: the user message, the turn span and `turn.started` are
/// committed. Finish it with [`Agent::finish_turn`].
pub struct BegunTurn {
    session_id: String,
    history: Vec<Message>,
    span: pryx_store::Span,
}

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
        self.check_prompt_fits(prompt)?;
        // Store work is batched into few hops to the store thread (each costs a wake-up).
        let sid = session_id.to_string();
        let (session, stored) = self
            .db(move |s| {
                let session = s.get_session(&sid)?;
                s.mark_interrupted(&sid)?;
                Ok((session, s.list_messages(&sid)?))
            })
            .await?;
        let session = session.ok_or_else(|| AgentError::SessionNotFound(session_id.to_string()))?;
        let mut history = self.recover(session_id, &stored).await?;
        let (sid, model_id) = (session_id.to_string(), self.model_id());
        let title =
            (history.is_empty() && session.title.is_empty()).then(|| title_from_prompt(prompt));
        let span = NewSpan {
            trace_id: None,
            parent_id: None,
            session_id: Some(session_id.to_string()),
            kind: SpanKind::Turn,
            name: "turn".to_string(),
            attributes: json!({"model": self.model_id(), "surface": self.parts.settings.surface.as_str()}),
        };
        let user = Message::user(prompt);
        let new_user = self.new_message(session_id, &user, None, None)?;
        let stored_user = user.clone();
        let turn_span = self
            .batch(session_id, move |b| {
                if let Some(title) = title {
                    b.store.set_session_title(&sid, &title)?;
                }
                b.store.set_session_model(&sid, &model_id)?;
                let span = b.store.start_span(&span)?;
                b.emit(TurnStarted {
                    span_id: span.id.clone(),
                })?;
                b.message(&new_user, stored_user)?;
                Ok(span)
            })
            .await?;
        history.push(user);
        Ok(BegunTurn {
            session_id: session_id.to_string(),
            history,
            span: turn_span,
        })
    }

    fn tool_specs(&self) -> Vec<ToolSpec> {
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
        };
        let turn = TurnCtx {
            session_id,
            span: &turn_span,
            cancel: &cancel,
        };
        let result = self.turn_steps(&turn, &mut history, &mut report).await;
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
                TurnEnd::finished(report.stop, report.steps, report.cost_usd),
            ),
            Err(e) => (
                Some(ErrorOccurred::new(e.code(), e.to_string())),
                TurnEnd::Error {
                    code: e.code(),
                    message: e.to_string(),
                },
            ),
        };
        let span_id = turn_span.id.clone();
        self.batch(session_id, move |b| {
            b.store.end_span(&span_id, &end)?;
            if let Some(failed) = failed {
                b.emit(failed)?;
            }
            b.emit(completed)
        })
        .await?;
        result.map(|()| report)
    }

    async fn turn_steps(
        &self,
        turn: &TurnCtx<'_>,
        history: &mut Vec<Message>,
        report: &mut TurnReport,
    ) -> Result<(), AgentError> {
        let session_id = turn.session_id;
        let mut system = system_prompt(self.workspace());
        for source in &self.parts.prompt_sources {
            if let Some(extra) = source() {
                system.push_str("\n\n");
                system.push_str(&extra);
            }
        }
        let tools = self.tool_specs();
        loop {
            if turn.cancel.is_cancelled() {
                report.stop = TurnStop::Cancelled;
                return Ok(());
            }
            if report.steps >= self.parts.settings.max_steps {
                report.stop = TurnStop::StepLimit;
                return Ok(());
            }
            if let Some(budget) = self.parts.settings.session_budget_usd {
                let sid = session_id.to_string();
                let spent = self
                    .db(move |s| s.get_session(&sid))
                    .await?
                    .map(|s| s.total_cost_usd)
                    .unwrap_or(0.0);
                if spent >= budget {
                    report.stop = TurnStop::BudgetExceeded;
                    return Ok(());
                }
            }
            report.steps += 1;
            let (response, usage) = match self
                .model_call(turn, &system, &tools, history, report)
                .await
            {
                Ok(r) => r,
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
                .persist_message(session_id, &message, Some(&usage), None)
                .await?;
            history.push(message);
            if calls.is_empty() {
                report.stop = TurnStop::Completed;
                return Ok(());
            }
            let mut cancelled = false;
            for call in &calls {
                if cancelled {
                    // Every call of the message gets a result, so the conversation stays valid.
                    let result = Message::tool_result(call.id.clone(), NOT_RUN_CANCELLED, true);
                    self.persist_message(session_id, &result, None, Some(&call.id))
                        .await?;
                    history.push(result);
                    continue;
                }
                report.tool_calls += 1;
                let outcome = self.handle_tool_call(turn, &stored.id, call).await?;
                let result =
                    Message::tool_result(call.id.clone(), outcome.content, outcome.is_error);
                self.persist_message(session_id, &result, None, Some(&call.id))
                    .await?;
                history.push(result);
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
        }
    }

    /// One streamed model call: constraint check, deltas to the sink, usage and cost recorded.
    async fn model_call(
        &self,
        turn: &TurnCtx<'_>,
        system: &str,
        tools: &[ToolSpec],
        history: &[Message],
        report: &mut TurnReport,
    ) -> Result<(pryx_llm::ChatResponse, (TokenUsage, f64)), AgentError> {
        let session_id = turn.session_id;
        let estimate_text = format!(
            "{system}{}{}",
            serde_json::to_string(tools).unwrap_or_default(),
            serde_json::to_string(history).unwrap_or_default()
        );
        let has_images = history.iter().any(|m| {
            matches!(m, Message::User { content } if content.iter().any(|p| matches!(p, pryx_llm::UserPart::Image(_))))
        });
        let checked = check_request(
            &self.parts.model,
            estimate_tokens(&estimate_text),
            !tools.is_empty(),
            has_images,
            self.parts.settings.max_tokens,
        )?;
        let span = self
            .start_span(
                session_id,
                Some(turn.span),
                SpanKind::ModelCall,
                &self.model_id(),
                json!({"max_tokens": checked.max_tokens}),
            )
            .await?;
        let request = ChatRequest {
            model: self.parts.model.id.clone(),
            system: Some(system.to_string()),
            messages: history.to_vec(),
            tools: tools.to_vec(),
            max_tokens: Some(checked.max_tokens),
            temperature: None,
            thinking_budget: if self.parts.model.reasoning {
                self.parts.settings.thinking_budget
            } else {
                None
            },
            cancel: turn.cancel.child_token(),
        };
        let mut stream = self.parts.provider.stream(request);
        let mut collector = ResponseCollector::new();
        let mut failure = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    match &event {
                        StreamEvent::TextDelta(t) => {
                            self.emit_delta(session_id, t, |text| Delta::Text { text })
                        }
                        StreamEvent::ReasoningDelta(t) => {
                            self.emit_delta(session_id, t, |reasoning| Delta::Reasoning {
                                reasoning,
                            })
                        }
                        _ => {}
                    }
                    collector.push(&event);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failure {
            let status = if matches!(e, pryx_llm::LlmError::Cancelled) {
                SpanStatus::Cancelled
            } else {
                SpanStatus::Error
            };
            let mut end = SpanEnd::status(status);
            end.attributes = Some(serde_json::Map::from_iter([(
                "error".to_string(),
                json!(e.to_string()),
            )]));
            self.end_span(&span.id, end).await?;
            return Err(e.into());
        }
        let response = collector.finish();
        let usage = to_token_usage(&response.usage);
        let cost = cost_usd(&self.parts.model, &usage);
        report.usage.add(&usage);
        report.cost_usd += cost;
        let (sid, input, output) = (session_id.to_string(), usage.total_input(), usage.output);
        let mut end = SpanEnd::status(SpanStatus::Ok);
        end.tokens_in = Some(usage.total_input());
        end.tokens_out = Some(usage.output);
        end.cost_usd = Some(cost);
        end.attributes = Some(serde_json::Map::from_iter([(
            "stop_reason".to_string(),
            serde_json::to_value(&response.stop_reason).unwrap_or_default(),
        )]));
        self.db(move |s| {
            s.add_session_usage(&sid, input, output, cost)?;
            s.end_span(&span.id, &end).map(|_| ())
        })
        .await?;
        Ok((response, (usage, cost)))
    }

    /// Loads the conversation, closing any tool call a crash left without a result.
    async fn recover(
        &self,
        session_id: &str,
        stored: &[pryx_store::Message],
    ) -> Result<Vec<Message>, AgentError> {
        let mut history = from_stored(stored);
        for (call_id, tool) in dangling_calls(&history) {
            let result = Message::tool_result(call_id.clone(), INTERRUPTED_RESULT, true);
            self.persist_message(session_id, &result, None, Some(&call_id))
                .await?;
            self.audit(
                session_id,
                "tool.interrupted",
                &call_id,
                json!({"tool": tool}),
                "interrupted",
            )
            .await?;
            history.push(result);
        }
        Ok(history)
    }

    async fn persist_message(
        &self,
        session_id: &str,
        message: &Message,
        usage: Option<&(TokenUsage, f64)>,
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
        usage: Option<&(TokenUsage, f64)>,
        tool_call_id: Option<&str>,
    ) -> Result<NewMessage, AgentError> {
        let role = Role::from(message.role());
        let usage = usage.map_or_else(MessageUsage::default, |(u, cost)| MessageUsage {
            tokens_in: Some(u.input),
            tokens_out: Some(u.output),
            cache_read_tokens: Some(u.cache_read),
            cache_write_tokens: Some(u.cache_write),
            cost_usd: Some(*cost),
        });
        let content =
            serde_json::to_value(message).map_err(|e| AgentError::Internal(e.to_string()))?;
        Ok(NewMessage {
            session_id: session_id.to_string(),
            role,
            content,
            text: message.text(),
            tool_call_id: tool_call_id.map(str::to_string),
            model: (role == Role::Assistant).then(|| self.model_id()),
            usage,
        })
    }
}

fn to_token_usage(u: &Usage) -> TokenUsage {
    TokenUsage {
        input: u.input_tokens,
        output: u.output_tokens,
        cache_read: u.cache_read_tokens,
        cache_write: u.cache_write_tokens,
        reasoning: u.reasoning_tokens,
    }
}
