//! A session's context as the API shows it, and compaction at the user's request.

use super::request::percent;
use super::{Conversation, assemble, pinned_views, request_tokens};
use crate::agent::Agent;
use crate::error::AgentError;
use pryx_protocol::{ContextSource, SessionContext};
use pryx_store::CompactionTrigger;
use tokio_util::sync::CancellationToken;

impl Agent {
    /// How full the model's window is for `session_id`'s next request, and with what.
    pub async fn session_context(&self, session_id: &str) -> Result<SessionContext, AgentError> {
        let sid = session_id.to_string();
        let (rows, conv) = self
            .db(move |s| {
                if s.get_session(&sid)?.is_none() {
                    return Ok(None);
                }
                let rows = s.list_messages(&sid)?;
                let compactions = s.list_compactions(&sid)?;
                let count = compactions.len() as u64;
                let conv = Conversation::from_stored(&rows, compactions.into_iter().last(), count);
                Ok(Some((rows, conv)))
            })
            .await?
            .ok_or_else(|| AgentError::SessionNotFound(session_id.to_string()))?;
        let settings = self.parts.settings.context;
        let system = self.system_now();
        let tools_json = serde_json::to_string(&self.tool_specs()).unwrap_or_default();
        let assembled = assemble(&conv, &settings);
        let estimated = request_tokens(&system, &tools_json, &assembled.messages);
        // The provider's count holds while nothing came after the answer it was given with.
        let reported = rows.last().and_then(|last| {
            let fresh = conv
                .compaction
                .as_ref()
                .is_none_or(|c| c.created_at <= last.created_at);
            match (last.role, last.usage.tokens_in, fresh) {
                (pryx_store::Role::Assistant, Some(tin), true) if tin > 0 => {
                    Some(tin + last.usage.tokens_out.unwrap_or(0))
                }
                _ => None,
            }
        });
        let (tokens, source) = match reported {
            Some(t) => (t, ContextSource::Provider),
            None => (estimated, ContextSource::Estimate),
        };
        let window = self.window();
        let mut parts = assembled.parts;
        parts.system = u64::from(pryx_catalog::estimate_tokens(&system));
        parts.tools = u64::from(pryx_catalog::estimate_tokens(&tools_json));
        let pinned = pinned_views(&conv);
        Ok(SessionContext {
            session_id: session_id.to_string(),
            model: self.model_id(),
            window,
            tokens,
            source,
            percent: percent(tokens, window),
            warn_at_percent: (settings.warn_at * 100.0).round() as u8,
            compact_at_percent: (settings.compact_at * 100.0).round() as u8,
            parts,
            messages: rows.len() as u64,
            messages_sent: assembled.sent_as_is,
            compactions: conv.compactions,
            compacted_through: conv.compaction.as_ref().map(|c| c.through_seq),
            pinned_chars: pinned.iter().map(|p| p.chars).sum(),
            pinned_cap: super::PINNED_CAP as u64,
            pinned,
            pruned: assembled.pruned,
            compaction: self.compaction_estimate(&conv),
        })
    }

    /// Compacts `session_id` now (`/compact`): everything before its latest request is
    /// summarised. The caller keeps other turns out of the session meanwhile.
    pub async fn compact_session(
        &self,
        session_id: &str,
        cancel: &CancellationToken,
    ) -> Result<super::Compacted, AgentError> {
        let sid = session_id.to_string();
        let mut conv = self
            .db(move |s| {
                if s.get_session(&sid)?.is_none() {
                    return Ok(None);
                }
                super::load(s, &sid).map(Some)
            })
            .await?
            .ok_or_else(|| AgentError::SessionNotFound(session_id.to_string()))?;
        let system = self.system_now();
        let tools_json = serde_json::to_string(&self.tool_specs()).unwrap_or_default();
        let settings = self.parts.settings.context;
        let before = request_tokens(&system, &tools_json, &assemble(&conv, &settings).messages);
        let done = self
            .compact_conversation(
                session_id,
                &mut conv,
                CompactionTrigger::User,
                None,
                before,
                cancel,
            )
            .await?;
        self.check_pinned_fit(&conv, &system, &tools_json)?;
        Ok(done)
    }
}
