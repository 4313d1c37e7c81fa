//! The channel boundary's types: what comes in and what goes out, whatever the protocol.

use serde::{Deserialize, Serialize};

/// A private conversation or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    Private,
    Group,
}

/// Where a message was said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRef {
    /// The protocol's chat id, as text.
    pub id: String,
    pub kind: ChatKind,
    /// The group's title or the other person's name.
    pub title: String,
    /// A topic/thread inside the chat, when the protocol has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
}

/// Who said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// The protocol's user id, as text.
    pub id: String,
    /// A name to show (`@username` or the first name).
    pub display: String,
    #[serde(default)]
    pub is_bot: bool,
}

/// A file that came with a message; fetched only when the sender may talk to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The protocol's handle to download it.
    pub file_id: String,
    /// A file name to store it under (made safe before use).
    pub name: String,
    /// Size announced by the protocol, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A press on one of our buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonPress {
    /// Acknowledged with [`Outgoing`]-independent `answer` calls (it stops the client's spinner).
    pub id: String,
    /// The data we put on the button.
    pub data: String,
    /// The message the button was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// One normalised inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    /// The protocol's ordering id (Telegram's `update_id`).
    pub update_id: i64,
    pub chat: ChatRef,
    pub sender: Sender,
    /// The protocol's id of this message (to reply to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The text (or a file's caption); empty for a button press.
    #[serde(default)]
    pub text: String,
    /// The message answers one of the bot's own messages.
    #[serde(default)]
    pub replies_to_bot: bool,
    /// The bot was mentioned by name in it.
    #[serde(default)]
    pub mentions_bot: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub press: Option<ButtonPress>,
}

/// A button under a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    /// Sent back in a [`ButtonPress`] (Telegram: at most 64 bytes).
    pub data: String,
}

/// How the text is marked up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    /// Markdown from the model: the channel renders what its protocol can, else plain text.
    #[default]
    Markdown,
    /// Shown exactly as written.
    Plain,
}

/// A file under a directory (a session's workspace), read beneath it when it is sent — never
/// through a link that appeared there since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The directory, absolute.
    pub root: String,
    /// The file, relative to `root`.
    pub path: String,
    /// The name the receiver sees.
    pub name: String,
}

/// A message to send: text (already cut to the channel's size), buttons, or a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub format: TextFormat,
    /// Rows of buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Vec<Button>>,
    /// Replace the text (and buttons) of this earlier message instead of sending a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<String>,
    /// Answer this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// A file to send, with `text` as its caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    /// A topic/thread inside the chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
}

impl Outgoing {
    /// Plain text, shown as written.
    pub fn plain(text: impl Into<String>) -> Outgoing {
        Outgoing {
            text: text.into(),
            format: TextFormat::Plain,
            buttons: Vec::new(),
            edit: None,
            reply_to: None,
            file: None,
            thread: None,
        }
    }

    /// Markdown from the model.
    pub fn markdown(text: impl Into<String>) -> Outgoing {
        Outgoing {
            format: TextFormat::Markdown,
            ..Outgoing::plain(text)
        }
    }
}
