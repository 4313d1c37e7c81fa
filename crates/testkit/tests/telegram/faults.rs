//! Faults: outages, foreign tokens, the emulator's lifetime.

use std::time::{Duration, Instant};

use pryx_testkit::telegram::{BOT_USERNAME, Outage};
use serde_json::json;

use crate::{Bot, emulator};

#[tokio::test]
async fn outages_answer_5xx_or_reset_connections() {
    let emu = emulator!("outages_answer_5xx_or_reset_connections");
    let bot = Bot::new(&emu);
    bot.ok("getMe", json!({})).await;

    emu.outage(Outage::ServerError(502), Duration::from_secs(600));
    let (status, body) = bot.call("getMe", json!({})).await;
    assert_eq!((status, body["error_code"].clone()), (502, json!(502)));
    emu.end_outage();
    assert_eq!(bot.ok("getMe", json!({})).await["username"], BOT_USERNAME);

    // A poll pending when connections start dropping is cut, and so is every new call.
    let waiting = Bot::new(&emu);
    let pending = tokio::spawn(async move {
        waiting
            .http
            .post(format!("{}/getUpdates", waiting.base))
            .json(&json!({"timeout": 50}))
            .send()
            .await
    });
    emu.wait_for("a waiting poll", |j| j.poll_waiting.then_some(()))
        .await;
    emu.outage(Outage::DropConnections, Duration::from_secs(600));
    assert!(pending.await.unwrap().is_err());
    let fresh = pryx_http::builder().no_proxy().build().unwrap();
    assert!(
        fresh
            .post(format!("{}/getMe", bot.base))
            .send()
            .await
            .is_err()
    );
    assert!(
        bot.http
            .post(format!("{}/getMe", bot.base))
            .send()
            .await
            .is_err()
    );
    assert!(emu.journal().dropped_connections >= 2);
    emu.end_outage();
    bot.ok("getMe", json!({})).await;
}

#[tokio::test]
async fn other_tokens_are_unauthorized_and_the_emulator_dies_with_the_handle() {
    let emu = emulator!("other_tokens_are_unauthorized_and_the_emulator_dies_with_the_handle");
    let http = pryx_http::builder().no_proxy().build().unwrap();
    let response = http
        .post(format!("{}/bot1:wrong/getMe", emu.api_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let pid = emu.emulator_pid().unwrap();
    drop(emu);
    // The kill is asynchronous; the process table has no event to wait on.
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "emulator {pid} survived its handle"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}
