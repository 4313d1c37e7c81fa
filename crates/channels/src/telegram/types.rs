//! The parts of Bot API objects Pryx reads. Read leniently: every field Pryx can do without
//! has a default, ids may come as numbers or strings (emulators differ), and unknown fields are
//! ignored, so an update a newer Bot API adds (or an emulator shapes differently) is skipped or
//! read, never fatal to the poller.

use serde::{Deserialize, Deserializer};

/// A Telegram id (user, chat, message) read from a number or a string.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        N(i64),
        S(String),
    }
    match Either::deserialize(d)? {
        Either::N(n) => Ok(n),
        Either::S(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "id")] i64);
    Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct User {
    #[serde(deserialize_with = "id")]
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

impl User {
    /// `@username`, else the name.
    pub fn display(&self) -> String {
        match &self.username {
            Some(u) if !u.is_empty() => format!("@{u}"),
            _ => {
                let mut n = self.first_name.clone();
                if let Some(l) = &self.last_name {
                    n.push(' ');
                    n.push_str(l);
                }
                if n.trim().is_empty() {
                    self.id.to_string()
                } else {
                    n
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Chat {
    #[serde(deserialize_with = "id")]
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`; missing is read as private.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MessageEntity {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub offset: usize,
    #[serde(default)]
    pub length: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Document {
    pub file_id: String,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Message {
    #[serde(deserialize_with = "id")]
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub entities: Vec<MessageEntity>,
    #[serde(default)]
    pub caption_entities: Vec<MessageEntity>,
    #[serde(default)]
    pub reply_to_message: Option<Box<Message>>,
    #[serde(default)]
    pub photo: Vec<PhotoSize>,
    #[serde(default)]
    pub document: Option<Document>,
    #[serde(default, deserialize_with = "opt_id")]
    pub message_thread_id: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub data: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Update {
    #[serde(deserialize_with = "id")]
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct File {
    pub file_id: String,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub file_path: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ResponseParameters {
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default, deserialize_with = "opt_id")]
    pub migrate_to_chat_id: Option<i64>,
}

/// Every Bot API answer: `{ok, result}` or `{ok: false, error_code, description, parameters}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope<T> {
    pub ok: bool,
    #[serde(default = "none")]
    pub result: Option<T>,
    #[serde(default)]
    pub error_code: Option<u16>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<ResponseParameters>,
}

fn none<T>() -> Option<T> {
    None
}

/// Just the id of an update whose body could not be read, so the poller can move past it.
#[derive(Debug, Clone, Deserialize)]
pub struct UpdateId {
    #[serde(deserialize_with = "id")]
    pub update_id: i64,
}
