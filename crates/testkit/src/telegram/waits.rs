//! Waiting for what the bot does: every change the shim records wakes the waiters, so a test
//! goes on the moment its condition holds and fails clearly when it never does.

use std::sync::PoisonError;
use std::time::Duration;

use super::{BotMessage, ChatAction, Journal, TelegramEmulator};

impl TelegramEmulator {
    /// The timeout of the `wait_for` helpers (20 s unless changed).
    pub fn set_wait_timeout(&self, timeout: Duration) {
        *self
            .shared
            .wait_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = timeout;
    }

    /// Waits until `check` returns `Some` on the journal, re-checking on every change the
    /// shim records; panics naming `what` (and showing the journal) after the wait timeout.
    /// `check` runs with the journal locked: it must not call the emulator.
    pub async fn wait_for<T>(&self, what: &str, mut check: impl FnMut(&Journal) -> Option<T>) -> T {
        let timeout = *self
            .shared
            .wait_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.shared.subscribe();
        loop {
            if let Some(found) = check(&self.shared.lock().journal) {
                return found;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    let journal = self.journal();
                    panic!(
                        "Telegram emulator: timed out after {timeout:?} waiting for {what}\nbot messages: {:#?}\nchat actions: {:?}\ncalls: {:?}",
                        journal
                            .bot_messages
                            .iter()
                            .map(|m| (m.chat_id, m.message_id, &m.text))
                            .collect::<Vec<_>>(),
                        journal
                            .chat_actions
                            .iter()
                            .map(|a| (a.chat_id, &a.action))
                            .collect::<Vec<_>>(),
                        journal
                            .calls
                            .iter()
                            .map(|c| (&c.method, c.status))
                            .collect::<Vec<_>>(),
                    );
                }
            }
        }
    }

    /// Waits until the bot has sent at least `n` messages to `chat_id`; returns them all.
    pub async fn wait_for_messages(&self, chat_id: i64, n: usize) -> Vec<BotMessage> {
        self.wait_for(&format!("{n} bot message(s) in chat {chat_id}"), |j| {
            let messages = j.messages_to(chat_id);
            (messages.len() >= n).then(|| messages.into_iter().cloned().collect())
        })
        .await
    }

    /// Waits for a bot message to `chat_id` whose current text contains `needle`.
    pub async fn wait_for_text(&self, chat_id: i64, needle: &str) -> BotMessage {
        self.wait_for(
            &format!("a bot message containing {needle:?} in chat {chat_id}"),
            |j| {
                j.messages_to(chat_id)
                    .into_iter()
                    .find(|m| m.text.as_deref().is_some_and(|t| t.contains(needle)))
                    .cloned()
            },
        )
        .await
    }

    pub async fn wait_for_chat_action(&self, chat_id: i64, action: &str) -> ChatAction {
        self.wait_for(&format!("chat action {action:?} in chat {chat_id}"), |j| {
            j.chat_actions
                .iter()
                .find(|a| a.chat_id == chat_id && a.action == action)
                .cloned()
        })
        .await
    }

    /// Waits until the bot has confirmed (or taken through its webhook) update `update_id`.
    pub async fn wait_confirmed(&self, update_id: i64) {
        self.wait_for(&format!("update {update_id} confirmed"), |j| {
            (j.confirmed_below > update_id).then_some(())
        })
        .await;
    }
}
