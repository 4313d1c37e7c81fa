//! One model call of a turn: checked against the model's limits and the spending budgets,
//! streamed to the surfaces, its usage and cost recorded. A call that fails before any of its
//! output was shown, for a reason another model may not share (rate limit, server error,
//! timeout, unreachable, circuit open, or a request this model cannot take), goes on with the
//! agent's next fallback model, and the rest of the turn stays there.

use crate::agent::{Agent, ModelChoice};
use crate::error::AgentError;
use crate::turn::{TurnCtx, TurnReport};
use futures_util::StreamExt;
use pryx_catalog::{Checked, TokenUsage, check_request, cost_usd, estimate_tokens};
use pryx_llm::{ChatRequest, ChatResponse, LlmError, Message, ResponseCollector, StreamEvent};
use pryx_llm::{ToolSpec, Usage};
use pryx_protocol::{BudgetWarning, Delta, ErrorCode, ModelFallback};
use pryx_store::{CallCost, SpanEnd, SpanKind, SpanStatus};
use serde_json::json;

/// What a model call cost, and on which model.
pub(crate) struct Billed {
    pub usage: TokenUsage,
    pub cost: f64,
    /// `provider/model` that answered.
    pub model: String,
}

/// How a model call ended, when it did not fail.
pub(crate) enum Call {
    Answered(ChatResponse, Billed),
    /// A budget would be passed by this call: why, and the setting that raises it.
    OverBudget(String),
}

/// A failed attempt: the error, and whether any of its output reached a surface (then no
/// other model may take over: the user already saw part of this answer).
struct Failed {
    error: LlmError,
    shown: bool,
    /// The answer's text that reached the surfaces before the failure.
    partial: String,
}

/// Why one model should hand over to the next. A bad key, a refused request or a cancelled
/// turn would fail the same way anywhere, or must not be retried at all.
fn hands_over(e: &LlmError) -> bool {
    match e {
        LlmError::RateLimited { .. }
        | LlmError::Server { .. }
        | LlmError::Network { .. }
        | LlmError::Timeout { .. }
        | LlmError::CircuitOpen { .. } => true,
        LlmError::ContextExceeded { .. }
        | LlmError::Auth { .. }
        | LlmError::BadRequest { .. }
        | LlmError::Protocol { .. }
        | LlmError::Cancelled => false,
    }
}

/// One spending limit and what was spent against it.
struct Limit {
    name: String,
    setting: String,
    limit: f64,
    spent: f64,
}

impl Agent {
    /// The model a turn runs on at candidate `i`: 0 is the agent's own, then its fallbacks.
    fn choice(&self, i: usize) -> Option<ModelChoice> {
        match i {
            0 => Some(ModelChoice {
                provider: self.parts.provider.clone(),
                model: self.parts.model.clone(),
            }),
            n => self.parts.fallbacks.get(n - 1).cloned(),
        }
    }

    /// One model call on the turn's current model, handing over to the next fallback when
    /// that model cannot answer.
    pub(crate) async fn model_call(
        &self,
        turn: &TurnCtx<'_>,
        system: &str,
        tools: &[ToolSpec],
        history: &[Message],
        report: &mut TurnReport,
    ) -> Result<Call, AgentError> {
        let estimate_text = format!(
            "{system}{}{}",
            serde_json::to_string(tools).unwrap_or_default(),
            serde_json::to_string(history).unwrap_or_default()
        );
        let estimated = estimate_tokens(&estimate_text);
        let has_images = history.iter().any(|m| {
            matches!(m, Message::User { content } if content.iter().any(|p| matches!(p, pryx_llm::UserPart::Image(_))))
        });
        let mut handed: Option<(String, ErrorCode)> = None;
        loop {
            let i = turn.model.load(std::sync::atomic::Ordering::SeqCst);
            let Some(choice) = self.choice(i) else {
                return Err(AgentError::Internal(format!("no model at position {i}")));
            };
            let checked = match check_request(
                &choice.model,
                estimated,
                !tools.is_empty(),
                has_images,
                self.parts.settings.max_tokens,
            ) {
                Ok(c) => c,
                Err(e) if self.choice(i + 1).is_some() => {
                    let from = choice.model.full_id();
                    handed = Some((from.clone(), e.code()));
                    self.hand_over(turn, i, &from, e.code(), &e.to_string())
                        .await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let worst = cost_usd(
                &choice.model,
                &TokenUsage {
                    input: u64::from(estimated),
                    output: u64::from(checked.max_tokens),
                    ..TokenUsage::default()
                },
            );
            if let Some(message) = self.check_budgets(turn, worst).await? {
                return Ok(Call::OverBudget(message));
            }
            match self
                .attempt(
                    turn,
                    &choice,
                    checked,
                    handed.as_ref(),
                    system,
                    tools,
                    history,
                )
                .await?
            {
                Ok((response, billed)) => {
                    report.usage.add(&billed.usage);
                    report.cost_usd += billed.cost;
                    return Ok(Call::Answered(response, billed));
                }
                Err(Failed { error, shown, .. })
                    if !shown && hands_over(&error) && self.choice(i + 1).is_some() =>
                {
                    let from = choice.model.full_id();
                    handed = Some((from.clone(), error.code()));
                    self.hand_over(turn, i, &from, error.code(), &error.to_string())
                        .await?;
                }
                Err(Failed { error, partial, .. }) => {
                    // What the user already read stays in the session (a retry takes it back).
                    if !partial.is_empty() && !matches!(error, LlmError::Cancelled) {
                        self.persist_message(
                            turn.session_id,
                            &Message::assistant(partial),
                            None,
                            None,
                        )
                        .await?;
                    }
                    return Err(error.into());
                }
            }
        }
    }

    /// Moves the turn from candidate `i` to the next one and says so on every surface.
    async fn hand_over(
        &self,
        turn: &TurnCtx<'_>,
        i: usize,
        from: &str,
        code: ErrorCode,
        message: &str,
    ) -> Result<(), AgentError> {
        let to = self
            .choice(i + 1)
            .map(|c| c.model.full_id())
            .unwrap_or_default();
        turn.model.store(i + 1, std::sync::atomic::Ordering::SeqCst);
        self.emit(
            turn.session_id,
            ModelFallback {
                from: from.to_string(),
                to,
                code,
                message: self.redactor().text(message).into_owned(),
            },
        )
        .await
    }

    /// One streamed attempt on `choice`: deltas to the sink, usage and cost recorded. The outer
    /// error is the store's; the inner one the model's.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        turn: &TurnCtx<'_>,
        choice: &ModelChoice,
        checked: Checked,
        handed: Option<&(String, ErrorCode)>,
        system: &str,
        tools: &[ToolSpec],
        history: &[Message],
    ) -> Result<Result<(ChatResponse, Billed), Failed>, AgentError> {
        let session_id = turn.session_id;
        let model_id = choice.model.full_id();
        let mut attributes = json!({"max_tokens": checked.max_tokens});
        if let Some((from, code)) = handed {
            attributes["fallback_from"] = json!(from);
            attributes["fallback_reason"] = json!(code);
        }
        let span = self
            .start_span(
                session_id,
                Some(turn.span),
                SpanKind::ModelCall,
                &model_id,
                attributes,
            )
            .await?;
        let request = ChatRequest {
            model: choice.model.id.clone(),
            system: Some(system.to_string()),
            messages: history.to_vec(),
            tools: tools.to_vec(),
            max_tokens: Some(checked.max_tokens),
            temperature: None,
            thinking_budget: if choice.model.reasoning {
                self.parts.settings.thinking_budget
            } else {
                None
            },
            cancel: turn.cancel.child_token(),
        };
        let mut stream = choice.provider.stream(request);
        let mut collector = ResponseCollector::new();
        let mut failure = None;
        let mut shown = false;
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    match &event {
                        StreamEvent::TextDelta(t) => {
                            shown = true;
                            self.emit_delta(session_id, t, |text| Delta::Text { text })
                        }
                        StreamEvent::ReasoningDelta(t) => {
                            shown = true;
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
        if let Some(error) = failure {
            let status = if matches!(error, LlmError::Cancelled) {
                SpanStatus::Cancelled
            } else {
                SpanStatus::Error
            };
            let mut end = SpanEnd::status(status);
            end.attributes = Some(serde_json::Map::from_iter([
                ("error".to_string(), json!(error.to_string())),
                ("error_code".to_string(), json!(error.code())),
            ]));
            self.end_span(&span.id, end).await?;
            let partial = if shown {
                collector.finish().text()
            } else {
                String::new()
            };
            return Ok(Err(Failed {
                error,
                shown,
                partial,
            }));
        }
        let response = collector.finish();
        let usage = to_token_usage(&response.usage);
        let cost = cost_usd(&choice.model, &usage);
        let mut end = SpanEnd::status(SpanStatus::Ok);
        end.tokens_in = Some(usage.total_input());
        end.tokens_out = Some(usage.output);
        end.cost_usd = Some(cost);
        end.attributes = Some(serde_json::Map::from_iter([(
            "stop_reason".to_string(),
            serde_json::to_value(&response.stop_reason).unwrap_or_default(),
        )]));
        let spent = CallCost {
            session_id: session_id.to_string(),
            agent: self.parts.settings.agent.clone(),
            model: model_id.clone(),
            tokens_in: usage.total_input(),
            tokens_out: usage.output,
            cost_usd: cost,
        };
        let ended = self
            .db(move |s| {
                s.record_call_cost(&spent)?;
                s.end_span(&span.id, &end)
            })
            .await?;
        self.emit_span(&ended);
        Ok(Ok((
            response,
            Billed {
                usage,
                cost,
                model: model_id,
            },
        )))
    }

    /// The first budget the next call (at `worst` USD) would pass, as the message ending the
    /// turn; budgets it brings to 80 % are announced once per turn.
    pub(crate) async fn check_budgets(
        &self,
        turn: &TurnCtx<'_>,
        worst: f64,
    ) -> Result<Option<String>, AgentError> {
        let budgets = self.parts.settings.budgets;
        if budgets == crate::agent::Budgets::default() {
            return Ok(None);
        }
        let (sid, agent) = (
            turn.session_id.to_string(),
            self.parts.settings.agent.clone(),
        );
        let limits = self
            .db(move |s| {
                let now = pryx_store::now_ts();
                // Timestamps are RFC 3339 UTC: a day's and a month's start are prefixes.
                let (day, month) = (
                    format!("{}T00:00:00", now.get(..10).unwrap_or_default()),
                    format!("{}-01T00:00:00", now.get(..7).unwrap_or_default()),
                );
                let mut out = Vec::new();
                if let Some(limit) = budgets.session {
                    let spent = s.get_session(&sid)?.map_or(0.0, |x| x.total_cost_usd);
                    out.push(Limit {
                        name: "session".into(),
                        setting: if agent == "main" {
                            "agent.session_budget_usd".into()
                        } else {
                            format!("agents.{agent}.session_budget_usd")
                        },
                        limit,
                        spent,
                    });
                }
                if let Some(limit) = budgets.agent_daily {
                    out.push(Limit {
                        name: format!("agent {agent} per day"),
                        setting: if agent == "main" {
                            "agent.agent_daily_budget_usd".into()
                        } else {
                            format!("agents.{agent}.daily_budget_usd")
                        },
                        limit,
                        spent: s.spent_since(&day, Some(&agent))?,
                    });
                }
                if let Some(limit) = budgets.daily {
                    out.push(Limit {
                        name: "per day".into(),
                        setting: "agent.daily_budget_usd".into(),
                        limit,
                        spent: s.spent_since(&day, None)?,
                    });
                }
                if let Some(limit) = budgets.monthly {
                    out.push(Limit {
                        name: "per month".into(),
                        setting: "agent.monthly_budget_usd".into(),
                        limit,
                        spent: s.spent_since(&month, None)?,
                    });
                }
                Ok(out)
            })
            .await?;
        for l in &limits {
            let total = l.spent + worst;
            if total > l.limit {
                return Ok(Some(format!(
                    "the {} budget of ${:.2} would be passed: ${:.4} spent and the next call may cost up to ${:.4}; raise `{}` to go on",
                    l.name, l.limit, l.spent, worst, l.setting
                )));
            }
        }
        for l in limits {
            let total = l.spent + worst;
            if total >= 0.8 * l.limit && turn.warned(&l.name) {
                self.emit(
                    turn.session_id,
                    BudgetWarning {
                        budget: l.name,
                        setting: l.setting,
                        limit_usd: l.limit,
                        spent_usd: total,
                    },
                )
                .await?;
            }
        }
        Ok(None)
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
