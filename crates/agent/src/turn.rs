//! The turn loop: ask the model, run its tool calls, feed results back, until it answers.

use crate::agent::Agent;
use crate::error::AgentError;
use crate::history::{
    INTERRUPTED_RESULT, dangling_calls, from_stored, plain_text, title_from_prompt,
};
use crate::prompt::system_prompt;
use futures_util::StreamExt;
use pryx_catalog::{TokenUsage, check_request, cost_usd, estimate_tokens};
use pryx_llm::{ChatRequest, Message, ResponseCollector, StreamEvent, ToolSpec, Usage};
use pryx_protocol::EventKind;
use pryx_store::{MessageUsage, NewMessage, Role, SpanEnd, SpanKind, SpanStatus};
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// How a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnStop {
    /// The model gave its final answer.
    Completed,
    StepLimit,
    BudgetExceeded,
    Cancelled,
}

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

impl Agent {
    /// Runs one user turn in `session_id` to its end. Everything is stored as it happens.
    pub async fn run_turn(
        &self,
        session_id: &str,
        prompt: &str,
        cancel: CancellationToken,
    ) -> Result<TurnReport, AgentError> {
        let session = self
            .store
            .get_session(session_id)?
            .ok_or_else(|| AgentError::SessionNotFound(session_id.to_string()))?;
        let mut history = self.recover(session_id)?;
        if history.is_empty() && session.title.is_empty() {
            self.store
                .set_session_title(session_id, &title_from_prompt(prompt))?;
        }
        self.store.set_session_model(session_id, &self.model_id())?;

        let turn_span = self.start_span(
            session_id,
            None,
            None,
            SpanKind::Turn,
            "turn",
            json!({"model": self.model_id(), "surface": self.settings.surface_name()}),
        )?;
        self.emit(
            session_id,
            EventKind::TurnStarted,
            json!({"span_id": turn_span.id}),
        )?;
        let user = Message::user(prompt);
        self.persist_message(session_id, &user, None, None)?;
        history.push(user);

        let mut report = TurnReport {
            session_id: session_id.to_string(),
            stop: TurnStop::Completed,
            answer: String::new(),
            steps: 0,
            tool_calls: 0,
            usage: TokenUsage::default(),
            cost_usd: 0.0,
        };
        let result = self
            .turn_steps(session_id, &turn_span, &mut history, &mut report, &cancel)
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
        self.store.end_span(&turn_span.id, &end)?;
        let mut payload =
            json!({"stop": report.stop, "steps": report.steps, "cost_usd": report.cost_usd});
        if let Err(e) = &result {
            payload = json!({"stop": "error", "code": e.code(), "message": e.to_string()});
            self.emit(session_id, EventKind::ErrorOccurred, payload.clone())?;
        }
        self.emit(session_id, EventKind::TurnCompleted, payload)?;
        result.map(|()| report)
    }

    async fn turn_steps(
        &self,
        session_id: &str,
        turn_span: &pryx_store::Span,
        history: &mut Vec<Message>,
        report: &mut TurnReport,
        cancel: &CancellationToken,
    ) -> Result<(), AgentError> {
        let mut system = system_prompt(self.workspace());
        for source in &self.prompt_sources {
            if let Some(extra) = source() {
                system.push_str("\n\n");
                system.push_str(&extra);
            }
        }
        let tools: Vec<ToolSpec> = self
            .tools
            .definitions()
            .into_iter()
            .map(|d| ToolSpec {
                name: d.name,
                description: d.description,
                parameters: d.parameters,
            })
            .collect();
        loop {
            if cancel.is_cancelled() {
                report.stop = TurnStop::Cancelled;
                return Ok(());
            }
            if report.steps >= self.settings.max_steps {
                report.stop = TurnStop::StepLimit;
                return Ok(());
            }
            if let Some(budget) = self.settings.session_budget_usd {
                let spent = self
                    .store
                    .get_session(session_id)?
                    .map(|s| s.total_cost_usd)
                    .unwrap_or(0.0);
                if spent >= budget {
                    report.stop = TurnStop::BudgetExceeded;
                    return Ok(());
                }
            }
            report.steps += 1;
            let (response, usage) = match self
                .model_call(
                    session_id, turn_span, &system, &tools, history, report, cancel,
                )
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
            let stored = self.persist_message(session_id, &message, Some(&usage), None)?;
            history.push(message);
            if calls.is_empty() {
                report.stop = TurnStop::Completed;
                return Ok(());
            }
            for call in &calls {
                report.tool_calls += 1;
                let outcome = self
                    .handle_tool_call(session_id, turn_span, &stored.id, call, cancel)
                    .await?;
                let result =
                    Message::tool_result(call.id.clone(), outcome.content, outcome.is_error);
                self.persist_message(session_id, &result, None, Some(&call.id))?;
                history.push(result);
                if let Some(message) = outcome.fatal {
                    return Err(AgentError::FatalTool {
                        tool: call.name.clone(),
                        message,
                    });
                }
            }
            if cancel.is_cancelled() {
                report.stop = TurnStop::Cancelled;
                return Ok(());
            }
        }
    }

    /// One streamed model call: constraint check, deltas to the sink, usage and cost recorded.
    #[allow(clippy::too_many_arguments)]
    async fn model_call(
        &self,
        session_id: &str,
        turn_span: &pryx_store::Span,
        system: &str,
        tools: &[ToolSpec],
        history: &[Message],
        report: &mut TurnReport,
        cancel: &CancellationToken,
    ) -> Result<(pryx_llm::ChatResponse, (TokenUsage, f64)), AgentError> {
        let estimate_text = format!(
            "{system}{}{}",
            serde_json::to_string(tools).unwrap_or_default(),
            serde_json::to_string(history).unwrap_or_default()
        );
        let has_images = history.iter().any(|m| {
            matches!(m, Message::User { content } if content.iter().any(|p| matches!(p, pryx_llm::UserPart::Image(_))))
        });
        let checked = check_request(
            &self.model,
            estimate_tokens(&estimate_text),
            !tools.is_empty(),
            has_images,
            self.settings.max_tokens,
        )?;
        let span = self.start_span(
            session_id,
            Some(&turn_span.trace_id),
            Some(&turn_span.id),
            SpanKind::ModelCall,
            &self.model_id(),
            json!({"max_tokens": checked.max_tokens}),
        )?;
        let request = ChatRequest {
            model: self.model.id.clone(),
            system: Some(system.to_string()),
            messages: history.to_vec(),
            tools: tools.to_vec(),
            max_tokens: Some(checked.max_tokens),
            temperature: None,
            thinking_budget: if self.model.reasoning {
                self.settings.thinking_budget
            } else {
                None
            },
            cancel: cancel.child_token(),
        };
        let mut stream = self.provider.stream(request);
        let mut collector = ResponseCollector::new();
        let mut failure = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    match &event {
                        StreamEvent::TextDelta(t) => self.emit_ephemeral(
                            session_id,
                            EventKind::SessionDelta,
                            json!({"text": t}),
                        ),
                        StreamEvent::ReasoningDelta(t) => self.emit_ephemeral(
                            session_id,
                            EventKind::SessionDelta,
                            json!({"reasoning": t}),
                        ),
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
            self.store.end_span(&span.id, &end)?;
            return Err(e.into());
        }
        let response = collector.finish();
        let usage = to_token_usage(&response.usage);
        let cost = cost_usd(&self.model, &usage);
        report.usage.add(&usage);
        report.cost_usd += cost;
        self.store
            .add_session_usage(session_id, usage.total_input(), usage.output, cost)?;
        let mut end = SpanEnd::status(SpanStatus::Ok);
        end.tokens_in = Some(usage.total_input());
        end.tokens_out = Some(usage.output);
        end.cost_usd = Some(cost);
        end.attributes = Some(serde_json::Map::from_iter([(
            "stop_reason".to_string(),
            serde_json::to_value(&response.stop_reason).unwrap_or_default(),
        )]));
        self.store.end_span(&span.id, &end)?;
        Ok((response, (usage, cost)))
    }

    /// Loads the conversation, closing any tool call a crash left without a result.
    fn recover(&self, session_id: &str) -> Result<Vec<Message>, AgentError> {
        self.store.mark_interrupted(session_id)?;
        let mut history = from_stored(&self.store.list_messages(session_id)?);
        for (call_id, tool) in dangling_calls(&history) {
            let result = Message::tool_result(call_id.clone(), INTERRUPTED_RESULT, true);
            self.persist_message(session_id, &result, None, Some(&call_id))?;
            self.audit(
                session_id,
                "tool.interrupted",
                &call_id,
                json!({"tool": tool}),
                "interrupted",
            )?;
            history.push(result);
        }
        Ok(history)
    }

    fn persist_message(
        &self,
        session_id: &str,
        message: &Message,
        usage: Option<&(TokenUsage, f64)>,
        tool_call_id: Option<&str>,
    ) -> Result<pryx_store::Message, AgentError> {
        let role = match message {
            Message::User { .. } => Role::User,
            Message::Assistant { .. } => Role::Assistant,
            Message::Tool(_) => Role::Tool,
        };
        let usage = usage.map_or_else(MessageUsage::default, |(u, cost)| MessageUsage {
            tokens_in: Some(u.input),
            tokens_out: Some(u.output),
            cache_read_tokens: Some(u.cache_read),
            cache_write_tokens: Some(u.cache_write),
            cost_usd: Some(*cost),
        });
        let content =
            serde_json::to_value(message).map_err(|e| AgentError::Internal(e.to_string()))?;
        let stored = self.store.append_message(&NewMessage {
            session_id: session_id.to_string(),
            role,
            content: content.clone(),
            text: plain_text(message),
            tool_call_id: tool_call_id.map(str::to_string),
            model: (role == Role::Assistant).then(|| self.model_id()),
            usage,
        })?;
        self.emit(
            session_id,
            EventKind::SessionMessage,
            json!({"message_id": stored.id, "seq": stored.seq, "role": role.as_str(), "content": content}),
        )?;
        Ok(stored)
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
