//! Telegram updates as [`Inbound`] messages.

use super::types::{Message, MessageEntity, Update, User};
use crate::{Attachment, ButtonPress, ChatKind, ChatRef, Inbound, Sender};

/// What an update is to Pryx.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedUpdate {
    Message(Box<Inbound>),
    /// Nothing to handle, and why (an edit, a service message, a bot's message, …).
    Skip(String),
}

fn entity_text(text: &str, e: &MessageEntity) -> Option<String> {
    // Entity offsets count UTF-16 units.
    let units: Vec<u16> = text.encode_utf16().collect();
    let end = e.offset.checked_add(e.length)?;
    units.get(e.offset..end).map(String::from_utf16_lossy)
}

fn mentions(text: &str, entities: &[MessageEntity], username: &str) -> bool {
    let want = format!("@{}", username.to_ascii_lowercase());
    entities.iter().any(|e| {
        matches!(e.kind.as_str(), "mention" | "bot_command")
            && entity_text(text, e).is_some_and(|t| t.to_ascii_lowercase().contains(&want))
    }) || (entities.is_empty() && text.to_ascii_lowercase().contains(&want))
}

fn sender(u: &User) -> Sender {
    Sender {
        id: u.id.to_string(),
        display: u.display(),
        is_bot: u.is_bot,
    }
}

fn chat(m: &Message) -> ChatRef {
    let kind = match m.chat.kind.as_str() {
        "group" | "supergroup" | "channel" => ChatKind::Group,
        _ => ChatKind::Private,
    };
    let title = m
        .chat
        .title
        .clone()
        .or_else(|| m.chat.username.as_ref().map(|u| format!("@{u}")))
        .or_else(|| m.chat.first_name.clone())
        .unwrap_or_else(|| m.chat.id.to_string());
    ChatRef {
        id: m.chat.id.to_string(),
        kind,
        title,
        thread: m.message_thread_id.map(|t| t.to_string()),
    }
}

fn attachments(m: &Message) -> Vec<Attachment> {
    let mut out = Vec::new();
    // The largest size of a photo is the last.
    if let Some(p) = m
        .photo
        .iter()
        .max_by_key(|p| (p.width * p.height, p.file_size))
    {
        out.push(Attachment {
            file_id: p.file_id.clone(),
            name: format!("photo-{}.jpg", m.message_id),
            size: p.file_size,
        });
    }
    if let Some(d) = &m.document {
        out.push(Attachment {
            file_id: d.file_id.clone(),
            name: d
                .file_name
                .clone()
                .unwrap_or_else(|| format!("file-{}", m.message_id)),
            size: d.file_size,
        });
    }
    out
}

/// Reads an update for the bot `me` (its id and username tell mentions and replies to it).
pub fn normalise(u: &Update, me: &User) -> ParsedUpdate {
    let username = me.username.clone().unwrap_or_default();
    if let Some(q) = &u.callback_query {
        let Some(m) = &q.message else {
            return ParsedUpdate::Skip("a button press without its message".into());
        };
        return ParsedUpdate::Message(Box::new(Inbound {
            update_id: u.update_id,
            chat: chat(m),
            sender: sender(&q.from),
            message_id: None,
            text: String::new(),
            replies_to_bot: false,
            mentions_bot: false,
            attachments: Vec::new(),
            press: Some(ButtonPress {
                id: q.id.clone(),
                data: q.data.clone().unwrap_or_default(),
                message_id: Some(m.message_id.to_string()),
            }),
        }));
    }
    let Some(m) = &u.message else {
        return ParsedUpdate::Skip("not a message (an edit or another update kind)".into());
    };
    let Some(from) = &m.from else {
        return ParsedUpdate::Skip("a message without a sender".into());
    };
    if from.is_bot {
        return ParsedUpdate::Skip(format!("a message from the bot {}", from.display()));
    }
    let (text, entities) = match (&m.text, &m.caption) {
        (Some(t), _) => (t.clone(), &m.entities),
        (None, Some(c)) => (c.clone(), &m.caption_entities),
        (None, None) => (String::new(), &m.entities),
    };
    let attachments = attachments(m);
    if text.trim().is_empty() && attachments.is_empty() {
        return ParsedUpdate::Skip("a message with neither text nor a file".into());
    }
    let replies_to_bot = m
        .reply_to_message
        .as_ref()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|f| f.id == me.id);
    ParsedUpdate::Message(Box::new(Inbound {
        update_id: u.update_id,
        chat: chat(m),
        sender: sender(from),
        message_id: Some(m.message_id.to_string()),
        mentions_bot: !username.is_empty() && mentions(&text, entities, &username),
        text,
        replies_to_bot,
        attachments,
        press: None,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn me() -> User {
        User {
            id: 99,
            is_bot: true,
            first_name: "Pryx".into(),
            last_name: None,
            username: Some("pryx_bot".into()),
        }
    }

    fn update(v: serde_json::Value) -> Update {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_private_message_is_read_even_without_the_fields_pryx_does_not_need() {
        let u = update(serde_json::json!({
            "update_id": "5",
            "message": {"message_id": 1, "from": {"id": "7", "first_name": "Ann"},
                        "chat": {"id": 7}, "text": "hi"}
        }));
        let ParsedUpdate::Message(m) = normalise(&u, &me()) else {
            panic!()
        };
        assert_eq!(m.update_id, 5);
        assert_eq!(m.chat.kind, ChatKind::Private);
        assert_eq!(
            (m.sender.id.as_str(), m.sender.display.as_str()),
            ("7", "Ann")
        );
        assert_eq!(m.text, "hi");
    }

    #[test]
    fn group_mentions_and_replies_to_the_bot_are_recognised() {
        let u = update(serde_json::json!({
            "update_id": 6,
            "message": {"message_id": 2, "from": {"id": 7, "first_name": "Ann"},
                        "chat": {"id": -100, "type": "supergroup", "title": "Team"},
                        "text": "hey @Pryx_Bot look",
                        "entities": [{"type": "mention", "offset": 4, "length": 9}]}
        }));
        let ParsedUpdate::Message(m) = normalise(&u, &me()) else {
            panic!()
        };
        assert!(m.mentions_bot && !m.replies_to_bot);
        assert_eq!(m.chat.title, "Team");

        let u = update(serde_json::json!({
            "update_id": 7,
            "message": {"message_id": 3, "from": {"id": 7}, "chat": {"id": -100, "type": "group"},
                        "text": "and this?",
                        "reply_to_message": {"message_id": 2, "from": {"id": 99, "is_bot": true}, "chat": {"id": -100}}}
        }));
        let ParsedUpdate::Message(m) = normalise(&u, &me()) else {
            panic!()
        };
        assert!(m.replies_to_bot && !m.mentions_bot);
    }

    #[test]
    fn button_presses_files_and_other_updates() {
        let u = update(serde_json::json!({
            "update_id": 8,
            "callback_query": {"id": "cb1", "from": {"id": 7}, "data": "ap:x:once",
                               "message": {"message_id": 4, "chat": {"id": 7, "type": "private"}}}
        }));
        let ParsedUpdate::Message(m) = normalise(&u, &me()) else {
            panic!()
        };
        let p = m.press.unwrap();
        assert_eq!((p.id.as_str(), p.data.as_str()), ("cb1", "ap:x:once"));

        let u = update(serde_json::json!({
            "update_id": 9,
            "message": {"message_id": 5, "from": {"id": 7}, "chat": {"id": 7},
                        "caption": "see", "document": {"file_id": "F1", "file_name": "a.txt", "file_size": 3}}
        }));
        let ParsedUpdate::Message(m) = normalise(&u, &me()) else {
            panic!()
        };
        assert_eq!(m.text, "see");
        assert_eq!(m.attachments[0].name, "a.txt");

        let u = update(serde_json::json!({"update_id": 10, "edited_message": {}}));
        assert!(matches!(normalise(&u, &me()), ParsedUpdate::Skip(_)));
    }
}
