#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The scheduler driven by a chosen clock (no real waiting): a run at its slot, three days of
//! downtime caught up once, pause and resume computing the next run from now, and a failed run
//! retried after its backoff and not before.

use chrono::{DateTime, TimeDelta, Utc};
use pryx_protocol::api::{
    CatchUp, NotifyWhen, OnFailure, RetryPolicy, RunReason, RunStatus, TaskRunView, TaskSpec,
    TaskTrigger,
};
use pryx_testkit::Turn;
use pryx_testkit::core_rig::CoreRig;

use crate::clock::{at, tick, wait_run};

fn spec(name: &str, trigger: TaskTrigger) -> TaskSpec {
    TaskSpec {
        name: name.into(),
        prompt: "check".into(),
        vars: Default::default(),
        agent: None,
        trigger,
        catch_up: CatchUp::RunOnce,
        retry: RetryPolicy {
            max_retries: 2,
            backoff_secs: 60,
            max_backoff_secs: 600,
        },
        on_failure: OnFailure::Notify,
        notify: NotifyWhen::Always,
        notify_targets: vec![],
        timeout_secs: 60,
        heartbeat: None,
    }
}

fn slot(r: &TaskRunView) -> DateTime<Utc> {
    at(r.slot.as_deref().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_downtime_pause_and_resume_by_the_clock() {
    let rig = CoreRig::start().await;
    let core = &rig.core;
    let hourly = TaskTrigger::Cron {
        expr: "0 * * * *".into(),
        tz: Some("UTC".into()),
    };
    let created = core
        .task_create_at(spec("hourly", hourly), at("2026-03-01T10:30:00Z"))
        .unwrap();
    assert_eq!(
        created.task.next_run_at.as_deref(),
        Some("2026-03-01T11:00:00.000000Z")
    );
    assert!(tick(core, "2026-03-01T10:59:59Z").await.is_empty());
    rig.llm.push(Turn::text("fine"));
    let ran = tick(core, "2026-03-01T11:00:00.020Z").await;
    assert_eq!(ran.len(), 1);
    assert_eq!(
        (ran[0].reason, ran[0].status),
        (RunReason::Schedule, RunStatus::Succeeded)
    );
    assert_eq!(slot(&ran[0]), at("2026-03-01T11:00:00Z"));
    // The same time again (a second tick, or a restart): nothing more.
    assert!(tick(core, "2026-03-01T11:00:00.500Z").await.is_empty());

    // Down from 11:00 on the 1st to 14:30 on the 4th: 75 slots missed, one run for the last.
    rig.llm.push(Turn::text("caught up"));
    let ran = tick(core, "2026-03-04T14:30:00Z").await;
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].reason, RunReason::CatchUp);
    assert_eq!(slot(&ran[0]), at("2026-03-04T14:00:00Z"));
    assert!(tick(core, "2026-03-04T14:45:00Z").await.is_empty());
    assert_eq!(
        core.task_show("hourly").unwrap().next_run_at.as_deref(),
        Some("2026-03-04T15:00:00.000000Z")
    );

    // Paused over two slots: nothing runs; resumed, the next run is from now, not the missed.
    core.task_pause("hourly").unwrap();
    assert!(tick(core, "2026-03-04T17:10:00Z").await.is_empty());
    let resumed = core
        .task_resume_at("hourly", at("2026-03-04T17:20:00Z"))
        .unwrap();
    assert_eq!(
        resumed.next_run_at.as_deref(),
        Some("2026-03-04T18:00:00.000000Z")
    );
    assert!(tick(core, "2026-03-04T17:59:00Z").await.is_empty());
    rig.llm.push(Turn::text("on time"));
    let ran = tick(core, "2026-03-04T18:00:00Z").await;
    assert_eq!((ran.len(), ran[0].reason), (1, RunReason::Schedule));
    let history = core.task_runs("hourly", 100).unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history
            .iter()
            .all(|r| r.tokens_in > 0 || r.status == RunStatus::Succeeded)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_is_retried_after_its_backoff_then_notifies_once() {
    let rig = CoreRig::start().await;
    let core = &rig.core;
    // Run by hand: only the retries are left to the clock (which counts them from when the
    // run ended, on the real clock).
    core.task_create(spec("every", TaskTrigger::Manual))
        .unwrap();
    rig.llm.push(Turn::status(400, None, "refused"));
    let first = core.task_run_now("every").await.unwrap();
    let ran = [wait_run(core, &first.id).await];
    let ended = Utc::now();
    assert_eq!(ran[0].status, RunStatus::Failed);
    // A failure that will be retried tells nobody yet.
    assert!(
        ran[0].notifications.is_empty(),
        "{:?}",
        ran[0].notifications
    );
    let t = core.store().task("every").unwrap().unwrap();
    let retry = t.retry.unwrap();
    assert_eq!((retry.attempt, retry.run_number), (1, 1));
    let wait = DateTime::from_timestamp_millis(retry.at_ms).unwrap() - ended;
    assert!(
        wait > TimeDelta::seconds(55) && wait <= TimeDelta::seconds(60),
        "the first retry waits its backoff: {wait}"
    );
    let real_now = Utc::now();
    assert!(
        tick(core, &(real_now + TimeDelta::seconds(30)).to_rfc3339())
            .await
            .is_empty()
    );
    rig.llm.push(Turn::status(400, None, "refused again"));
    let ran = tick(core, &(real_now + TimeDelta::seconds(61)).to_rfc3339()).await;
    assert_eq!(
        (ran[0].reason, ran[0].attempt, ran[0].run_number),
        (RunReason::Retry, 1, 1)
    );
    // The second retry waits twice as long.
    let retry = core.store().task("every").unwrap().unwrap().retry.unwrap();
    assert_eq!(retry.attempt, 2);
    let gap = DateTime::from_timestamp_millis(retry.at_ms).unwrap() - Utc::now();
    assert!(
        gap > TimeDelta::seconds(110) && gap <= TimeDelta::seconds(120),
        "{gap}"
    );
    rig.llm
        .push(Turn::status(400, None, "refused a third time"));
    let ran = tick(core, &(Utc::now() + TimeDelta::seconds(121)).to_rfc3339()).await;
    assert_eq!((ran[0].attempt, ran[0].status), (2, RunStatus::Failed));
    // The last retry failed: it notifies, and no retry is left.
    assert_eq!(ran[0].notifications.len(), 1);
    assert!(core.store().task("every").unwrap().unwrap().retry.is_none());
}
