//! What the app state does for the Tasks screen and the notifications of task runs: their
//! answers, and the loads a tick asks for (the inbox poll while connected, the open screen's
//! refresh).

use super::AppState;
use crate::action::{Action, Response};
use crate::api::ConnectionState;
use crate::screens::Screen;
use std::time::Instant;

impl AppState {
    /// An answer about tasks or notifications.
    pub(super) fn on_tasks_response(&mut self, r: Response) {
        match r {
            Response::Tasks(t) => self.tasks.on_list(t),
            Response::TaskChanged(t) => {
                let text = self.tasks.on_changed(*t);
                self.flash(text, false);
            }
            Response::TaskRunStarted(run) => {
                let text = self.tasks.on_run_started(&run);
                self.flash(text, false);
            }
            Response::TaskRuns { id, runs } => self.tasks.on_runs(&id, runs),
            Response::Notifications(list) => self.notify.on_list(list, Instant::now()),
            Response::NotificationsUnsupported => self.notify.on_unsupported(),
            _ => {}
        }
    }

    /// The loads due at `now`: the notifications poll while connected, and the open live
    /// screen's refresh.
    pub(super) fn timed_loads(&mut self, now: Instant) -> Vec<Action> {
        if self.connection != ConnectionState::Connected {
            return vec![];
        }
        let mut out: Vec<Action> = self.notify.poll_due(now).into_iter().collect();
        out.extend(self.notify.update_due());
        if self.setup.is_none() {
            match self.screen {
                Screen::Integrations => out.extend(self.integrations.refresh_due(now)),
                Screen::Tasks => out.extend(self.tasks.refresh_due(now)),
                _ => {}
            }
        }
        out
    }
}
