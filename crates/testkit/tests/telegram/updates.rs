//! Getting updates: offsets, long polls, one poller at a time, webhooks.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Bot, alice, emulator, ids};

#[tokio::test]
async fn offset_confirms_every_earlier_update() {
    let emu = emulator!("offset_confirms_every_earlier_update");
    let bot = Bot::new(&emu);
    let a = emu.send_private_text(&alice(), "one").await.unwrap();
    let b = emu.send_private_text(&alice(), "two").await.unwrap();
    assert!(b > a);

    let first = bot.updates(json!({})).await;
    assert_eq!(ids(&first), [a, b]);
    assert_eq!(first[0]["message"]["text"], "one");
    assert_eq!(first[0]["message"]["chat"]["type"], "private");
    // Unconfirmed: handed out again.
    assert_eq!(ids(&bot.updates(json!({"limit": 1})).await), [a]);
    assert_eq!(ids(&bot.updates(json!({"offset": b})).await), [b]);
    assert!(bot.updates(json!({"offset": b + 1})).await.is_empty());
    // Confirmed updates are gone, whatever offset comes later.
    assert!(bot.updates(json!({"offset": a})).await.is_empty());

    let journal = emu.journal();
    assert_eq!(journal.confirmed_below, b + 1);
    assert_eq!(journal.deliveries[&a], 2);
    assert_eq!(journal.deliveries[&b], 2);
    assert!(journal.delivered_after_confirmed.is_empty());
    assert!(emu.pending_updates().is_empty());

    // A negative offset keeps the last updates and forgets the earlier ones.
    let c = emu.send_private_text(&alice(), "three").await.unwrap();
    let d = emu.send_private_text(&alice(), "four").await.unwrap();
    assert_eq!(ids(&bot.updates(json!({"offset": -1})).await), [d]);
    assert_eq!(emu.pending_updates(), [d]);
    assert!(c < d);
}

#[tokio::test]
async fn a_long_poll_answers_as_soon_as_an_update_arrives() {
    let emu = emulator!("a_long_poll_answers_as_soon_as_an_update_arrives");
    let bot = Bot::new(&emu);
    // An empty poll lasts its timeout.
    let started = Instant::now();
    assert!(bot.updates(json!({"timeout": 1})).await.is_empty());
    assert!(started.elapsed() >= Duration::from_secs(1));

    let started = Instant::now();
    let poll = tokio::spawn(async move { bot.updates(json!({"timeout": 50})).await });
    emu.wait_for("a waiting poll", |j| j.poll_waiting.then_some(()))
        .await;
    let id = emu.send_private_text(&alice(), "wake up").await.unwrap();
    let got = poll.await.unwrap();
    assert_eq!(ids(&got), [id]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the poll waited for its timeout"
    );
}

#[tokio::test]
async fn an_overlapping_poll_ends_the_earlier_with_409() {
    let emu = emulator!("an_overlapping_poll_ends_the_earlier_with_409");
    let first = Bot::new(&emu);
    let second = Bot::new(&emu);
    let earlier =
        tokio::spawn(async move { first.call("getUpdates", json!({"timeout": 50})).await });
    emu.wait_for("the first poll", |j| j.poll_waiting.then_some(()))
        .await;
    let later = tokio::spawn(async move { second.updates(json!({"timeout": 50})).await });
    let (status, body) = earlier.await.unwrap();
    assert_eq!(status, 409);
    assert_eq!(body["ok"], false);
    assert_eq!(body["error_code"], 409);
    assert_eq!(
        body["description"],
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    );
    emu.wait_for("the second poll", |j| j.poll_waiting.then_some(()))
        .await;
    let id = emu
        .send_private_text(&alice(), "for the survivor")
        .await
        .unwrap();
    assert_eq!(ids(&later.await.unwrap()), [id]);
    assert_eq!(emu.journal().overlap_conflicts, 1);
    assert_eq!(emu.journal().injected_conflicts, 0);
}

#[tokio::test]
async fn a_poll_abandoned_by_its_client_causes_no_conflict() {
    let emu = emulator!("a_poll_abandoned_by_its_client_causes_no_conflict");
    let gone = Bot::new(&emu);
    let poll = tokio::spawn(async move { gone.call("getUpdates", json!({"timeout": 50})).await });
    emu.wait_for("the poll", |j| j.poll_waiting.then_some(()))
        .await;
    // A killed process: its connection closes and the shim forgets the poll.
    poll.abort();
    emu.wait_for("the poll to go", |j| (!j.poll_waiting).then_some(()))
        .await;
    let bot = Bot::new(&emu);
    assert!(bot.updates(json!({"timeout": 0})).await.is_empty());
    assert_eq!(emu.journal().overlap_conflicts, 0);
}

#[tokio::test]
async fn injected_conflicts_come_from_another_host() {
    let emu = emulator!("injected_conflicts_come_from_another_host");
    let bot = Bot::new(&emu);
    let waiting = Bot::new(&emu);
    let pending =
        tokio::spawn(async move { waiting.call("getUpdates", json!({"timeout": 50})).await });
    emu.wait_for("a waiting poll", |j| j.poll_waiting.then_some(()))
        .await;
    emu.conflict_next(2);
    assert_eq!(pending.await.unwrap().0, 409);
    let (status, body) = bot.call("getUpdates", json!({})).await;
    assert_eq!((status, body["error_code"].clone()), (409, json!(409)));
    bot.updates(json!({})).await;
    let journal = emu.journal();
    assert_eq!(
        (journal.injected_conflicts, journal.overlap_conflicts),
        (2, 0)
    );
}

#[tokio::test]
async fn a_webhook_gets_updates_with_the_secret_and_retries() {
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    let emu = emulator!("a_webhook_gets_updates_with_the_secret_and_retries");
    let bot = Bot::new(&emu);
    // The bot's endpoint refuses the first POST, then takes every update it is given.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Option<String>, Value)>();
    let refused = Arc::new(AtomicU32::new(0));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let tx = tx.clone();
            let refused = refused.clone();
            async move {
                if refused.fetch_add(1, Ordering::SeqCst) == 0 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let secret = headers
                    .get("x-telegram-bot-api-secret-token")
                    .map(|v| v.to_str().unwrap().to_owned());
                tx.send((secret, body.0)).unwrap();
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (status, _) = bot
        .call(
            "setWebhook",
            json!({"url": url, "secret_token": "bad secret!"}),
        )
        .await;
    assert_eq!(status, 400);
    bot.ok(
        "setWebhook",
        json!({"url": url, "secret_token": "s3cret_-X"}),
    )
    .await;
    let (status, body) = bot.call("getUpdates", json!({})).await;
    assert_eq!(status, 409);
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("webhook is active")
    );
    assert_eq!(bot.ok("getWebhookInfo", json!({})).await["url"], url);

    let id = emu
        .send_private_text(&alice(), "via webhook")
        .await
        .unwrap();
    let (secret, update) = rx.recv().await.unwrap();
    assert_eq!(secret.as_deref(), Some("s3cret_-X"));
    assert_eq!(update["update_id"], id);
    assert_eq!(update["message"]["text"], "via webhook");
    emu.wait_confirmed(id).await;
    let journal = emu.journal();
    let statuses: Vec<_> = journal
        .webhook_deliveries
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(statuses, [Some(500), Some(200)]);
    assert_eq!(journal.deliveries[&id], 1);

    bot.ok("deleteWebhook", json!({})).await;
    let next = emu
        .send_private_text(&alice(), "polled again")
        .await
        .unwrap();
    assert_eq!(ids(&bot.updates(json!({})).await), [next]);
}

#[tokio::test]
async fn a_forged_webhook_secret_is_seen_by_the_bot() {
    use axum::http::{HeaderMap, StatusCode};
    use pryx_testkit::telegram::WebhookSecret;

    let emu = emulator!("a_forged_webhook_secret_is_seen_by_the_bot");
    let bot = Bot::new(&emu);
    // The bot's endpoint takes only its own secret.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                match headers.get("x-telegram-bot-api-secret-token") {
                    Some(v) if v == "right" => {
                        tx.send(body.0).unwrap();
                        StatusCode::OK
                    }
                    _ => StatusCode::UNAUTHORIZED,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    bot.ok("setWebhook", json!({"url": url, "secret_token": "right"}))
        .await;

    emu.send_webhook_secret(WebhookSecret::Wrong("forged".into()));
    let id = emu.send_private_text(&alice(), "forged").await.unwrap();
    emu.wait_for("a refused forged delivery", |j| {
        j.webhook_deliveries
            .iter()
            .any(|d| d.status == Some(401) && d.secret_sent.as_deref() == Some("forged"))
            .then_some(())
    })
    .await;
    emu.send_webhook_secret(WebhookSecret::Missing);
    emu.wait_for("a refused delivery without secret", |j| {
        j.webhook_deliveries
            .iter()
            .any(|d| d.status == Some(401) && d.secret_sent.is_none())
            .then_some(())
    })
    .await;
    assert!(rx.try_recv().is_err());
    assert_eq!(emu.pending_updates(), [id]);
    let info = bot.ok("getWebhookInfo", json!({})).await;
    assert_eq!(info["pending_update_count"], 1);
    assert!(info["last_error_message"].as_str().unwrap().contains("401"));

    emu.send_webhook_secret(WebhookSecret::AsSet);
    emu.wait_confirmed(id).await;
    assert_eq!(rx.recv().await.unwrap()["update_id"], id);
}
