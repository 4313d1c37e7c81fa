//! Notifications of finished runs: which runs notify (the task's `notify` setting; a run that
//! needed an approval nobody gave always does), what they say, and their delivery — the
//! dashboard/TUI inbox by being stored, a Telegram chat through the channel's outbox (delivered
//! when the outbox row is sent), a webhook by a POST (retried, then failed with the reason).
//! Every attempt's outcome is recorded on the notification.

use crate::core::Core;
use pryx_protocol::api::{NotifyTarget, NotifyWhen, RunStatus, TaskRunView, TaskStatus};
use pryx_store::{
    AfterRun, DASHBOARD, NewNotification, Notification, NotificationState, RunEnd, TaskRow,
};
use serde::Serialize;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Webhook deliveries tried before one is given up on.
const WEBHOOK_ATTEMPTS: u32 = 5;
/// How long a channel notification may wait in the outbox before it counts as failed.
const OUTBOX_PATIENCE: Duration = Duration::from_secs(600);

/// The JSON a webhook target receives.
#[derive(Debug, Serialize)]
struct WebhookNotice<'a> {
    task: &'a str,
    run_id: &'a str,
    status: RunStatus,
    title: &'a str,
    body: &'a str,
}

fn target_name(t: &NotifyTarget) -> String {
    match t {
        NotifyTarget::Channel { channel, chat } => format!("channel:{channel}:{chat}"),
        NotifyTarget::Webhook { url } => format!("webhook:{url}"),
    }
}

fn all_targets(task: &TaskRow, title: String, body: String) -> Vec<NewNotification> {
    std::iter::once(DASHBOARD.to_string())
        .chain(task.spec.notify_targets.iter().map(target_name))
        .map(|target| NewNotification {
            target,
            title: title.clone(),
            body: body.clone(),
        })
        .collect()
}

/// The notifications of a finished run.
pub(super) fn for_run(
    _core: &Core,
    task: &TaskRow,
    run: &TaskRunView,
    end: &RunEnd,
    after: &AfterRun,
) -> Vec<NewNotification> {
    let retrying = after.retry.is_some();
    // A failure that will be retried is not the last word yet.
    let final_failure = !end.succeeded && !retrying;
    let wanted = match task.spec.notify {
        NotifyWhen::Always => end.succeeded || final_failure,
        NotifyWhen::Failure => final_failure,
        NotifyWhen::Success => end.succeeded,
        NotifyWhen::Never => false,
    };
    let needs_approval = !end.denied.is_empty() && task.spec.notify != NotifyWhen::Never;
    if task.spec.heartbeat.is_some() && end.succeeded && task.spec.notify != NotifyWhen::Never {
        return heartbeat_alert(task, end);
    }
    if !wanted && !needs_approval {
        return Vec::new();
    }
    let name = &task.spec.name;
    let title = if end.succeeded {
        format!("Task {name} ran (run #{})", run.run_number)
    } else if retrying {
        format!("Task {name} failed; retrying (run #{})", run.run_number)
    } else {
        format!("Task {name} failed (run #{})", run.run_number)
    };
    let mut body = String::new();
    if let Some(e) = &end.error {
        body.push_str(&format!("Error: {e}\n"));
    }
    if !end.denied.is_empty() {
        body.push_str(
            "Needed an approval nobody gave (allow these in the agent's policy to run unattended):\n",
        );
        for d in &end.denied {
            body.push_str(&format!("- {d}\n"));
        }
    }
    if let Some((status, Some(why))) = &after.status {
        let what = match status {
            TaskStatus::Paused => "The task is paused",
            TaskStatus::Disabled => "The task is disabled",
            TaskStatus::Failed => "The task failed",
            TaskStatus::Active => "The task stays active",
        };
        body.push_str(&format!("{what}: {why}\n"));
    }
    if let Some(s) = &end.summary {
        body.push_str(s);
        body.push('\n');
    }
    body.push_str(&format!(
        "Cost ${:.4}, {} tokens in, {} out.",
        end.cost_usd, end.tokens_in, end.tokens_out
    ));
    all_targets(task, title, body)
}

/// A heartbeat beat that ended well: its answer is the alert, delivered whole; a bare
/// acknowledgement is delivered nowhere.
fn heartbeat_alert(task: &TaskRow, end: &RunEnd) -> Vec<NewNotification> {
    let answer = end.summary.as_deref().unwrap_or_default();
    if crate::tasks::is_heartbeat_ack(answer) || answer.trim().is_empty() {
        return Vec::new();
    }
    let agent = task
        .spec
        .agent
        .as_deref()
        .unwrap_or(pryx_config::MAIN_AGENT);
    let mut body = answer.to_string();
    if !end.denied.is_empty() {
        body.push_str("\nNeeded an approval nobody gave:\n");
        for d in &end.denied {
            body.push_str(&format!("- {d}\n"));
        }
    }
    all_targets(task, format!("Heartbeat ({agent}): needs attention"), body)
}

/// The notifications of a run a stopped process left going.
pub(super) fn interrupted(core: &Core, run: &TaskRunView) -> Vec<NewNotification> {
    let Ok(Some(task)) = core.store().task(&run.task_id) else {
        return Vec::new();
    };
    if task.spec.notify == NotifyWhen::Never || task.spec.notify == NotifyWhen::Success {
        return Vec::new();
    }
    all_targets(
        &task,
        format!(
            "Task {} was interrupted (run #{})",
            task.spec.name, run.run_number
        ),
        "Pryx stopped while it ran; it is not run again. Its session holds what it did.".into(),
    )
}

/// Delivers queued notifications until stopped.
pub(super) async fn run(core: Core, stop: CancellationToken) {
    let http = pryx_http::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    loop {
        let wake = core.tasks().wake_notify.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let queued = core.store().queued_notifications().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read queued notifications");
            Vec::new()
        });
        let mut pause = Duration::from_secs(3600);
        for n in queued {
            if stop.is_cancelled() {
                return;
            }
            if let Some(again) = deliver(&core, &http, &n).await {
                pause = pause.min(again);
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = wake => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// One delivery attempt; when it is still on its way, how soon to look again.
async fn deliver(core: &Core, http: &reqwest::Client, n: &Notification) -> Option<Duration> {
    // A channel notification is checked until its outbox row is sent.
    const OUTBOX_CHECK: Duration = Duration::from_secs(1);
    let store = core.store();
    let record = |state: NotificationState, reason: Option<&str>| {
        if let Err(e) = store.set_notification_state(n.id, state, reason) {
            tracing::warn!(error = %e, "cannot record a notification's delivery");
        }
    };
    if let Some(rest) = n.target.strip_prefix("webhook:") {
        let notice = WebhookNotice {
            task: &n.task_id,
            run_id: &n.run_id,
            status: n.run_status,
            title: &n.title,
            body: &n.body,
        };
        let why = match http.post(rest).json(&notice).send().await {
            Ok(r) if r.status().is_success() => {
                record(NotificationState::Delivered, None);
                return None;
            }
            Ok(r) => format!("the URL answered {}", r.status()),
            Err(e) => format!("cannot reach the URL: {}", e.without_url()),
        };
        if n.attempts + 1 >= WEBHOOK_ATTEMPTS {
            record(NotificationState::Failed, Some(&why));
            return None;
        }
        record(NotificationState::Queued, Some(&why));
        // 2, 4, 8, 16 s.
        return Some(Duration::from_secs(2u64 << n.attempts.min(8)));
    }
    if let Some(rest) = n.target.strip_prefix("channel:") {
        let Some((channel, chat)) = rest.rsplit_once(':') else {
            record(NotificationState::Failed, Some("unreadable target"));
            return None;
        };
        let Some(row) = n.outbox_id else {
            let text = format!("{}\n\n{}", n.title, n.body);
            return match core.queue_channel_message(channel, chat, &text) {
                Ok(row) => {
                    let _ = store.set_notification_outbox(n.id, row);
                    Some(OUTBOX_CHECK)
                }
                Err(e) => {
                    record(NotificationState::Failed, Some(&e.to_string()));
                    None
                }
            };
        };
        return match store.outbound_state(row) {
            Ok(Some((state, error))) => match state.as_str() {
                "sent" => {
                    record(NotificationState::Delivered, None);
                    None
                }
                "failed" => {
                    let why = error.unwrap_or_else(|| "Telegram refused it".into());
                    record(NotificationState::Failed, Some(&why));
                    None
                }
                _ => {
                    let why = error.unwrap_or_else(|| "waiting in the channel's outbox".into());
                    // Checked about once a second while it waits: attempts count the seconds.
                    if u64::from(n.attempts) > OUTBOX_PATIENCE.as_secs() {
                        record(
                            NotificationState::Failed,
                            Some(&format!("not sent in time: {why}")),
                        );
                        return None;
                    }
                    record(NotificationState::Queued, Some(&why));
                    Some(OUTBOX_CHECK)
                }
            },
            Ok(None) => {
                record(NotificationState::Failed, Some("its outbox entry is gone"));
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a notification's outbox entry");
                Some(OUTBOX_CHECK)
            }
        };
    }
    record(NotificationState::Failed, Some("unknown target"));
    None
}
