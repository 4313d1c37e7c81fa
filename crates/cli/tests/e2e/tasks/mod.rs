#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Scheduled tasks through the real binary: `pryx tasks` on a data dir, `pryx serve` running
//! them against the scripted model — a timed task killed mid-run (interrupted, never doubled, the
//! next one on time), a file-change task (one run per burst, its own writes ignored), a signed
//! webhook task with retries and a notification POSTed, unattended approvals, and bad input
//! refused with nothing changed.

use crate::common;
mod event_tasks;
mod refused;

use common::{Env, ScriptedLlm, Serve, Turn};
use pryx_protocol::api::{RunStatus, TaskRunList, TaskRunView, TaskView};
use pryx_testkit::ScriptedUsage;
use std::time::{Duration, Instant};

/// `pryx ARGS --json` parsed; panics with the output when it fails.
pub fn json<T: serde::de::DeserializeOwned>(env: &Env, args: &[&str]) -> T {
    let out = env.run(&[args, &["--json"]].concat());
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "pryx {args:?}: {stdout}\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

pub fn add(env: &Env, args: &[&str]) -> TaskView {
    let created: pryx_protocol::api::TaskCreated =
        json(env, &[&["tasks", "add"][..], args].concat());
    created.task
}

pub fn runs(env: &Env, task: &str) -> Vec<TaskRunView> {
    json::<TaskRunList>(env, &["tasks", "history", task]).runs
}

/// Polls `check` until it gives a value, at most `within`.
pub fn wait_for<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn usage() -> ScriptedUsage {
    ScriptedUsage {
        input_tokens: 1200,
        output_tokens: 300,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_task_killed_mid_run_is_interrupted_never_doubled_and_the_next_runs_on_time() {
    // Slots come from the same schedule code for cron and intervals (cron's arithmetic is
    // checked against croniter); an interval keeps the test to two periods, not two minutes.
    const PERIOD: &str = "15s";
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    // Added before the core runs: the schedule is in the database.
    let task = add(
        &env,
        &["stock", "--prompt", "check the stock", "--every", PERIOD],
    );
    assert!(task.schedule.contains(PERIOD), "{}", task.schedule);
    llm.hold();
    let mut serve = Serve::start(&env, &[]);
    // The first slot's run reaches the model and waits there; the core is killed.
    wait_for(
        "the first run to call the model",
        Duration::from_secs(30),
        || (!llm.requests().is_empty()).then_some(()),
    );
    let running = runs(&env, "stock");
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].status, RunStatus::Running);
    let first_slot = running[0].slot.clone().unwrap();
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();

    llm.release();
    llm.push(Turn::text("AAPL is at 231").with_usage(usage()));
    let _serve = Serve::start(&env, &[]);
    // The cut run is interrupted at start, with a notification, and not run again.
    let after = wait_for("the cut run to be closed", Duration::from_secs(10), || {
        let r = runs(&env, "stock");
        (r[0].status == RunStatus::Interrupted).then_some(r)
    });
    assert_eq!(after.len(), 1, "{after:#?}");
    assert!(after[0].error.as_deref().unwrap().contains("stopped"));
    assert!(
        after[0]
            .notifications
            .iter()
            .any(|n| n.target == "dashboard")
    );
    // The next slot's run: on time, with its tokens and cost.
    let done = wait_for("the next slot's run", Duration::from_secs(30), || {
        let r = runs(&env, "stock");
        (r.len() == 2 && r[0].status == RunStatus::Succeeded).then_some(r)
    });
    let next = &done[0];
    assert_ne!(
        next.slot.as_deref(),
        Some(first_slot.as_str()),
        "a slot ran twice"
    );
    assert_eq!(next.run_number, 2);
    assert_eq!((next.tokens_in, next.tokens_out), (1200, 300));
    assert!(next.cost_usd > 0.0, "{next:#?}");
    assert_eq!(next.summary.as_deref(), Some("AAPL is at 231"));
    let slot = time::OffsetDateTime::parse(
        next.slot.as_deref().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let started = time::OffsetDateTime::parse(
        &next.started_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let late = started - slot;
    assert!(
        late < time::Duration::seconds(2) && late >= time::Duration::ZERO,
        "started {late} after its slot"
    );
    assert_eq!(llm.requests().len(), 2, "one call per run, none repeated");
    let shown: TaskView = json(&env, &["tasks", "show", "stock"]);
    assert!(shown.cost_this_month_usd > 0.0);
    assert!(shown.next_run_at.is_some());
}
