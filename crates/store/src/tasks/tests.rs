use super::*;
use pryx_protocol::api::{CatchUp, NotifyWhen, OnFailure, RetryPolicy, TaskTrigger};

fn spec(name: &str) -> TaskSpec {
    TaskSpec {
        name: name.into(),
        prompt: "check".into(),
        vars: Default::default(),
        agent: None,
        trigger: TaskTrigger::Every { seconds: 60 },
        catch_up: CatchUp::RunOnce,
        retry: RetryPolicy::default(),
        on_failure: OnFailure::Notify,
        notify: NotifyWhen::Always,
        notify_targets: vec![],
        timeout_secs: 600,
        heartbeat: None,
    }
}

fn slot(slot_ms: i64, next: i64) -> Claim {
    Claim {
        reason: RunReason::Schedule,
        slot_ms: Some(slot_ms),
        attempt: 0,
        retry_of_run: None,
        next_run_ms: Some(Some(next)),
        clears_retry: false,
        clears_event: false,
        any_status: false,
    }
}

fn inbox(title: &str) -> Vec<NewNotification> {
    vec![NewNotification {
        target: DASHBOARD.into(),
        title: title.into(),
        body: String::new(),
    }]
}

#[test]
fn names_are_unique_and_tasks_are_found_by_id_or_name() {
    let s = Store::open_in_memory().unwrap();
    let t = s.create_task(&spec("watch"), 0, Some(60_000)).unwrap();
    assert_eq!(t.status, TaskStatus::Active);
    assert_eq!(s.task("watch").unwrap().unwrap().id, t.id);
    assert_eq!(s.task(&t.id).unwrap().unwrap().spec, spec("watch"));
    let e = s.create_task(&spec("watch"), 0, None).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(s.next_due_ms().unwrap(), Some(60_000));
    assert!(s.due_tasks(59_999).unwrap().is_empty());
    assert_eq!(s.due_tasks(60_000).unwrap().len(), 1);
}

#[test]
fn a_slot_is_claimed_once_and_one_run_goes_at_a_time() {
    let s = Store::open_in_memory().unwrap();
    let t = s.create_task(&spec("watch"), 0, Some(60_000)).unwrap();
    let run = s
        .claim_run(&t.id, &slot(60_000, 120_000), 60_010)
        .unwrap()
        .unwrap();
    assert_eq!((run.run_number, run.status), (1, RunStatus::Running));
    assert_eq!(s.task(&t.id).unwrap().unwrap().next_run_ms, Some(120_000));
    // Still running: the next slot waits, and nothing changed.
    assert!(
        s.claim_run(&t.id, &slot(120_000, 180_000), 120_000)
            .unwrap()
            .is_none()
    );
    assert_eq!(s.task(&t.id).unwrap().unwrap().next_run_ms, Some(120_000));
    let end = RunEnd {
        succeeded: true,
        tokens_in: 10,
        tokens_out: 5,
        cost_usd: 0.01,
        summary: Some("fine".into()),
        ..Default::default()
    };
    let ids = s
        .finish_run(&run.id, &end, &AfterRun::default(), &inbox("ok"), 61_000)
        .unwrap();
    assert_eq!(ids.map(|v| v.len()), Some(1));
    // Finishing twice changes nothing.
    assert!(
        s.finish_run(&run.id, &end, &AfterRun::default(), &[], 62_000)
            .unwrap()
            .is_none()
    );
    // The same slot again (a restart that did not see the claim): refused.
    assert!(
        s.claim_run(&t.id, &slot(60_000, 120_000), 130_000)
            .unwrap()
            .is_none()
    );
    let run2 = s
        .claim_run(&t.id, &slot(120_000, 180_000), 120_000)
        .unwrap()
        .unwrap();
    assert_eq!(run2.run_number, 2);
    let done = s.task_run(&run.id).unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!((done.tokens_in, done.duration_ms), (10, Some(990)));
    assert_eq!(done.notifications[0].state, "delivered");
    assert!((s.task_cost_since(&t.id, 0).unwrap() - 0.01).abs() < 1e-9);
}

#[test]
fn a_retry_keeps_its_run_number_and_a_crash_leaves_interrupted() {
    let s = Store::open_in_memory().unwrap();
    let t = s.create_task(&spec("watch"), 0, Some(60_000)).unwrap();
    let run = s
        .claim_run(&t.id, &slot(60_000, 120_000), 60_000)
        .unwrap()
        .unwrap();
    let retry = Retry {
        at_ms: 70_000,
        attempt: 1,
        run_number: run.run_number,
        slot_ms: Some(60_000),
    };
    let failed = RunEnd {
        error: Some("the model failed".into()),
        ..Default::default()
    };
    let after = AfterRun {
        retry: Some(retry),
        status: None,
    };
    s.finish_run(&run.id, &failed, &after, &[], 61_000).unwrap();
    let task = s.task(&t.id).unwrap().unwrap();
    assert_eq!(task.retry, Some(retry));
    assert_eq!(task.due_ms(), Some(70_000));
    let again = Claim {
        reason: RunReason::Retry,
        slot_ms: Some(60_000),
        attempt: 1,
        retry_of_run: Some(run.run_number),
        next_run_ms: None,
        clears_retry: true,
        clears_event: false,
        any_status: false,
    };
    let r2 = s.claim_run(&t.id, &again, 70_000).unwrap().unwrap();
    assert_eq!(
        (r2.run_number, r2.attempt, r2.reason),
        (1, 1, RunReason::Retry)
    );
    assert_eq!(s.task(&t.id).unwrap().unwrap().retry, None);
    // The process dies: at start the run is interrupted, with a notification, and never rerun.
    let interrupted = s.interrupt_running_runs(|_| inbox("interrupted")).unwrap();
    assert_eq!(interrupted.len(), 1);
    let r2 = s.task_run(&r2.id).unwrap().unwrap();
    assert_eq!(r2.status, RunStatus::Interrupted);
    assert!(s.claim_run(&t.id, &again, 80_000).unwrap().is_none());
    let (inbox, unread) = s.inbox(10).unwrap();
    assert_eq!((inbox.len(), unread), (1, 1));
    assert_eq!(inbox[0].status, RunStatus::Interrupted);
    assert_eq!(s.mark_read(&[]).unwrap(), 1);
    assert_eq!(s.inbox(10).unwrap().1, 0);
}

#[test]
fn the_last_hundred_runs_are_kept_and_paused_tasks_are_not_due() {
    let s = Store::open_in_memory().unwrap();
    let t = s.create_task(&spec("watch"), 0, Some(0)).unwrap();
    for i in 0..105 {
        let run = s
            .claim_run(&t.id, &slot(i * 60_000, (i + 1) * 60_000), i * 60_000)
            .unwrap()
            .unwrap();
        s.finish_run(
            &run.id,
            &RunEnd::default(),
            &AfterRun::default(),
            &[],
            i * 60_000 + 1,
        )
        .unwrap();
    }
    let runs = s.task_runs(&t.id, 1000).unwrap();
    assert_eq!(runs.len(), RUNS_KEPT as usize);
    assert_eq!(runs[0].run_number, 105);
    assert_eq!(runs.last().unwrap().run_number, 6);
    s.set_task_status(&t.id, TaskStatus::Paused, None, None, None)
        .unwrap();
    assert!(s.due_tasks(i64::MAX).unwrap().is_empty());
    assert_eq!(s.next_due_ms().unwrap(), None);
    assert!(
        s.claim_run(&t.id, &slot(999_999_000, 0), 0)
            .unwrap()
            .is_none()
    );
    assert!(s.delete_task(&t.id).unwrap());
    assert!(s.task_runs(&t.id, 10).unwrap().is_empty());
}
