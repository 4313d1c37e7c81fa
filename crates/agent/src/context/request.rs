//! Before each model call of a turn: the request's messages, compacted first when the context
//! passed the compaction threshold, and `context.warning` once past the warning threshold.

use super::{Conversation, assemble, assemble_squeezed, can_compact, request_tokens};
use crate::agent::Agent;
use crate::error::AgentError;
use crate::turn::TurnCtx;
use pryx_llm::{Message, ToolSpec};
use pryx_protocol::{ContextWarning, EventKind, PrunedKind};
use pryx_store::CompactionTrigger;

/// What a model call of the turn sends, or why it may not run.
pub(crate) enum Prepared {
    Messages(Vec<Message>),
    /// Compacting first would pass a budget: why, and the setting that raises it.
    OverBudget(String),
}

impl Agent {
    /// The model's input window in tokens.
    pub(crate) fn window(&self) -> u64 {
        u64::from(
            self.parts
                .model
                .input_limit
                .unwrap_or(self.parts.model.context),
        )
    }

    /// The messages of the turn's next model call. At the compaction threshold the older
    /// turns are summarised first (a failure fails the turn: the history is never cut
    /// silently); when even then the pinned messages alone fill the window, the user is told
    /// which to unpin.
    pub(crate) async fn prepare_request(
        &self,
        turn: &TurnCtx<'_>,
        conv: &mut Conversation,
        system: &str,
        tools: &[ToolSpec],
    ) -> Result<Prepared, AgentError> {
        let settings = self.parts.settings.context;
        let tools_json = serde_json::to_string(tools).unwrap_or_default();
        let window = self.window() as f64;
        let mut messages = assemble(conv, &settings).messages;
        let mut tokens = request_tokens(system, &tools_json, &messages);
        if window > 0.0 && tokens as f64 >= settings.compact_at * window && can_compact(conv) {
            if let Some(estimate) = self.compaction_estimate(conv)
                && let Some(why) = self.check_budgets(turn, estimate.cost_usd).await?
            {
                return Ok(Prepared::OverBudget(why));
            }
            match self
                .compact_conversation(
                    turn.session_id,
                    conv,
                    CompactionTrigger::Auto,
                    Some(turn.span),
                    tokens,
                    turn.cancel,
                )
                .await
            {
                Ok(_) => {
                    messages = assemble(conv, &settings).messages;
                    tokens = request_tokens(system, &tools_json, &messages);
                    self.check_pinned_fit(conv, system, &tools_json)?;
                }
                // Too much to summarise at once: the whole history goes on to the model call,
                // which hands over to a fallback with a larger window or says it is too long.
                Err(AgentError::CannotCompact(_)) => {}
                Err(e) => return Err(e),
            }
        }
        // Still too large (one turn of many tool calls fills the window): the turn's older
        // results are squeezed — trimmed, then elided — rather than the call failing.
        for kind in [PrunedKind::Trimmed, PrunedKind::Elided] {
            if window <= 0.0 || (tokens as f64) < settings.compact_at * window {
                break;
            }
            messages = assemble_squeezed(conv, &settings, kind).messages;
            tokens = request_tokens(system, &tools_json, &messages);
        }
        if window > 0.0 && tokens as f64 >= settings.warn_at * window {
            let sid = turn.session_id.to_string();
            let warned = self
                .db(move |s| {
                    Ok(s.last_event_version_of(&sid, EventKind::ContextWarning)?
                        > s.last_event_version_of(&sid, EventKind::ContextCompacted)?)
                })
                .await?;
            if !warned {
                self.emit(
                    turn.session_id,
                    ContextWarning {
                        tokens,
                        window: window as u64,
                        percent: percent(tokens, window as u64),
                        compact_at_percent: (settings.compact_at * 100.0).round() as u8,
                    },
                )
                .await?;
            }
        }
        Ok(Prepared::Messages(messages))
    }

    /// Fails when the system prompt, tools and pinned messages alone take the window up to
    /// the compaction threshold: no compaction can help, only unpinning.
    pub(crate) fn check_pinned_fit(
        &self,
        conv: &Conversation,
        system: &str,
        tools_json: &str,
    ) -> Result<(), AgentError> {
        let pinned: Vec<&super::Entry> = conv.pinned().collect();
        if pinned.is_empty() {
            return Ok(());
        }
        let pinned_text: String = pinned.iter().map(|e| e.message.text()).collect();
        let fixed = request_tokens(system, tools_json, &[Message::user(pinned_text)]);
        let window = self.window();
        if (fixed as f64) < self.parts.settings.context.compact_at * window as f64 {
            return Ok(());
        }
        let list: Vec<String> = pinned
            .iter()
            .map(|e| {
                format!(
                    "message {} ({} chars)",
                    e.seq,
                    e.message.text().chars().count()
                )
            })
            .collect();
        Err(AgentError::PinnedTooLarge(format!(
            "the pinned messages with the system prompt and tools need about {fixed} tokens, too many for {}'s {window}: unpin some of them ({}) with /unpin or DELETE …/pin, then try again",
            self.model_id(),
            list.join(", ")
        )))
    }
}

/// `tokens` of `window` in percent, one decimal.
pub(crate) fn percent(tokens: u64, window: u64) -> f64 {
    if window == 0 {
        return 0.0;
    }
    (tokens as f64 * 1000.0 / window as f64).round() / 10.0
}
