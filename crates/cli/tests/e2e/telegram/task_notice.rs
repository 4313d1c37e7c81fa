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
