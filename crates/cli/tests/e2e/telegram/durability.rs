//! Nothing lost, nothing handled twice: restarts (SIGTERM and kill -9), Telegram's 429, an
//! outage, a second poller for the same bot.

use super::{Rig, ann};
use crate::common::{Env, Serve, Turn};
use pryx_testkit::telegram::Outage;
use std::time::{Duration, Instant};

/// Waits (up to 30 s) for a condition only the CLI can see, checking every 50 ms.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn show(env: &Env) -> serde_json::Value {
    let out = env.run(&["channels", "show", "tg", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

fn count(rig: &Rig, chat: i64, needle: &str) -> usize {
    rig.tg
        .bot_messages(chat)
        .iter()
        .filter(|m| m.text.as_deref().is_some_and(|t| t.contains(needle)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_mid_conversation_lose_nothing_and_answer_nothing_twice() {
    let Some(rig) = Rig::start("telegram::durability::restarts").await else {
        return;
    };
    rig.llm.push_all([
        Turn::text("answer-one"),
        Turn::text("never-finished").with_first_token_delay(Duration::from_secs(60)),
        Turn::text("answer-three"),
        Turn::text("answer-four"),
    ]);
    let ann = ann();
    let mut serve = rig.serve().await;
    rig.pair(&ann).await;
    rig.tg.send_private_text(&ann, "first").await.unwrap();
    rig.tg.wait_for_text(ann.id, "answer-one").await;

    // SIGTERM, then a message while nothing polls: it waits at Telegram.
    serve.stop();
    rig.tg.send_private_text(&ann, "second").await.unwrap();
    let mut serve = rig.serve().await;
    // Its turn is held by the model; kill -9 in the middle of it.
    rig.tg.wait_for_chat_action(ann.id, "typing").await;
    until("the second turn to reach the model", || {
        rig.llm
            .requests()
            .iter()
            .any(|r| r.body.to_string().contains("second"))
    })
    .await;
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    let _serve = rig.serve().await;
    rig.tg
        .wait_for_text(ann.id, "restarted before it finished")
        .await;
    rig.tg.send_private_text(&ann, "third").await.unwrap();
    rig.tg.wait_for_text(ann.id, "answer-three").await;

    assert_eq!(count(&rig, ann.id, "answer-one"), 1);
    assert_eq!(count(&rig, ann.id, "restarted before it finished"), 1);
    assert_eq!(count(&rig, ann.id, "answer-three"), 1);
    let j = rig.tg.journal();
    assert!(
        j.delivered_after_confirmed.is_empty(),
        "{:?}",
        j.delivered_after_confirmed
    );
    assert_eq!(j.overlap_conflicts, 0, "Pryx caused a 409");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_retry_after_is_honoured_and_the_reply_still_arrives_once() {
    let Some(rig) = Rig::start("telegram::durability::retry_after").await else {
        return;
    };
    rig.llm.push(Turn::text("patient answer"));
    let _serve = rig.serve().await;
    let ann = ann();
    rig.pair(&ann).await;
    rig.tg.rate_limit_next("sendMessage", 1, 2);
    rig.tg.send_private_text(&ann, "hello").await.unwrap();
    rig.tg.wait_for_text(ann.id, "patient answer").await;
    // The journal records the retried call once its answer is out.
    let checks = rig
        .tg
        .wait_for("the retry after the 429", |j| {
            let c = j.retry_after_checks("sendMessage");
            (!c.is_empty() && c.iter().all(|c| c.next_call_at.is_some())).then_some(c)
        })
        .await;
    assert!(
        checks.iter().all(|c| c.honoured() == Some(true)),
        "{checks:?}"
    );
    assert_eq!(count(&rig, ann.id, "patient answer"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_queued_at_a_kill_are_delivered_after_the_restart() {
    let Some(rig) = Rig::start("telegram::durability::queued").await else {
        return;
    };
    rig.llm.push_all([
        Turn::text("reply-a"),
        Turn::text("reply-b"),
        Turn::text("reply-c"),
    ]);
    let mut serve = rig.serve().await;
    let ann = ann();
    rig.pair(&ann).await;
    // Telegram refuses sending for a while: the replies wait in the outbox.
    rig.tg.rate_limit_next("sendMessage", 1, 3);
    for m in ["a", "b", "c"] {
        rig.tg.send_private_text(&ann, m).await.unwrap();
    }
    until("three replies queued", || {
        show(&rig.env)["outbox"]["queued"].as_u64() == Some(3)
    })
    .await;
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    let _serve = rig.serve().await;
    for r in ["reply-a", "reply-b", "reply-c"] {
        rig.tg.wait_for_text(ann.id, r).await;
    }
    for r in ["reply-a", "reply-b", "reply-c"] {
        assert_eq!(count(&rig, ann.id, r), 1, "{r}");
    }
    // In order.
    let texts: Vec<String> = rig
        .tg
        .bot_messages(ann.id)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    let pos = |n: &str| texts.iter().position(|t| t.contains(n)).unwrap();
    assert!(pos("reply-a") < pos("reply-b") && pos("reply-b") < pos("reply-c"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_comes_back_after_an_outage_and_the_status_says_so() {
    let Some(rig) = Rig::start("telegram::durability::outage").await else {
        return;
    };
    rig.llm.push(Turn::text("back again"));
    let _serve = rig.serve().await;
    let ann = ann();
    rig.pair(&ann).await;
    // Telegram answers 5xx for 20 s; polling must be back within 30 s of its recovery.
    let outage = Duration::from_secs(20);
    let began = Instant::now();
    rig.tg.outage(Outage::ServerError(502), outage);
    until("the status to turn degraded", || {
        show(&rig.env)["state"] == "degraded"
    })
    .await;
    rig.tg
        .send_private_text(&ann, "are you there?")
        .await
        .unwrap();
    rig.tg.set_wait_timeout(Duration::from_secs(90));
    rig.tg.wait_for_text(ann.id, "back again").await;
    let back = began.elapsed();
    assert!(
        back < outage + Duration::from_secs(30),
        "answered {:.1} s after the outage began: not within 30 s of recovery",
        back.as_secs_f64()
    );
    until("the status to turn connected", || {
        show(&rig.env)["state"] == "connected"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pryx_with_the_same_bot_refuses_to_poll_instead_of_fighting() {
    let Some(rig) = Rig::start("telegram::durability::second_poller").await else {
        return;
    };
    rig.llm.push(Turn::text("only once"));
    let _first = rig.serve().await;
    let other = Env::scripted(&rig.llm);
    let mut child = other
        .cmd()
        .args(["channels", "add", "tg", "--api-base", &rig.tg.api_base()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(rig.tg.token().as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let _second = Serve::start(&other, &[]);
    until("the second to refuse", || {
        let v = show(&other);
        v["state"] == "disconnected"
            && v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("already polls this bot"))
    })
    .await;
    let ann = ann();
    rig.pair(&ann).await;
    rig.tg.send_private_text(&ann, "hello").await.unwrap();
    rig.tg.wait_for_text(ann.id, "only once").await;
    assert_eq!(count(&rig, ann.id, "only once"), 1);
    assert_eq!(
        rig.tg.journal().overlap_conflicts,
        0,
        "no 409 caused by Pryx"
    );
}
