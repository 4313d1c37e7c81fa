//! Notifications of finished task runs: the TUI polls the core's inbox while connected, shows a
//! toast in the status bar when a new unread one arrives and keeps the unread count as a badge.
//! Opening the Tasks screen (or `m` there) marks them read.

use crate::action::Action;
use pryx_protocol::api::{
    NotificationList, NotificationView, RunStatus, UpdateOutcome, UpdateStatus,
};
use std::time::{Duration, Instant};

/// How often the inbox is asked while connected.
pub const POLL: Duration = Duration::from_secs(3);
/// How long a toast stays (a key press does not hide it; the next toast replaces it).
pub const TOAST: Duration = Duration::from_secs(8);
/// How long the news of an update (or of its rollback) stays.
pub const UPDATE_TOAST: Duration = Duration::from_secs(20);

/// A one-line notice of a new notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    /// The run failed (or was interrupted).
    pub failed: bool,
    pub until: Instant,
}

#[derive(Debug, Default)]
pub struct NotifyState {
    /// The newest notifications, newest first.
    pub items: Vec<NotificationView>,
    pub unread: u64,
    /// The highest id seen; `None` until the first answer, which only sets the baseline (what
    /// was there before the TUI started gets the badge, not a toast).
    newest: Option<i64>,
    loading: bool,
    answered_at: Option<Instant>,
    /// The core has no inbox: nothing is asked again.
    pub off: bool,
    pub toast: Option<Toast>,
    /// The core was asked about updates (once per connection: a core restarted by an update
    /// is asked again).
    update_asked: bool,
}

impl NotifyState {
    /// The poll, when one is due at `now`.
    pub fn poll_due(&mut self, now: Instant) -> Option<Action> {
        let due = self
            .answered_at
            .is_none_or(|t| now.saturating_duration_since(t) >= POLL);
        if self.off || self.loading || !due {
            return None;
        }
        self.loading = true;
        Some(Action::LoadNotifications)
    }

    /// An inbox answer (of a poll or of marking read) at `now`.
    pub fn on_list(&mut self, list: NotificationList, now: Instant) {
        self.loading = false;
        self.answered_at = Some(now);
        let newest = list.notifications.iter().map(|n| n.id).max();
        if let Some(seen) = self.newest {
            let fresh: Vec<&NotificationView> = list
                .notifications
                .iter()
                .filter(|n| n.id > seen && !n.read)
                .collect();
            if let Some(first) = fresh.first() {
                let mut text = first.title.clone();
                if fresh.len() > 1 {
                    text.push_str(&format!(" (+{} more)", fresh.len() - 1));
                }
                self.toast = Some(Toast {
                    text,
                    failed: matches!(first.status, RunStatus::Failed | RunStatus::Interrupted),
                    until: now + TOAST,
                });
            }
        }
        self.newest = match (self.newest, newest) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b).or(Some(0)),
        };
        self.unread = list.unread;
        self.items = list.notifications;
    }

    /// A poll failed: the badge keeps what it had; the next poll comes as usual.
    pub fn on_failed(&mut self, now: Instant) {
        self.loading = false;
        self.answered_at = Some(now);
    }

    pub fn on_unsupported(&mut self) {
        self.loading = false;
        self.off = true;
    }

    /// Marks read what is unread, when anything is.
    pub fn mark_read(&mut self) -> Option<Action> {
        if self.unread == 0 || self.off {
            return None;
        }
        let ids: Vec<i64> = self
            .items
            .iter()
            .filter(|n| !n.read)
            .map(|n| n.id)
            .collect();
        // More unread than listed: all of them (what arrived since is newer than the toast).
        let ids = if u64::try_from(ids.len()).unwrap_or(u64::MAX) < self.unread {
            vec![]
        } else {
            ids
        };
        self.toast = None;
        Some(Action::MarkNotificationsRead { ids })
    }

    /// A new connection to the core (after an update restarted it, say): ask again.
    pub fn reconnected(&mut self) {
        self.update_asked = false;
    }

    /// The one update question of this connection.
    pub fn update_due(&mut self) -> Option<Action> {
        if self.update_asked {
            return None;
        }
        self.update_asked = true;
        Some(Action::LoadUpdate)
    }

    /// Shows the last update once — what is new, or the rollback and why — and asks the core
    /// to mark it shown; else a newer release when a background check found one.
    pub fn on_update(&mut self, status: UpdateStatus, now: Instant) -> Option<Action> {
        let shown = match (&status.last, status.unseen) {
            (Some(last), true) => match last.outcome {
                UpdateOutcome::Installed => {
                    let news = last.notes.lines().find(|l| !l.trim().is_empty());
                    Some((
                        match news {
                            Some(line) => format!("Updated to Pryx {}: {}", last.to, line.trim()),
                            None => format!("Updated to Pryx {}", last.to),
                        },
                        false,
                    ))
                }
                UpdateOutcome::RolledBack => Some((
                    format!(
                        "The update to Pryx {} was rolled back: {}",
                        last.to, last.detail
                    ),
                    true,
                )),
                UpdateOutcome::Failed => None,
            },
            _ => None,
        };
        if let Some((text, failed)) = shown {
            self.toast = Some(Toast {
                text,
                failed,
                until: now + UPDATE_TOAST,
            });
            return Some(Action::MarkUpdateSeen);
        }
        if let Some(version) = status.available {
            self.toast = Some(Toast {
                text: format!("Pryx {version} is available: run `pryx update`"),
                failed: false,
                until: now + TOAST,
            });
        }
        None
    }

    /// Drops an expired toast; `true` when the screen changed.
    pub fn expire(&mut self, now: Instant) -> bool {
        if self.toast.as_ref().is_some_and(|t| t.until <= now) {
            self.toast = None;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_protocol::api::UpdateRecord;

    fn status(outcome: UpdateOutcome, unseen: bool, available: Option<&str>) -> UpdateStatus {
        UpdateStatus {
            version: "0.1.0".into(),
            channel: "stable".into(),
            auto_check: false,
            available: available.map(Into::into),
            last: Some(UpdateRecord {
                at: "2026-12-02T10:00:00Z".into(),
                from: "0.1.0".into(),
                to: "0.2.0".into(),
                channel: "stable".into(),
                outcome,
                detail: "the new core was not ready within 15 s".into(),
                notes: "\nFaster start-up.\nMore.".into(),
            }),
            unseen,
        }
    }

    #[test]
    fn the_update_is_asked_once_and_shown_once() {
        let mut n = NotifyState::default();
        assert_eq!(n.update_due(), Some(Action::LoadUpdate));
        assert_eq!(n.update_due(), None);
        let now = Instant::now();
        assert_eq!(
            n.on_update(status(UpdateOutcome::Installed, true, None), now),
            Some(Action::MarkUpdateSeen)
        );
        let toast = n.toast.clone().unwrap();
        assert_eq!(toast.text, "Updated to Pryx 0.2.0: Faster start-up.");
        assert!(!toast.failed);

        let mut n = NotifyState::default();
        assert_eq!(
            n.on_update(status(UpdateOutcome::RolledBack, true, None), now),
            Some(Action::MarkUpdateSeen)
        );
        let toast = n.toast.clone().unwrap();
        assert!(
            toast.failed
                && toast
                    .text
                    .contains("rolled back: the new core was not ready")
        );

        // Already shown: only a newer release, when one was found, is said.
        let mut n = NotifyState::default();
        assert_eq!(
            n.on_update(status(UpdateOutcome::Installed, false, None), now),
            None
        );
        assert!(n.toast.is_none());
        n.on_update(status(UpdateOutcome::Installed, false, Some("0.3.0")), now);
        assert_eq!(
            n.toast.unwrap().text,
            "Pryx 0.3.0 is available: run `pryx update`"
        );
    }
}
