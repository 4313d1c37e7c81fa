//! What the bot sends: messages with keyboards, chat actions, files, and the user's answers.

use std::time::Duration;

use pryx_testkit::telegram::{BOT_USERNAME, TgChat};
use serde_json::{Value, json};

use crate::{Bot, alice, emulator, ids};

#[tokio::test]
async fn a_429_carries_retry_after_and_the_next_call_is_timed() {
    let emu = emulator!("a_429_carries_retry_after_and_the_next_call_is_timed");
    let bot = Bot::new(&emu);
    let message = json!({"chat_id": 1001, "text": "hi"});
    emu.rate_limit_next("sendMessage", 1, 1);
    let (status, body) = bot.call("sendMessage", message.clone()).await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})
    );
    assert_eq!(
        emu.journal().retry_after_checks("sendMessage")[0].honoured(),
        None
    );
    // Retrying at once is caught...
    bot.ok("sendMessage", message.clone()).await;
    assert_eq!(
        emu.journal().retry_after_checks("sendMessage")[0].honoured(),
        Some(false)
    );
    // ...waiting it out is not (this sleep is the bot's behaviour under test).
    emu.rate_limit_next("sendMessage", 1, 1);
    assert_eq!(bot.call("sendMessage", message.clone()).await.0, 429);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    bot.ok("sendMessage", message).await;
    let checks = emu.journal().retry_after_checks("sendMessage");
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[1].honoured(), Some(true));
    assert_eq!(emu.bot_messages(1001).len(), 2);
}

#[tokio::test]
async fn chat_actions_are_recorded_and_checked() {
    let emu = emulator!("chat_actions_are_recorded_and_checked");
    let bot = Bot::new(&emu);
    assert_eq!(
        bot.ok(
            "sendChatAction",
            json!({"chat_id": 1001, "action": "typing"})
        )
        .await,
        true
    );
    let (status, body) = bot
        .call(
            "sendChatAction",
            json!({"chat_id": 1001, "action": "dancing"}),
        )
        .await;
    assert_eq!((status, body["ok"].clone()), (400, json!(false)));
    let action = emu.wait_for_chat_action(1001, "typing").await;
    assert_eq!(action.chat_id, 1001);
    assert_eq!(emu.chat_actions(1001).len(), 1);
}

#[tokio::test]
async fn button_presses_arrive_as_callback_queries() {
    let emu = emulator!("button_presses_arrive_as_callback_queries");
    let bot = Bot::new(&emu);
    let keyboard = json!({"inline_keyboard": [[
        {"text": "Approve", "callback_data": "approve:7"},
        {"text": "Deny", "callback_data": "deny:7"},
    ]]});
    let sent = bot
        .ok(
            "sendMessage",
            json!({"chat_id": 1001, "text": "Run `ls`?", "parse_mode": "MarkdownV2", "reply_markup": keyboard}),
        )
        .await;
    let message_id = sent["message_id"].as_i64().unwrap();
    let recorded = emu.wait_for_text(1001, "Run").await;
    assert_eq!(recorded.parse_mode.as_deref(), Some("MarkdownV2"));
    assert_eq!(recorded.callback_data(), ["approve:7", "deny:7"]);

    assert!(
        emu.press_button(&alice(), 1001, message_id, "nope")
            .await
            .is_err()
    );
    let id = emu
        .press_button(&alice(), 1001, message_id, "approve:7")
        .await
        .unwrap();
    let updates = bot.updates(json!({"offset": 0})).await;
    assert_eq!(ids(&updates), [id]);
    let query = &updates[0]["callback_query"];
    assert_eq!(query["data"], "approve:7");
    assert_eq!(query["from"]["id"], 1001);
    assert_eq!(query["message"]["message_id"], message_id);
    let query_id = query["id"].as_str().unwrap();
    assert_eq!(
        bot.ok(
            "answerCallbackQuery",
            json!({"callback_query_id": query_id, "text": "Approved"})
        )
        .await,
        true
    );
    assert_eq!(emu.callback_answers()[0].text.as_deref(), Some("Approved"));
    let (status, _) = bot
        .call(
            "answerCallbackQuery",
            json!({"callback_query_id": "unknown"}),
        )
        .await;
    assert_eq!(status, 400);

    // Editing the text without a keyboard removes it, as on Telegram.
    bot.ok(
        "editMessageText",
        json!({"chat_id": 1001, "message_id": message_id, "text": "Approved: `ls`"}),
    )
    .await;
    let edited = emu.wait_for_text(1001, "Approved").await;
    assert!(edited.buttons.is_empty());
    assert_eq!(edited.edits.len(), 1);
    assert!(
        emu.press_button(&alice(), 1001, message_id, "deny:7")
            .await
            .is_err()
    );
}

fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "pryx-boundary-42";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (field, file_name, bytes) = file;
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn files_go_both_ways() {
    let emu = emulator!("files_go_both_ways");
    let bot = Bot::new(&emu);
    let download = |path: &str| format!("{}/file/bot{}/{path}", emu.api_base(), emu.token());

    // The user's document: getFile, then the download URL.
    let chat = TgChat::private(&alice());
    let id = emu
        .send_document(
            &chat,
            &alice(),
            "notes.txt",
            b"hello\x00bytes".to_vec(),
            Some("read this"),
        )
        .await
        .unwrap();
    let updates = bot.updates(json!({})).await;
    assert_eq!(ids(&updates), [id]);
    let document = &updates[0]["message"]["document"];
    assert_eq!(document["file_name"], "notes.txt");
    assert_eq!(updates[0]["message"]["caption"], "read this");
    let file = bot
        .ok("getFile", json!({"file_id": document["file_id"]}))
        .await;
    let path = file["file_path"].as_str().unwrap();
    let bytes = bot
        .http
        .get(download(path))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"hello\x00bytes");
    let (status, _) = bot.call("getFile", json!({"file_id": "nope"})).await;
    assert_eq!(status, 400);

    // The bot's upload, as multipart form data.
    let (content_type, body) = multipart(
        &[("chat_id", "1001"), ("caption", "the report")],
        ("document", "report.csv", b"a,b\n1,2\n"),
    );
    let sent: Value = bot
        .http
        .post(format!("{}/sendDocument", bot.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["ok"], true, "{sent}");
    assert_eq!(sent["result"]["document"]["file_name"], "report.csv");
    assert_eq!(sent["result"]["caption"], "the report");
    let recorded = emu.wait_for_messages(1001, 1).await;
    let file = recorded[0].file.as_ref().unwrap();
    assert_eq!(
        (file.file_name.as_str(), &file.bytes[..]),
        ("report.csv", &b"a,b\n1,2\n"[..])
    );
    let got = bot.ok("getFile", json!({"file_id": file.file_id})).await;
    let bytes = bot
        .http
        .get(download(got["file_path"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"a,b\n1,2\n");
}

#[tokio::test]
async fn group_messages_mention_and_reply() {
    let emu = emulator!("group_messages_mention_and_reply");
    let bot = Bot::new(&emu);
    let group = TgChat::supergroup(-100_777, "Team");
    let sent = bot
        .ok(
            "sendMessage",
            json!({"chat_id": -100_777, "text": "hello team"}),
        )
        .await;
    let bot_message = sent["message_id"].as_i64().unwrap();
    emu.wait_for_messages(-100_777, 1).await;
    let text = format!("@{BOT_USERNAME} what's up");
    emu.send_text(&group, &alice(), &text).await.unwrap();
    emu.send_reply(&group, &alice(), "and this?", bot_message)
        .await
        .unwrap();
    let updates = bot.updates(json!({})).await;
    let mention = &updates[0]["message"];
    assert_eq!(mention["chat"]["type"], "supergroup");
    assert_eq!(
        mention["entities"][0],
        json!({"type": "mention", "offset": 0, "length": 12})
    );
    let reply = &updates[1]["message"];
    assert_eq!(reply["reply_to_message"]["message_id"], bot_message);
    assert_eq!(reply["reply_to_message"]["text"], "hello team");
    // The emulator's own count agrees with the journal's.
    assert_eq!(emu.emulator_message_count(-100_777).await.unwrap(), 1);
}
