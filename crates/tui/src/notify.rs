//! Notifications of finished task runs: the TUI polls the core's inbox while connected, shows a
//! toast in the status bar when a new unread one arrives and keeps the unread count as a badge.
//! Opening the Tasks screen (or `m` there) marks them read.

use crate::action::Action;
use pryx_protocol::api::{NotificationList, NotificationView, RunStatus};
use std::time::{Duration, Instant};

/// How often the inbox is asked while connected.
pub const POLL: Duration = Duration::from_secs(3);
/// How long a toast stays (a key press does not hide it; the next toast replaces it).
pub const TOAST: Duration = Duration::from_secs(8);

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

    /// Drops an expired toast; `true` when the screen changed.
    pub fn expire(&mut self, now: Instant) -> bool {
        if self.toast.as_ref().is_some_and(|t| t.until <= now) {
            self.toast = None;
            return true;
        }
        false
    }
}
