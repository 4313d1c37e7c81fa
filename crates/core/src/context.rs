//! A session's context on the core: how full it is, compaction on request, pins and forks.

use crate::core::Core;
use crate::error::CoreError;
use pryx_agent::PINNED_CAP;
use pryx_protocol::{ContextCompacted, SessionContext};
use pryx_store::Session;
use tokio_util::sync::CancellationToken;

impl Core {
    /// How full the model's window is for the session's next request, and with what.
    pub async fn session_context(&self, session_id: &str) -> Result<SessionContext, CoreError> {
        let agent = self.session_agent(session_id).await?;
        Ok(agent.session_context(session_id).await?)
    }

    /// Summarises the session's messages before its latest request now (`/compact`). No turn
    /// runs in the session meanwhile; one running refuses it.
    pub async fn compact_session(&self, session_id: &str) -> Result<ContextCompacted, CoreError> {
        if self.is_shutting_down() {
            return Err(CoreError::ShuttingDown);
        }
        let agent = self.session_agent(session_id).await?;
        let cancel = CancellationToken::new();
        let id = format!("compaction-{}", uuid::Uuid::now_v7());
        if !self.inner.turns.reserve(session_id, &id, cancel.clone()) {
            return Err(CoreError::SessionBusy(session_id.to_string()));
        }
        let result = agent.compact_session(session_id, &cancel).await;
        self.inner.turns.finish(session_id, &id);
        Ok(result?)
    }

    /// Pins (or unpins) a message: it reaches the model verbatim through compaction and
    /// pruning. Pins of a session together stay under [`PINNED_CAP`] characters.
    pub fn pin_message(
        &self,
        session_id: &str,
        message_id: &str,
        pinned: bool,
    ) -> Result<pryx_protocol::api::MessageView, CoreError> {
        let store = self.store();
        if store.get_session(session_id)?.is_none() {
            return Err(CoreError::SessionNotFound(session_id.to_string()));
        }
        let messages = store.list_messages(session_id)?;
        let Some(target) = messages.iter().find(|m| m.id == message_id) else {
            return Err(CoreError::MessageNotFound(
                session_id.to_string(),
                message_id.to_string(),
            ));
        };
        if pinned && !target.pinned {
            let chars = |m: &pryx_store::Message| m.conversation().text().chars().count();
            let others: Vec<&pryx_store::Message> = messages.iter().filter(|m| m.pinned).collect();
            let total = others.iter().map(|m| chars(m)).sum::<usize>() + chars(target);
            if total > PINNED_CAP {
                let list: Vec<String> = others
                    .iter()
                    .map(|m| format!("message {} ({} chars)", m.seq, chars(m)))
                    .collect();
                let hint = if list.is_empty() {
                    "pin a shorter message, or put lasting rules in the workspace's AGENTS.md"
                        .to_string()
                } else {
                    format!("unpin one of {} first", list.join(", "))
                };
                return Err(CoreError::Invalid(format!(
                    "pinning message {} ({} chars) would bring this session's pins to {total} characters, over the {PINNED_CAP} they may take: {hint}",
                    target.seq,
                    chars(target)
                )));
            }
        }
        Ok(store
            .set_message_pinned(session_id, message_id, pinned)?
            .into_view())
    }

    /// Forks a session at one of its messages (its last by default) into a new session that
    /// links to it.
    pub fn fork_session(
        &self,
        session_id: &str,
        message_id: Option<&str>,
    ) -> Result<Session, CoreError> {
        let store = self.store();
        if store.get_session(session_id)?.is_none() {
            return Err(CoreError::SessionNotFound(session_id.to_string()));
        }
        let at = match message_id {
            Some(id) => id.to_string(),
            None => store
                .list_messages(session_id)?
                .last()
                .map(|m| m.id.clone())
                .ok_or_else(|| {
                    CoreError::Conflict(format!(
                        "session {session_id} has no messages to fork from yet"
                    ))
                })?,
        };
        match store.fork_session(session_id, &at) {
            Err(pryx_store::StoreError::NotFound {
                what: "message", ..
            }) => Err(CoreError::MessageNotFound(session_id.to_string(), at)),
            other => Ok(other?),
        }
    }
}
