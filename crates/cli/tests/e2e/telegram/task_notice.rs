//! A scheduled task's notification reaches a Telegram chat through the channel's outbox, and
//! the run records it as delivered.

use super::{Rig, ann};
use crate::common::Turn;
use pryx_protocol::api::{RunStatus, TaskRunList};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_run_notifies_a_telegram_chat_and_records_the_delivery() {
    let Some(rig) = Rig::start("telegram::task_notice").await else {
        return;
    };
    let ann = ann();
    let chat = ann.id.to_string();
    let out = rig.env.run(&[
        "tasks",
        "add",
        "stock",
        "--prompt",
        "check the stock",
        "--manual",
        "--notify-telegram",
        &format!("tg:{chat}"),
    ]);
    assert!(out.status.success(), "{:?}", crate::common::text(&out));
    rig.llm.push(Turn::text("AAPL is up 3% today"));
    let _serve = rig.serve().await;
    let out = rig.env.run(&["tasks", "run", "stock"]);
    assert!(out.status.success(), "{:?}", crate::common::text(&out));
    let told = rig.tg.wait_for_text(ann.id, "Task stock ran").await;
    assert!(told.text.unwrap().contains("AAPL is up 3% today"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = rig.env.run(&["tasks", "history", "stock", "--json"]);
        let runs: TaskRunList = serde_json::from_slice(&out.stdout).unwrap();
        let run = &runs.runs[0];
        let telegram = run
            .notifications
            .iter()
            .find(|n| n.target == format!("channel:tg:{chat}"));
        if run.status == RunStatus::Succeeded && telegram.is_some_and(|n| n.state == "delivered") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not recorded as delivered: {run:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A heartbeat run by hand: an answer of `HEARTBEAT_OK` reaches nobody, an alert reaches the
/// chat; `pryx tasks show` tells both beats apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_alert_reaches_the_chat_and_its_acknowledgement_does_not() {
    let Some(rig) = Rig::start("telegram::heartbeat").await else {
        return;
    };
    let ann = ann();
    let chat = ann.id.to_string();
    std::fs::write(
        rig.env.ws().join("HEARTBEAT.md"),
        "- Tell me if the build log shows an error\n",
    )
    .unwrap();
    let out = rig.env.run(&[
        "tasks",
        "add",
        "heartbeat",
        "--heartbeat",
        "--every",
        "1h",
        "--daily-budget",
        "0.25",
        "--notify-telegram",
        &format!("tg:{chat}"),
    ]);
    assert!(out.status.success(), "{:?}", crate::common::text(&out));
    rig.llm.push(Turn::text("HEARTBEAT_OK"));
    rig.llm
        .push(Turn::text("The build log shows: error[E0308] in main.rs"));
    let _serve = rig.serve().await;
    let out = rig.env.run(&["tasks", "run", "heartbeat", "--json"]);
    assert!(out.status.success(), "{:?}", crate::common::text(&out));
    let shown = wait_show(&rig, "all well (HEARTBEAT_OK, not delivered)");
    assert!(shown.contains("$0.25"), "{shown}");
    let out = rig.env.run(&["tasks", "run", "heartbeat"]);
    assert!(out.status.success(), "{:?}", crate::common::text(&out));
    let told = rig.tg.wait_for_text(ann.id, "error[E0308]").await;
    assert!(
        told.text
            .unwrap()
            .contains("Heartbeat (main): needs attention")
    );
    wait_show(&rig, "alert delivered");
    let heartbeats: Vec<String> = rig
        .tg
        .bot_messages(ann.id)
        .into_iter()
        .filter_map(|m| m.text)
        .filter(|t| t.contains("Heartbeat"))
        .collect();
    assert_eq!(heartbeats.len(), 1, "only the alert: {heartbeats:?}");
    let asked = rig.llm.requests()[0].body.to_string();
    assert!(asked.contains("Tell me if the build log shows an error"));
}

/// Waits until `pryx tasks show heartbeat` says `what` and no run of it is going; returns what
/// it showed.
fn wait_show(rig: &Rig, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = rig.env.run(&["tasks", "show", "heartbeat"]);
        let (text, _) = crate::common::text(&out);
        if text.contains(what) && !text.contains("one is going now") {
            return text;
        }
        assert!(Instant::now() < deadline, "never showed {what:?}: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
