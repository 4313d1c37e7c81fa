//! Waiting for a turn started in the background to end, and reading its answer: what every
//! surface that answers in one piece (the OpenAI-compatible endpoint, chat channels, webhooks)
//! needs after [`Core::start_turn`].

use crate::bus::BusEvent;
use crate::core::{Core, StartedTurn};
use pryx_protocol::{EventPayload, TurnEnd};
use std::sync::Arc;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio_util::sync::CancellationToken;

impl Core {
    /// Waits for `turn`'s `turn.completed` on a bus subscription taken before the turn started;
    /// a reader that fell behind finds it in the store. `None` when `cancel` fires or the bus
    /// closes (the core is stopping): the outcome is then in the session.
    pub async fn wait_turn_end(
        &self,
        mut rx: Receiver<Arc<BusEvent>>,
        turn: &StartedTurn,
        cancel: &CancellationToken,
    ) -> Option<TurnEnd> {
        loop {
            let ev = tokio::select! {
                _ = cancel.cancelled() => return None,
                ev = rx.recv() => ev,
            };
            match ev {
                Ok(ev) => {
                    let e = &ev.event;
                    if e.session_id == turn.session_id
                        && e.version.is_some_and(|v| v > turn.after_version)
                        && let EventPayload::TurnCompleted(end) = &e.payload
                    {
                        return Some(end.clone());
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let (sid, after) = (turn.session_id.clone(), turn.after_version);
                    let stored = self
                        .blocking(move |c| Ok(c.store().events_since(&sid, after, u32::MAX)?))
                        .await
                        .ok()?;
                    if let Some(end) = stored.into_iter().find_map(|e| match e.payload {
                        EventPayload::TurnCompleted(end) => Some(end),
                        _ => None,
                    }) {
                        return Some(end);
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The assistant's text of a finished turn, from the messages it stored (the turn's tool
    /// rounds' texts joined by a blank line).
    pub fn turn_answer(&self, turn: &StartedTurn) -> Option<String> {
        let events = self
            .store()
            .events_since(&turn.session_id, turn.after_version, u32::MAX)
            .ok()?;
        let texts: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.payload {
                EventPayload::SessionMessage(m)
                    if m.role == pryx_protocol::message::Role::Assistant =>
                {
                    Some(m.content.text())
                }
                _ => None,
            })
            .filter(|t| !t.trim().is_empty())
            .collect();
        Some(texts.join("\n\n"))
    }

    /// What a channel says about the context after a turn: that it was compacted, or that it
    /// passed the warning threshold (one line; `None` when neither happened in the turn).
    pub fn turn_context_note(&self, turn: &StartedTurn) -> Option<String> {
        let events = self
            .store()
            .events_since(&turn.session_id, turn.after_version, u32::MAX)
            .ok()?;
        events.iter().rev().find_map(|e| match &e.payload {
            EventPayload::ContextCompacted(c) => Some(format!(
                "ℹ️ The conversation was getting long: {} earlier messages are now a summary (they stay saved).",
                c.messages
            )),
            EventPayload::ContextWarning(w) => Some(format!(
                "ℹ️ This conversation fills {:.0}% of the model's context; older messages are summarised at {}%. /compact does it now, /new starts afresh.",
                w.percent, w.compact_at_percent
            )),
            _ => None,
        })
    }
}
