//! The user side: messages, button presses and files sent to the bot through the emulator's
//! client API. Every update enters through here, so the shim pulls it from the emulator right
//! after sending it and needs no polling of its own.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::files::attachment;
use super::state::Shared;
use super::{TelegramEmulator, TelegramError};

/// A Telegram user writing to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub username: Option<String>,
}

impl TgUser {
    pub fn new(id: i64, first_name: &str) -> TgUser {
        TgUser {
            id,
            first_name: first_name.to_owned(),
            username: None,
        }
    }

    pub fn with_username(mut self, username: &str) -> TgUser {
        self.username = Some(username.to_owned());
        self
    }

    fn json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        user
    }
}

/// The kind of a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    Group,
    Supergroup,
}

/// A chat the user writes in: the private chat with the bot, or a group the bot is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgChat {
    pub id: i64,
    pub kind: ChatKind,
    /// A group's title; a private chat's first name.
    pub title: String,
    pub username: Option<String>,
}

impl TgChat {
    /// The private chat with `user` (its id is the user's).
    pub fn private(user: &TgUser) -> TgChat {
        TgChat {
            id: user.id,
            kind: ChatKind::Private,
            title: user.first_name.clone(),
            username: user.username.clone(),
        }
    }

    /// A group (give a negative id, as Telegram does).
    pub fn group(id: i64, title: &str) -> TgChat {
        TgChat {
            id,
            kind: ChatKind::Group,
            title: title.to_owned(),
            username: None,
        }
    }

    pub fn supergroup(id: i64, title: &str) -> TgChat {
        TgChat {
            kind: ChatKind::Supergroup,
            ..TgChat::group(id, title)
        }
    }

    fn json(&self) -> Value {
        match self.kind {
            ChatKind::Private => {
                let mut chat = json!({"id": self.id, "type": "private", "first_name": self.title});
                if let Some(username) = &self.username {
                    chat["username"] = json!(username);
                }
                chat
            }
            ChatKind::Group => json!({"id": self.id, "type": "group", "title": self.title}),
            ChatKind::Supergroup => {
                json!({"id": self.id, "type": "supergroup", "title": self.title})
            }
        }
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `bot_command` and `mention` entities, with offsets in UTF-16 code units as Telegram counts.
fn entities(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let starts_word = prev.is_none_or(char::is_whitespace);
        if starts_word && (c == '@' || (c == '/' && i == 0)) {
            let rest = &text[i + 1..];
            let word: String = rest
                .chars()
                .take_while(|&w| w.is_ascii_alphanumeric() || w == '_' || (w == '@' && c == '/'))
                .collect();
            if !word.is_empty() {
                let kind = if c == '@' { "mention" } else { "bot_command" };
                let length = 1 + word.encode_utf16().count();
                out.push(json!({"type": kind, "offset": offset, "length": length}));
            }
        }
        offset += c.len_utf16();
        prev = Some(c);
    }
    out
}

impl TelegramEmulator {
    /// A text message from `from` in `chat`; returns its update_id. `/commands` and
    /// `@mentions` get their entities.
    pub async fn send_text(
        &self,
        chat: &TgChat,
        from: &TgUser,
        text: &str,
    ) -> Result<i64, TelegramError> {
        let message = self.message(chat, from, text, None);
        self.user_message(message).await
    }

    /// A text message in the user's private chat with the bot.
    pub async fn send_private_text(&self, from: &TgUser, text: &str) -> Result<i64, TelegramError> {
        self.send_text(&TgChat::private(from), from, text).await
    }

    /// A text message replying to the bot's message `reply_to` of `chat`.
    pub async fn send_reply(
        &self,
        chat: &TgChat,
        from: &TgUser,
        text: &str,
        reply_to: i64,
    ) -> Result<i64, TelegramError> {
        let replied = self
            .journal()
            .message(chat.id, reply_to)
            .map(|m| m.raw.clone())
            .ok_or(TelegramError::NoSuchMessage(chat.id, reply_to))?;
        let message = self.message(chat, from, text, Some(replied));
        self.user_message(message).await
    }

    /// A document (`file_name`, `bytes`) from the user; the bot can `getFile` and download it.
    pub async fn send_document(
        &self,
        chat: &TgChat,
        from: &TgUser,
        file_name: &str,
        bytes: Vec<u8>,
        caption: Option<&str>,
    ) -> Result<i64, TelegramError> {
        self.send_file(chat, from, "document", file_name, bytes, caption)
            .await
    }

    /// A photo from the user (its dimensions are placeholders).
    pub async fn send_photo(
        &self,
        chat: &TgChat,
        from: &TgUser,
        bytes: Vec<u8>,
        caption: Option<&str>,
    ) -> Result<i64, TelegramError> {
        self.send_file(chat, from, "photo", "photo.jpg", bytes, caption)
            .await
    }

    async fn send_file(
        &self,
        chat: &TgChat,
        from: &TgUser,
        kind: &str,
        file_name: &str,
        bytes: Vec<u8>,
        caption: Option<&str>,
    ) -> Result<i64, TelegramError> {
        let dir = if kind == "photo" {
            "photos"
        } else {
            "documents"
        };
        let file = self.shared.lock().store_file(bytes, dir, file_name);
        let mut message = json!({
            "from": from.json(),
            "chat": chat.json(),
            "date": now_secs(),
        });
        message[kind] = attachment(kind, &file, file_name);
        if let Some(caption) = caption {
            message["caption"] = json!(caption);
        }
        self.user_message(message).await
    }

    /// The user presses the button with `callback_data` under the bot's message `message_id`
    /// of `chat_id`; fails if the message has no such button now.
    pub async fn press_button(
        &self,
        from: &TgUser,
        chat_id: i64,
        message_id: i64,
        callback_data: &str,
    ) -> Result<i64, TelegramError> {
        let message = {
            let journal = self.journal();
            let m = journal
                .message(chat_id, message_id)
                .ok_or(TelegramError::NoSuchMessage(chat_id, message_id))?;
            if !m.callback_data().contains(&callback_data) {
                return Err(TelegramError::NoSuchButton(callback_data.to_owned()));
            }
            m.raw.clone()
        };
        let body = json!({
            "botToken": self.shared.token,
            "from": from.json(),
            "message": message,
            "data": callback_data,
        });
        inject(&self.shared, "sendCallback", body).await
    }

    /// Any message object (without `message_id`, which the emulator assigns) as an update.
    pub async fn send_raw_message(&self, message: Value) -> Result<i64, TelegramError> {
        self.user_message(message).await
    }

    fn message(&self, chat: &TgChat, from: &TgUser, text: &str, reply: Option<Value>) -> Value {
        let mut message = json!({
            "from": from.json(),
            "chat": chat.json(),
            "date": now_secs(),
            "text": text,
        });
        let entities = entities(text);
        if !entities.is_empty() {
            message["entities"] = Value::Array(entities);
        }
        if let Some(reply) = reply {
            message["reply_to_message"] = reply;
        }
        message
    }

    async fn user_message(&self, mut message: Value) -> Result<i64, TelegramError> {
        message["botToken"] = json!(self.shared.token);
        inject(&self.shared, "sendMessage", message).await
    }
}

/// Sends through the emulator's client API, then takes the update it queued into the shim's
/// queue (the emulator marks it read, so only the shim ever sees it there).
async fn inject(shared: &Shared, route: &str, body: Value) -> Result<i64, TelegramError> {
    let _one_at_a_time = shared.user_side.lock().await;
    let emulator = &shared.emulator_url;
    let failed = |e: reqwest::Error| TelegramError::Emulator(format!("{route}: {e}"));
    let sent: Value = shared
        .http
        .post(format!("{emulator}/{route}"))
        .json(&body)
        .send()
        .await
        .map_err(failed)?
        .json()
        .await
        .map_err(failed)?;
    if sent.get("ok") != Some(&Value::Bool(true)) {
        return Err(TelegramError::Emulator(format!("{route} answered {sent}")));
    }
    let pulled: Value = shared
        .http
        .post(format!("{emulator}/bot{}/getUpdates", shared.token))
        .send()
        .await
        .map_err(failed)?
        .json()
        .await
        .map_err(failed)?;
    let updates = pulled
        .get("result")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut last = None;
    shared.update(|s| {
        for update in updates {
            let Some(id) = update.get("update_id").and_then(Value::as_i64) else {
                continue;
            };
            if let Some(q) = update.pointer("/callback_query/id").and_then(Value::as_str) {
                s.callback_ids.insert(q.to_owned());
            }
            s.journal.updates_created.push(id);
            if id >= s.journal.confirmed_below {
                s.queue.push_back((id, update));
            }
            last = Some(id);
        }
    });
    last.ok_or_else(|| TelegramError::Emulator(format!("{route} queued no update: {pulled}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_count_utf16_units() {
        let e = entities("/start@TestNameBot hi 👋 @TestNameBot");
        assert_eq!(e[0]["type"], "bot_command");
        assert_eq!(e[0]["offset"], 0);
        assert_eq!(e[0]["length"], 18);
        assert_eq!(e[1]["type"], "mention");
        assert_eq!(e[1]["offset"], 25);
        assert_eq!(e[1]["length"], 12);
    }
}
