//! The bot's messages, chat actions and callback answers: proxied to the emulator where it has
//! the method, answered here where it has not, and recorded in the journal either way.

use std::time::Instant;

use serde_json::{Value, json};

use super::params::Params;
use super::shim::{Answer, proxy, result_of};
use super::state::{BotMessage, CallbackAnswer, ChatAction, Edit, Shared, inline_buttons};

/// The actions `sendChatAction` accepts.
const CHAT_ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

fn chat_id(params: &Params) -> Result<i64, Answer> {
    match params.int("chat_id") {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(Answer::bad_request("Bad Request: chat_id is empty")),
        Err(_) => Err(Answer::bad_request("Bad Request: chat not found")),
    }
}

fn reply_to(params: &Params) -> Option<i64> {
    params
        .int("reply_to_message_id")
        .ok()
        .flatten()
        .or_else(|| {
            params
                .json("reply_parameters")
                .and_then(|r| r.get("message_id")?.as_i64())
        })
}

/// Records a message the emulator (or the shim) accepted.
pub(crate) fn record_sent(
    shared: &Shared,
    chat_id: i64,
    params: &Params,
    result: &Value,
    file: Option<super::state::SentFile>,
) {
    let Some(message_id) = result.get("message_id").and_then(Value::as_i64) else {
        return;
    };
    let markup = params.json("reply_markup");
    let message = BotMessage {
        chat_id,
        message_id,
        text: if file.is_some() {
            None
        } else {
            params.str("text")
        },
        parse_mode: params.str("parse_mode"),
        buttons: inline_buttons(markup.as_ref()),
        reply_to_message_id: reply_to(params),
        caption: params.str("caption"),
        file,
        edits: Vec::new(),
        deleted: false,
        sent_at: Instant::now(),
        params: Value::Object(params.fields.clone()),
        raw: result.clone(),
    };
    shared.update(|s| s.journal.bot_messages.push(message));
}

pub(crate) async fn send_message(shared: &Shared, params: &Params) -> Answer {
    let chat_id = match chat_id(params) {
        Ok(id) => id,
        Err(answer) => return answer,
    };
    let answer = proxy(shared, "sendMessage", &Value::Object(params.fields.clone())).await;
    if let Some(result) = result_of(&answer) {
        record_sent(shared, chat_id, params, result, None);
    }
    answer
}

pub(crate) async fn edit_message(shared: &Shared, method: &str, params: &Params) -> Answer {
    let answer = proxy(shared, method, &Value::Object(params.fields.clone())).await;
    if result_of(&answer).is_none() {
        return answer;
    }
    let (Ok(Some(chat_id)), Ok(Some(message_id))) =
        (params.int("chat_id"), params.int("message_id"))
    else {
        return answer;
    };
    let markup = params.json("reply_markup");
    let text_edit = method.eq_ignore_ascii_case("editMessageText");
    shared.update(|s| {
        let Some(m) = s
            .journal
            .bot_messages
            .iter_mut()
            .find(|m| m.chat_id == chat_id && m.message_id == message_id)
        else {
            return;
        };
        m.buttons = inline_buttons(markup.as_ref());
        m.raw["reply_markup"] = markup.clone().unwrap_or(Value::Null);
        if text_edit {
            m.text = params.str("text");
            m.parse_mode = params.str("parse_mode");
            m.raw["text"] = json!(m.text);
        }
        m.edits.push(Edit {
            method: method.to_owned(),
            text: m.text.clone(),
            parse_mode: m.parse_mode.clone(),
            buttons: m.buttons.clone(),
            at: Instant::now(),
        });
    });
    answer
}

pub(crate) async fn delete_message(shared: &Shared, params: &Params) -> Answer {
    let answer = proxy(
        shared,
        "deleteMessage",
        &Value::Object(params.fields.clone()),
    )
    .await;
    if result_of(&answer).is_some()
        && let (Ok(Some(chat_id)), Ok(Some(message_id))) =
            (params.int("chat_id"), params.int("message_id"))
    {
        shared.update(|s| {
            for m in &mut s.journal.bot_messages {
                if m.chat_id == chat_id && m.message_id == message_id {
                    m.deleted = true;
                }
            }
        });
    }
    answer
}

pub(crate) fn send_chat_action(shared: &Shared, params: &Params) -> Answer {
    let chat_id = match chat_id(params) {
        Ok(id) => id,
        Err(answer) => return answer,
    };
    let action = params.str("action").unwrap_or_default();
    if !CHAT_ACTIONS.contains(&action.as_str()) {
        return Answer::bad_request("Bad Request: wrong parameter action in request");
    }
    shared.update(|s| {
        s.journal.chat_actions.push(ChatAction {
            chat_id,
            action,
            at: Instant::now(),
        })
    });
    Answer::ok(Value::Bool(true))
}

pub(crate) fn answer_callback_query(shared: &Shared, params: &Params) -> Answer {
    let id = params.str("callback_query_id").unwrap_or_default();
    let known = shared.update(|s| {
        let known = s.callback_ids.contains(&id);
        if known {
            s.journal.callback_answers.push(CallbackAnswer {
                callback_query_id: id.clone(),
                text: params.str("text"),
                show_alert: params.bool("show_alert"),
                at: Instant::now(),
            });
        }
        known
    });
    if known {
        Answer::ok(Value::Bool(true))
    } else {
        Answer::bad_request(
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )
    }
}
