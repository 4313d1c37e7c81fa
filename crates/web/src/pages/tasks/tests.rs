use super::*;
use crate::pages::sessions::tests::assert_inert;
use pryx_protocol::api::{NotificationDelivery, RetryPolicy, TaskSpec, TaskTrigger};

const HOSTILE: &str =
    "<script>alert(1)</script><img src=x onerror=alert(1)> javascript:alert(1) \"'";

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        "2026-12-01T19:45:00Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

fn run() -> TaskRunView {
    TaskRunView {
        id: "r1".into(),
        task_id: "t1".into(),
        run_number: 3,
        attempt: 1,
        reason: RunReason::Retry,
        slot: None,
        status: RunStatus::Failed,
        started_at: "2026-12-01T19:44:30.125000Z".into(),
        finished_at: Some("2026-12-01T19:44:32Z".into()),
        duration_ms: Some(2150),
        session_id: Some("s1".into()),
        tokens_in: 1200,
        tokens_out: 300,
        cost_usd: 0.0042,
        summary: Some(format!("{HOSTILE}\nsecond line")),
        error: Some(HOSTILE.into()),
        denied: vec![format!("shell.exec: {HOSTILE}")],
        notifications: vec![NotificationDelivery {
            target: format!("webhook:{HOSTILE}"),
            state: "failed".into(),
            reason: Some(HOSTILE.into()),
            at: "2026-12-01T19:44:33Z".into(),
        }],
    }
}

fn task(status: TaskStatus) -> TaskView {
    TaskView {
        id: "t1".into(),
        spec: TaskSpec {
            name: "demo".into(),
            prompt: HOSTILE.into(),
            vars: Default::default(),
            agent: None,
            trigger: TaskTrigger::Every { seconds: 10 },
            catch_up: Default::default(),
            retry: RetryPolicy::default(),
            on_failure: Default::default(),
            notify: Default::default(),
            notify_targets: vec![],
            timeout_secs: 1800,
            heartbeat: None,
        },
        status,
        error: Some(HOSTILE.into()),
        next_run_at: Some("2026-12-01T19:45:10Z".into()),
        schedule: "every 10s".into(),
        last_run: Some(run()),
        runs: 3,
        running: false,
        own_changes_ignored: 0,
        cost_this_month_usd: 0.0126,
        heartbeat: None,
        created_at: "2026-12-01T19:00:00Z".into(),
        updated_at: "2026-12-01T19:00:00Z".into(),
    }
}

fn layout() -> Layout {
    Layout {
        title: "Task demo".into(),
        nav: "tasks",
        csrf: "tok".into(),
        theme: "system".into(),
    }
}

fn note() -> NotificationView {
    NotificationView {
        id: 1,
        task_id: "t1".into(),
        task_name: "demo".into(),
        run_id: "r1".into(),
        status: RunStatus::Failed,
        title: HOSTILE.into(),
        body: HOSTILE.into(),
        created_at: "2026-12-01T19:44:33Z".into(),
        read: false,
    }
}

#[test]
fn hostile_tasks_and_notifications_render_as_text() {
    let tasks = [task(TaskStatus::Active), task(TaskStatus::Paused)];
    let html = Live {
        board: Board {
            rows: tasks.iter().map(|t| Row::from_api(t, now())).collect(),
            notes: vec![Note::from_api(&note(), now())],
            unread: 1,
            signature: "sig".into(),
        },
        csrf: "tok".into(),
    }
    .render()
    .unwrap();
    assert_inert(&html);
    assert!(html.contains("&#60;script&#62;"), "{html}");
    assert!(html.contains("hx-get=\"/tasks/live?seen=sig\""));
    assert!(html.contains("name=\"_csrf\" value=\"tok\""));
    // Run now on both; pause on the active one, resume on the paused one.
    assert_eq!(html.matches("data-testid=\"task-run\"").count(), 2);
    assert!(
        html.contains("action=\"/tasks/t1/pause\"") && html.contains("action=\"/tasks/t1/resume\"")
    );
    assert!(html.contains("data-testid=\"mark-read\""));
    // The next run of the active task in words; the paused one has none.
    assert_eq!(html.matches("in 10 s").count(), 1, "{html}");
    assert!(html.contains("29 s ago"), "{html}");
}

#[test]
fn the_history_shows_each_runs_outcome_and_where_it_was_told() {
    let t = task(TaskStatus::Active);
    let html = Detail {
        layout: layout(),
        task: Row::from_api(&t, now()),
        runs: vec![Run::from_api(&run(), now())],
        notice: None,
    }
    .render()
    .unwrap();
    // The page's own scripts aside, nothing of the task's text is markup.
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "{html}"
    );
    assert!(html.contains("#3 (retry 1)"), "{html}");
    assert!(html.contains("2026-12-01 19:44:30 UTC"), "{html}");
    assert!(
        html.contains("2.1 s") && html.contains("1200 in / 300 out") && html.contains("$0.0042")
    );
    assert!(html.contains("Needed an approval nobody gave"));
    assert!(html.contains("failed (&#60;script&#62;"), "{html}");
    assert!(html.contains("href=\"/chat/s1\""));
    assert!(html.contains("name=\"from\" value=\"detail\""));
}

#[test]
fn times_read_like_people_say_them() {
    assert_eq!(when("2026-12-01T19:45:08Z", now()).rel, "in 8 s");
    assert_eq!(when("2026-12-01T19:42:00.5Z", now()).rel, "2 min ago");
    assert_eq!(when("2026-12-01T22:45:00Z", now()).rel, "in 3 h 0 min");
    assert_eq!(
        when("2026-12-01T19:45:08.422000Z", now()).text,
        "2026-12-01 19:45:08 UTC"
    );
    assert_eq!(when("2026-12-01T19:45:00.4Z", now()).rel, "just now");
    assert_eq!(when("garbage", now()).rel, "");
}

#[test]
fn the_signature_changes_with_what_is_shown() {
    let a = signature(&[task(TaskStatus::Active)], &[note()], 1);
    assert_eq!(a, signature(&[task(TaskStatus::Active)], &[note()], 1));
    assert_ne!(a, signature(&[task(TaskStatus::Paused)], &[note()], 1));
    assert_ne!(a, signature(&[task(TaskStatus::Active)], &[note()], 0));
}

#[test]
fn a_heartbeat_shows_its_day_and_how_its_last_beat_ended() {
    let mut t = task(TaskStatus::Active);
    t.spec.heartbeat = Some(pryx_protocol::api::HeartbeatSpec {
        active_hours: Some("08:00-22:00".into()),
        tz: Some("Europe/Berlin".into()),
        daily_budget_usd: 0.5,
    });
    t.heartbeat = Some(pryx_protocol::api::HeartbeatStatus {
        checklist: false,
        last_outcome: Some(BeatOutcome::Alert),
        last_detail: Some(HOSTILE.into()),
        last_beat_at: None,
        model_beats_today: 2,
        idle_beats_today: 9,
        skipped_beats_today: 1,
        cost_today_usd: 0.0042,
        daily_budget_usd: 0.5,
    });
    let html = Detail {
        layout: layout(),
        task: Row::from_api(&t, now()),
        runs: vec![],
        notice: None,
    }
    .render()
    .unwrap();
    assert!(
        html.contains(
            "active 08:00-22:00 (Europe/Berlin); today 2 with the model · 9 idle · 1 held back"
        ),
        "{html}"
    );
    assert!(html.contains("No HEARTBEAT.md"));
    assert!(
        html.contains("alert delivered — &#60;script&#62;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
}
