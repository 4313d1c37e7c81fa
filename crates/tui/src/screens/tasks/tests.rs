use super::*;
use crate::action::{MARK_READ, Response};
use crate::api::{ConnectionState, CoreUpdate};
use crate::notify::{POLL, TOAST};
use crate::state::{AppState, Screen};
use crossterm::event::KeyModifiers;
use pryx_protocol::api::{NotificationList, NotificationView, RunStatus};
use pryx_testkit::tasks::task_run as run;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn task(id: &str, name: &str, status: TaskStatus) -> TaskView {
    pryx_testkit::tasks::task(id, name, status, "every 10s")
}

fn note(id: i64, title: &str, status: RunStatus, read: bool) -> NotificationView {
    NotificationView {
        id,
        task_id: "t1".into(),
        task_name: "demo".into(),
        run_id: format!("r{id}"),
        status,
        title: title.into(),
        body: String::new(),
        created_at: "2026-12-01T19:45:00Z".into(),
        read,
    }
}

fn inbox(notes: Vec<NotificationView>) -> NotificationList {
    let unread = notes.iter().filter(|n| !n.read).count() as u64;
    NotificationList {
        notifications: notes,
        unread,
    }
}

fn connected() -> AppState {
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    s
}

/// On the Tasks screen with an active and a paused task listed (and an empty inbox known).
fn on_screen() -> AppState {
    let mut s = connected();
    s.on_response(Response::Notifications(inbox(vec![])));
    assert_eq!(s.show(Screen::Tasks), vec![Action::LoadTasks]);
    s.on_response(Response::Tasks(vec![
        task("t1", "demo", TaskStatus::Active),
        task("t2", "digest", TaskStatus::Paused),
    ]));
    s
}

#[test]
fn space_pauses_an_active_task_and_resumes_a_paused_one() {
    let mut s = on_screen();
    assert_eq!(
        s.handle_key(key(KeyCode::Char(' '))),
        vec![Action::SetTaskActive {
            id: "t1".into(),
            resume: false
        }]
    );
    // A second Space before the answer sends nothing.
    assert_eq!(s.handle_key(key(KeyCode::Char(' '))), vec![]);
    s.on_response(Response::TaskChanged(Box::new(task(
        "t1",
        "demo",
        TaskStatus::Paused,
    ))));
    assert!(s.tasks.changing.is_none());
    assert_eq!(s.tasks.tasks[0].status, TaskStatus::Paused);
    let flash = s.flash.as_ref().map(|f| f.text.as_str()).unwrap_or("");
    assert!(flash.starts_with("demo paused"), "{flash}");

    s.handle_key(key(KeyCode::Down));
    assert_eq!(
        s.handle_key(key(KeyCode::Char(' '))),
        vec![Action::SetTaskActive {
            id: "t2".into(),
            resume: true
        }]
    );
    s.on_response(Response::TaskChanged(Box::new(task(
        "t2",
        "digest",
        TaskStatus::Active,
    ))));
    let flash = s.flash.as_ref().map(|f| f.text.as_str()).unwrap_or("");
    assert_eq!(flash, "digest resumed; next run 2026-12-01 19:45:10 UTC.");
}

#[test]
fn r_runs_the_task_now_and_a_conflict_shows_the_cores_words() {
    let mut s = on_screen();
    assert_eq!(
        s.handle_key(key(KeyCode::Char('r'))),
        vec![Action::RunTask { id: "t1".into() }]
    );
    assert_eq!(
        s.handle_key(key(KeyCode::Char('r'))),
        vec![],
        "one at a time"
    );
    s.on_response(Response::TaskRunStarted(run("t1", 4, RunStatus::Running)));
    let flash = s.flash.as_ref().map(|f| f.text.as_str()).unwrap_or("");
    assert_eq!(flash, "demo: run #4 started.");
    // The list is asked again at the next tick, not 3 s later.
    let acts = s.on_tick_at(Instant::now());
    assert!(acts.contains(&Action::LoadTasks), "{acts:?}");

    s.on_response(Response::Tasks(vec![task(
        "t1",
        "demo",
        TaskStatus::Active,
    )]));
    s.handle_key(key(KeyCode::Char('r')));
    s.on_response(Response::Failed {
        what: RUN_TASK.into(),
        error: "task demo is running now; wait for that run to end (CONFLICT)".into(),
    });
    assert!(s.tasks.starting.is_none());
    let panel = s.error_detail.as_deref().unwrap_or("");
    assert!(panel.contains("is running now"), "{panel}");
}

#[test]
fn enter_opens_the_run_history_which_takes_the_keys_until_esc() {
    let mut s = on_screen();
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        vec![Action::LoadTaskRuns { id: "t1".into() }]
    );
    s.on_response(Response::TaskRuns {
        id: "t1".into(),
        runs: vec![
            run("t1", 2, RunStatus::Failed),
            run("t1", 1, RunStatus::Succeeded),
        ],
    });
    let h = s.tasks.history.as_ref().map(|h| h.runs.len());
    assert_eq!(h, Some(2));
    // ↓ moves through the runs, not the tasks.
    s.handle_key(key(KeyCode::Down));
    assert_eq!(s.tasks.history.as_ref().map(|h| h.selected), Some(1));
    assert_eq!(s.tasks.selected, 0);
    // r and Space act on the history's task.
    assert_eq!(
        s.handle_key(key(KeyCode::Char('r'))),
        vec![Action::RunTask { id: "t1".into() }]
    );
    // The open history refreshes with the list.
    let later = Instant::now() + REFRESH;
    let acts = s.on_tick_at(later);
    assert!(
        acts.contains(&Action::LoadTaskRuns { id: "t1".into() }),
        "{acts:?}"
    );
    s.handle_key(key(KeyCode::Esc));
    assert!(s.tasks.history.is_none());
    assert_eq!(s.screen, Screen::Tasks);
}

#[test]
fn the_open_screen_refreshes_itself_and_a_failed_refresh_is_said_quietly() {
    let mut s = on_screen();
    let now = Instant::now();
    assert!(
        !s.on_tick_at(now).contains(&Action::LoadTasks),
        "just answered"
    );
    let later = now + REFRESH;
    assert!(s.on_tick_at(later).contains(&Action::LoadTasks));
    assert!(
        !s.on_tick_at(later + REFRESH).contains(&Action::LoadTasks),
        "one out at a time"
    );
    s.on_response(Response::Failed {
        what: LIST_TASKS.into(),
        error: "the core is not up yet".into(),
    });
    assert!(s.error_detail.is_none(), "no panel every 3 s");
    assert_eq!(s.tasks.stale.as_deref(), Some("the core is not up yet"));
    assert_eq!(s.tasks.tasks.len(), 2, "the last list stays");
    // Another screen is not refreshed.
    s.show(Screen::Skills);
    let acts = s.on_tick_at(Instant::now() + REFRESH * 2);
    assert!(!acts.contains(&Action::LoadTasks), "{acts:?}");
}

#[test]
fn a_new_notification_toasts_and_counts_until_the_tasks_screen_marks_it_read() {
    let mut s = connected();
    let t0 = Instant::now();
    assert_eq!(
        s.on_tick_at(t0),
        vec![Action::LoadNotifications, Action::LoadUpdate]
    );
    // What was there before is counted, not toasted.
    s.notify.on_list(
        inbox(vec![note(
            1,
            "Task demo ran (run #1)",
            RunStatus::Succeeded,
            false,
        )]),
        t0,
    );
    assert!(s.notify.toast.is_none());
    assert_eq!(s.notify.unread, 1);
    assert_eq!(s.on_tick_at(t0), vec![], "not again before {POLL:?}");
    assert_eq!(s.on_tick_at(t0 + POLL), vec![Action::LoadNotifications]);
    s.notify.on_list(
        inbox(vec![
            note(2, "Task demo failed (run #2)", RunStatus::Failed, false),
            note(1, "Task demo ran (run #1)", RunStatus::Succeeded, false),
        ]),
        t0 + POLL,
    );
    let toast = s.notify.toast.clone().map(|t| (t.text, t.failed));
    assert_eq!(toast, Some(("Task demo failed (run #2)".to_string(), true)));
    assert_eq!(s.notify.unread, 2);
    // The toast goes by itself.
    s.on_tick_at(t0 + POLL + TOAST);
    assert!(s.notify.toast.is_none());

    let acts = s.show(Screen::Tasks);
    assert_eq!(
        acts,
        vec![
            Action::LoadTasks,
            Action::MarkNotificationsRead { ids: vec![2, 1] }
        ]
    );
    s.on_response(Response::Notifications(inbox(vec![
        note(2, "Task demo failed (run #2)", RunStatus::Failed, true),
        note(1, "Task demo ran (run #1)", RunStatus::Succeeded, true),
    ])));
    assert_eq!(s.notify.unread, 0);
    assert!(s.notify.toast.is_none(), "read ones do not toast");
    assert_eq!(
        s.handle_key(key(KeyCode::Char('m'))),
        vec![],
        "nothing unread"
    );
}

#[test]
fn m_marks_read_and_failed_polls_keep_quiet() {
    let mut s = on_screen();
    let t0 = Instant::now();
    s.notify.on_list(
        inbox(vec![note(
            3,
            "Task demo ran (run #3)",
            RunStatus::Succeeded,
            false,
        )]),
        t0,
    );
    assert_eq!(
        s.handle_key(key(KeyCode::Char('m'))),
        vec![Action::MarkNotificationsRead { ids: vec![3] }]
    );
    s.on_response(Response::Failed {
        what: MARK_READ.into(),
        error: "database is locked".into(),
    });
    assert!(
        s.error_detail.is_some(),
        "an asked-for action says it failed"
    );
    s.handle_key(key(KeyCode::Esc));
    s.on_response(Response::Failed {
        what: crate::action::LOAD_NOTIFICATIONS.into(),
        error: "the core is not up yet".into(),
    });
    assert!(s.error_detail.is_none() && s.flash.is_none());
    assert_eq!(s.notify.unread, 1, "the badge keeps what it had");
    // A core without an inbox is not asked again; a core that is down is not asked at all.
    s.on_response(Response::NotificationsUnsupported);
    let acts = s.on_tick_at(Instant::now() + POLL * 2);
    assert!(!acts.contains(&Action::LoadNotifications), "{acts:?}");
    let mut down = connected();
    down.on_core(CoreUpdate::Connection(ConnectionState::Down {
        reason: "gone".into(),
        failures: 1,
        log_tail: vec![],
    }));
    assert_eq!(down.on_tick_at(Instant::now()), vec![]);
}

#[test]
fn the_selection_follows_its_task_across_refreshes() {
    let mut s = on_screen();
    s.handle_key(key(KeyCode::Down));
    s.on_response(Response::Tasks(vec![
        task("t0", "alpha", TaskStatus::Active),
        task("t1", "demo", TaskStatus::Active),
        task("t2", "digest", TaskStatus::Paused),
    ]));
    assert_eq!(s.tasks.current().map(|t| t.id.as_str()), Some("t2"));
}
