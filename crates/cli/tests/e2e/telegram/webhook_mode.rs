//! Telegram in webhook mode: the bot registers its URL and secret; deliveries with the right
//! secret are answered, forged ones are refused and run nothing.

use super::ann;
use crate::common::{Serve, Turn};
use pryx_testkit::telegram::{TelegramEmulator, WebhookSecret};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_answers_telegram_and_refuses_a_wrong_secret() {
    let test = "telegram::webhook_mode";
    let Some(tg) = TelegramEmulator::start_with_token_or_skip(test, &super::token_for(test)).await
    else {
        return;
    };
    let llm = crate::common::ScriptedLlm::start().await;
    llm.push(Turn::text("via webhook"));
    let env = crate::common::Env::scripted(&llm);
    let port = free_port().to_string();
    let url = format!("http://127.0.0.1:{port}/hooks/tg");
    let rig = super::Rig { tg, llm, env };
    rig.add_channel(&["--mode", "webhook", "--webhook-url", &url]);
    let _serve = Serve::start(&rig.env, &["--port", &port]);
    rig.tg
        .wait_for("the webhook to be set", |j| {
            j.calls_of("setWebhook")
                .iter()
                .any(|c| c.status == 200)
                .then_some(())
        })
        .await;
    let ann = ann();
    rig.pair(&ann).await;
    rig.tg
        .send_private_text(&ann, "hello by webhook")
        .await
        .unwrap();
    rig.tg.wait_for_text(ann.id, "via webhook").await;
    let j = rig.tg.journal();
    assert!(j.webhook_deliveries.iter().all(|d| d.secret_sent.is_some()));

    // Someone who is not Telegram: a wrong secret, then none. Refused each time (the
    // emulator keeps retrying the same update, as Telegram does), and nothing runs.
    let before = rig.llm.requests().len();
    rig.tg
        .send_webhook_secret(WebhookSecret::Wrong("guess".into()));
    let id = rig.tg.send_private_text(&ann, "forged").await.unwrap();
    for (what, forged) in [("a wrong secret", Some("guess")), ("no secret", None)] {
        if forged.is_none() {
            rig.tg.send_webhook_secret(WebhookSecret::Missing);
        }
        rig.tg
            .wait_for(&format!("the delivery with {what} refused"), |j| {
                j.webhook_deliveries
                    .iter()
                    .any(|d| {
                        d.update_id == id
                            && d.status == Some(401)
                            && d.secret_sent.as_deref() == forged
                    })
                    .then_some(())
            })
            .await;
    }
    assert_eq!(rig.llm.requests().len(), before, "nothing ran");
    assert_eq!(rig.tg.bot_messages(ann.id).len(), 2, "nothing was answered");
}
