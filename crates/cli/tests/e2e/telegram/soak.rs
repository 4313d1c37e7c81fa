//! Long runs for `bench/channels.sh` (ignored in the test suite): restarts under a steady
//! stream of updates, and the time from an update to its first reply beside the model's own.

use super::{Rig, ann};
use crate::common::Turn;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `PRYX_SOAK_RESTARTS` restarts (SIGTERM and kill -9 alternating) while a message arrives every
/// 100 ms: every message answered, none twice beyond the replies Pryx itself marks as possibly
/// duplicated, no update handed out again after it was confirmed, no 409 caused by Pryx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run by bench/channels.sh"]
async fn bench_restarts_lose_nothing_and_repeat_nothing() {
    let Some(rig) = Rig::start("telegram::soak::restarts").await else {
        return;
    };
    let restarts = env_or("PRYX_SOAK_RESTARTS", 100);
    rig.add_channel(&["--rate-limit", "10000"]);
    rig.tg.set_wait_timeout(Duration::from_secs(120));
    rig.llm
        .push_all((0..restarts * 20 + 200).map(|_| Turn::text("ack")));
    let ann = ann();
    let mut serve = rig.serve().await;
    rig.pair(&ann).await;
    let before = rig.tg.bot_messages(ann.id).len();
    let rig = Arc::new(rig);
    let sent = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (rig, sent, stop, ann) = (rig.clone(), sent.clone(), stop.clone(), ann.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                rig.tg
                    .send_private_text(&ann, &format!("m{i}"))
                    .await
                    .unwrap();
                sent.fetch_add(1, Ordering::SeqCst);
                i += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = Instant::now();
    for n in 0..restarts {
        if n % 2 == 0 {
            serve.stop();
        } else {
            serve.child.kill().unwrap();
            serve.child.wait().unwrap();
        }
        serve = rig.serve().await;
    }
    stop.store(true, Ordering::SeqCst);
    sender.await.unwrap();
    let total = sent.load(Ordering::SeqCst);
    // Every message gets its reply (an answer, or "send it again" for one cut by a kill).
    let replies = rig
        .tg
        .wait_for("a reply to every message", |j| {
            let r: Vec<i64> = j
                .messages_to(ann.id)
                .iter()
                .skip(before)
                .filter_map(|m| m.reply_to_message_id)
                .collect();
            let distinct: std::collections::BTreeSet<i64> = r.iter().copied().collect();
            (distinct.len() >= total).then_some(r)
        })
        .await;
    let mut per: BTreeMap<i64, usize> = BTreeMap::new();
    for r in &replies {
        *per.entry(*r).or_default() += 1;
    }
    let twice = per.values().filter(|n| **n > 1).count();
    let out = rig.env.run(&["channels", "show", "tg", "--json"]);
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let marked = view["outbox"]["maybe_duplicate"].as_u64().unwrap_or(0) as usize;
    let j = rig.tg.journal();
    println!(
        "restarts {restarts} in {:.1} s; messages {total}; answered {}; answered twice {twice} (marked as possibly twice by Pryx: {marked}); updates handed out again after confirmation {}; 409s caused by Pryx {}",
        started.elapsed().as_secs_f64(),
        per.len(),
        j.delivered_after_confirmed.len(),
        j.overlap_conflicts
    );
    assert_eq!(per.len(), total, "every message answered");
    assert!(twice <= marked, "only replies Pryx marked may arrive twice");
    assert!(j.delivered_after_confirmed.is_empty());
    assert_eq!(j.overlap_conflicts, 0);
}

/// The time from a message reaching Telegram to the first reply being sent, against the model's
/// own answer time (the scripted model answers at once): Pryx's overhead per message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run by bench/channels.sh"]
async fn bench_update_to_first_reply() {
    let Some(rig) = Rig::start("telegram::soak::latency").await else {
        return;
    };
    let n = env_or("PRYX_BENCH_MESSAGES", 50);
    rig.add_channel(&["--rate-limit", "10000"]);
    rig.llm
        .push_all((0..n).map(|i| Turn::text(format!("reply {i}"))));
    let _serve = rig.serve().await;
    let ann = ann();
    rig.pair(&ann).await;
    let mut took = Vec::new();
    for i in 0..n {
        let t = Instant::now();
        rig.tg
            .send_private_text(&ann, &format!("q{i}"))
            .await
            .unwrap();
        rig.tg.wait_for_text(ann.id, &format!("reply {i}")).await;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    let pct = |p: f64| took[((p / 100.0) * took.len() as f64).ceil() as usize - 1];
    println!(
        "update -> first reply sent, {n} messages (scripted model, answers at once): p50 {:.1} ms, p95 {:.1} ms",
        pct(50.0),
        pct(95.0)
    );
}
