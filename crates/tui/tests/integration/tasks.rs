#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Tasks screen and the notification toast: rendered (compared with the stored snapshots),
//! and driven through the real event loop against the fake core.

use crate::common;

use common::fake::{FakeCore, wait_for_call};
use common::{finished_run, notification, render, tasks};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use futures_util::stream;
use insta::assert_snapshot;
use pryx_protocol::api::{NotificationList, RunStatus, TaskStatus};
use pryx_tui::{AppState, ConnectionState, CoreUpdate, Response, Screen, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

fn plain() -> Theme {
    Theme::plain()
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn connected() -> AppState {
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    s
}

fn inbox(notes: Vec<pryx_protocol::api::NotificationView>) -> NotificationList {
    let unread = notes.iter().filter(|n| !n.read).count() as u64;
    NotificationList {
        notifications: notes,
        unread,
    }
}

fn tasks_state() -> AppState {
    let mut s = connected();
    s.show(Screen::Tasks);
    s.on_response(Response::Tasks(tasks()));
    s
}

#[test]
fn empty_state() {
    let mut s = connected();
    s.show(Screen::Tasks);
    s.on_response(Response::Tasks(vec![]));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

/// Status, schedule in words, next run, last run and cost this month; the selected task's pane
/// with its last run's answer.
#[test]
fn with_tasks() {
    assert_snapshot!(render(&tasks_state(), 80, 24, &plain()));
}

/// A task that cannot be scheduled says why; a paused one offers resume.
#[test]
fn failed_task_shows_its_problem() {
    let mut s = tasks_state();
    s.handle_key(key(KeyCode::End));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

/// Enter: each run with its status, start, duration, tokens, cost and error or answer; the
/// selected run's denied approvals and notification deliveries.
#[test]
fn run_history() {
    let mut s = tasks_state();
    s.handle_key(key(KeyCode::Down));
    s.handle_key(key(KeyCode::Enter));
    let mut retry = finished_run("t2", 1, false);
    retry.attempt = 1;
    s.on_response(Response::TaskRuns {
        id: "t2".into(),
        runs: vec![
            retry,
            finished_run("t2", 1, false),
            finished_run("t2", 0, true),
        ],
    });
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

/// A new notification: a toast in the status bar and the unread badge beside the totals.
#[test]
fn toast_and_unread_badge() {
    let mut s = connected();
    let now = Instant::now();
    s.notify
        .on_list(inbox(vec![notification(1, true, false)]), now);
    s.notify.on_list(
        inbox(vec![
            notification(2, false, false),
            notification(1, true, false),
        ]),
        now,
    );
    let screen = render(&s, 80, 24, &plain());
    let last = screen
        .to_string()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(last.contains("Task demo failed (run #2)"), "{last}");
    assert!(last.contains("2 unread"), "{last}");
    assert_snapshot!(screen);
}

/// A prompt, an answer and an error are the agent's or a stranger's text: escaped.
#[test]
fn task_text_cannot_drive_the_terminal() {
    let mut list = tasks();
    list[0].spec.prompt = "\x1b]0;EVIL\x07hello".into();
    if let Some(r) = list[0].last_run.as_mut() {
        r.summary = Some("done\x1b[2J".into());
    }
    let mut s = connected();
    s.show(Screen::Tasks);
    s.on_response(Response::Tasks(list));
    let screen = render(&s, 100, 30, &plain()).to_string();
    assert!(!screen.contains('\x1b'), "{screen}");
    assert!(screen.contains("␛]0;EVIL␇hello"), "{screen}");
}

#[test]
fn every_size_renders_without_panicking() {
    let mut history = tasks_state();
    history.handle_key(key(KeyCode::Enter));
    history.on_response(Response::TaskRuns {
        id: "t1".into(),
        runs: vec![finished_run("t1", 2, true), finished_run("t1", 1, false)],
    });
    let mut empty = connected();
    empty.show(Screen::Tasks);
    empty.on_response(Response::Tasks(vec![]));
    for s in [tasks_state(), history, empty] {
        for w in (1..=130).step_by(7) {
            for h in (1..=40).step_by(3) {
                render(&s, w, h, &plain());
            }
        }
    }
}

/// What the last frame showed.
#[derive(Debug, Clone, Default, PartialEq)]
struct Shown {
    statuses: Vec<TaskStatus>,
    last: Vec<Option<RunStatus>>,
    unread: u64,
    toast: Option<String>,
    error: Option<String>,
}

fn shown(s: &AppState) -> Shown {
    Shown {
        statuses: s.tasks.tasks.iter().map(|t| t.status).collect(),
        last: s
            .tasks
            .tasks
            .iter()
            .map(|t| t.last_run.as_ref().map(|r| r.status))
            .collect(),
        unread: s.notify.unread,
        toast: s.notify.toast.as_ref().map(|t| t.text.clone()),
        error: s.error_detail.clone(),
    }
}

/// Against the fake core: a notification arriving while in Chat toasts and counts; Alt-7 opens
/// the tasks and marks it read; Space pauses; r runs now and a second r while it runs shows the
/// core's conflict; the run shows in the list by itself.
#[tokio::test]
async fn toasts_pauses_runs_and_refreshes_itself() {
    use pryx_tui::{FrameProbe, drive_probed};
    let (core, updates) = FakeCore::new();
    *core.tasks.lock().unwrap() = tasks();
    *core.inbox.lock().unwrap() = inbox(vec![notification(1, true, true)]);
    let core = Arc::new(core);
    let (calls, called) = (core.calls.clone(), core.called.clone());
    let (keys, key_rx) = mpsc::unbounded_channel();
    let input = Box::pin(stream::unfold(key_rx, |mut rx| async move {
        rx.recv().await.map(|k| (k, rx))
    }));
    let press = |code: KeyCode, mods: KeyModifiers| {
        keys.send(Ok::<_, std::io::Error>(TermEvent::Key(KeyEvent::new(
            code, mods,
        ))))
        .unwrap();
    };
    let (seen_tx, mut seen) = tokio::sync::watch::channel(Shown::default());
    let probe = FrameProbe(Arc::new(move |s: &AppState| {
        seen_tx.send_replace(shown(s));
        false
    }));
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut state = AppState::new(None);
    let fake = core.clone();
    let script = async {
        updates
            .send(CoreUpdate::Connection(ConnectionState::Connected))
            .unwrap();
        wait_for_call(&calls, &called, "notifications").await;
        // A run finishes in the core and notifies; nobody presses a key.
        *fake.inbox.lock().unwrap() = inbox(vec![
            notification(2, true, false),
            notification(1, true, true),
        ]);
        seen.wait_for(|s| s.unread == 1 && s.toast.as_deref() == Some("Task demo ran (run #2)"))
            .await
            .unwrap();
        press(KeyCode::Char('7'), KeyModifiers::ALT);
        wait_for_call(&calls, &called, "mark_read [2]").await;
        seen.wait_for(|s| s.unread == 0 && s.statuses.len() == 3)
            .await
            .unwrap();
        press(KeyCode::Char(' '), KeyModifiers::NONE);
        wait_for_call(&calls, &called, "set_task_active t1 false").await;
        seen.wait_for(|s| s.statuses.first() == Some(&TaskStatus::Paused))
            .await
            .unwrap();
        press(KeyCode::Char('r'), KeyModifiers::NONE);
        wait_for_call(&calls, &called, "run_task t1").await;
        seen.wait_for(|s| s.last.first() == Some(&Some(RunStatus::Running)))
            .await
            .unwrap();
        press(KeyCode::Char('r'), KeyModifiers::NONE);
        seen.wait_for(|s| {
            s.error
                .as_deref()
                .is_some_and(|e| e.contains("is running now"))
        })
        .await
        .unwrap();
        press(KeyCode::Esc, KeyModifiers::NONE);
        // The run ends in the core; the open screen shows it by itself.
        if let Some(r) = fake.tasks.lock().unwrap()[0].last_run.as_mut() {
            r.status = RunStatus::Succeeded;
        }
        seen.wait_for(|s| s.last.first() == Some(&Some(RunStatus::Succeeded)))
            .await
            .unwrap();
        press(KeyCode::Char('q'), KeyModifiers::CONTROL);
    };
    let theme = Theme::plain();
    let run = drive_probed(
        &mut terminal,
        core,
        &mut state,
        input,
        &theme,
        Duration::from_millis(50),
        Some(&probe),
    );
    let (result, ()) =
        tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(run, script) })
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the script should finish; calls: {:?}",
                    calls.lock().unwrap()
                )
            });
    result.unwrap();
    let screen = terminal.backend().to_string();
    let row = screen.lines().find(|l| l.contains("demo "));
    assert!(row.is_some_and(|r| r.contains("paused")), "{screen}");
}

/// A paused task's old next time does not come back on resume, so it is not shown.
#[test]
fn a_paused_task_shows_no_next_run() {
    let mut list = tasks();
    list[0].status = TaskStatus::Paused;
    let mut s = connected();
    s.show(Screen::Tasks);
    s.on_response(Response::Tasks(list));
    let screen = render(&s, 100, 30, &plain()).to_string();
    assert!(screen.contains("none while paused"), "{screen}");
    assert!(!screen.contains("19:45"), "{screen}");
}

/// A heartbeat's day in the selected task's pane: beats with the model, idle and held back,
/// spend against its budget, and how the last beat ended.
#[test]
fn heartbeat_day() {
    let mut list = tasks();
    let hb = &mut list[0];
    hb.spec.heartbeat = Some(pryx_protocol::api::HeartbeatSpec {
        active_hours: Some("08:00-22:00".into()),
        tz: Some("UTC".into()),
        daily_budget_usd: 0.5,
    });
    hb.heartbeat = Some(pryx_protocol::api::HeartbeatStatus {
        checklist: true,
        last_outcome: Some(pryx_protocol::api::BeatOutcome::Idle),
        last_detail: Some("nothing was due and nothing happened".into()),
        last_beat_at: Some("2026-12-02T10:30:00Z".into()),
        model_beats_today: 2,
        idle_beats_today: 17,
        skipped_beats_today: 0,
        cost_today_usd: 0.0042,
        daily_budget_usd: 0.5,
    });
    let mut s = connected();
    s.show(Screen::Tasks);
    s.on_response(Response::Tasks(list));
    assert_snapshot!(render(&s, 80, 30, &plain()));
}
