//! The Tasks screen: every scheduled task with its status, schedule in words, next run, last
//! result and cost this month; a task's run history (Enter); pause / resume (Space) and run now
//! (r). Adding or editing a task takes a prompt and a trigger, which `pryx tasks add` asks for,
//! so the empty state points there. It refreshes itself every few seconds while open.

mod view;

pub use view::{render, status_name};

use super::navigate;
use crate::action::{Action, LIST_TASK_RUNS, LIST_TASKS, PAUSE_TASK, RESUME_TASK, RUN_TASK};
use crate::state::Effect;
use crossterm::event::{KeyCode, KeyEvent};
use pryx_protocol::api::{TaskRunView, TaskStatus, TaskView};
use std::time::{Duration, Instant};

/// How old the shown list (and open history) may get while the screen is open.
pub const REFRESH: Duration = Duration::from_secs(3);

/// One task's run history over the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub task_id: String,
    pub name: String,
    pub runs: Vec<TaskRunView>,
    /// The core answered once.
    pub listed: bool,
    pub selected: usize,
    loading: bool,
    answered_at: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct TasksState {
    pub tasks: Vec<TaskView>,
    pub selected: usize,
    pub loading: bool,
    /// The core answered a list request once: an empty list means none.
    pub listed: bool,
    pub answered_at: Option<Instant>,
    /// The request out is a timed refresh: its failure is said on the screen, not in a panel.
    quiet: bool,
    /// Why the last timed refresh failed.
    pub stale: Option<String>,
    /// The task being paused (`false`) or resumed (`true`).
    pub changing: Option<(String, bool)>,
    /// A run-now request for this task is out.
    pub starting: Option<String>,
    pub history: Option<History>,
}

impl TasksState {
    /// Asks for the list because the user wants it (screen opened): a failure gets the panel.
    pub fn load(&mut self) -> Vec<Action> {
        self.loading = true;
        self.quiet = false;
        let mut out = vec![Action::LoadTasks];
        if let Some(h) = &mut self.history {
            h.loading = true;
            out.push(Action::LoadTaskRuns {
                id: h.task_id.clone(),
            });
        }
        out
    }

    /// The timed refreshes (list and open history) due at `now`.
    pub fn refresh_due(&mut self, now: Instant) -> Vec<Action> {
        let due =
            |at: Option<Instant>| at.is_none_or(|t| now.saturating_duration_since(t) >= REFRESH);
        let mut out = Vec::new();
        if !self.loading && due(self.answered_at) {
            self.loading = true;
            self.quiet = true;
            out.push(Action::LoadTasks);
        }
        if let Some(h) = &mut self.history
            && !h.loading
            && due(h.answered_at)
        {
            h.loading = true;
            out.push(Action::LoadTaskRuns {
                id: h.task_id.clone(),
            });
        }
        out
    }

    pub fn on_list(&mut self, tasks: Vec<TaskView>) {
        let current = self.current().map(|t| t.id.clone());
        self.loading = false;
        self.listed = true;
        self.stale = None;
        self.answered_at = Some(Instant::now());
        self.tasks = tasks;
        if let Some(i) = current.and_then(|id| self.tasks.iter().position(|t| t.id == id)) {
            self.selected = i;
        }
        self.selected = self.selected.min(self.tasks.len().saturating_sub(1));
    }

    pub fn on_runs(&mut self, id: &str, runs: Vec<TaskRunView>) {
        if let Some(h) = self.history.as_mut().filter(|h| h.task_id == id) {
            // The newest run stays selected as newer ones come; an older one follows its run.
            let current = h
                .runs
                .get(h.selected)
                .filter(|_| h.selected > 0)
                .map(|r| r.id.clone());
            h.loading = false;
            h.listed = true;
            h.answered_at = Some(Instant::now());
            h.runs = runs;
            if let Some(i) = current.and_then(|id| h.runs.iter().position(|r| r.id == id)) {
                h.selected = i;
            }
            h.selected = h.selected.min(h.runs.len().saturating_sub(1));
        }
    }

    /// A task was paused or resumed; returns what to tell the user.
    pub fn on_changed(&mut self, view: TaskView) -> String {
        if self.changing.as_ref().is_some_and(|(id, _)| *id == view.id) {
            self.changing = None;
        }
        let name = &view.spec.name;
        let text = match view.status {
            TaskStatus::Active => match &view.next_run_at {
                Some(next) => format!("{name} resumed; next run {}.", view::when(next)),
                None => format!("{name} resumed."),
            },
            _ => format!("{name} paused: it does not run until resumed (Space)."),
        };
        if let Some(t) = self.tasks.iter_mut().find(|t| t.id == view.id) {
            *t = view;
        }
        text
    }

    /// A run asked for by hand started; returns what to tell the user. The list and the open
    /// history are asked again at the next tick.
    pub fn on_run_started(&mut self, run: &TaskRunView) -> String {
        self.starting = None;
        self.answered_at = None;
        if let Some(h) = &mut self.history {
            h.answered_at = None;
        }
        let name = self
            .tasks
            .iter()
            .find(|t| t.id == run.task_id)
            .map_or(run.task_id.as_str(), |t| t.spec.name.as_str());
        format!("{name}: run #{} started.", run.run_number)
    }

    /// A failed action of this screen; `true` when it is shown here and needs no panel.
    pub fn on_failed(&mut self, what: &str, error: &str) -> bool {
        match what {
            LIST_TASKS => {
                self.loading = false;
                self.answered_at = Some(Instant::now());
                if self.quiet {
                    self.stale = Some(error.to_string());
                }
                self.quiet
            }
            LIST_TASK_RUNS => {
                if let Some(h) = &mut self.history {
                    h.loading = false;
                    h.answered_at = Some(Instant::now());
                    return h.listed;
                }
                true
            }
            PAUSE_TASK | RESUME_TASK => {
                self.changing = None;
                false
            }
            RUN_TASK => {
                self.starting = None;
                false
            }
            _ => false,
        }
    }

    pub fn current(&self) -> Option<&TaskView> {
        self.tasks.get(self.selected)
    }

    /// The task the keys act on: the history's when it is open.
    fn target(&self) -> Option<&TaskView> {
        match &self.history {
            Some(h) => self.tasks.iter().find(|t| t.id == h.task_id),
            None => self.current(),
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if let Some(h) = &mut self.history {
            if navigate(&mut h.selected, h.runs.len(), &key) {
                return Some(vec![]);
            }
            if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace) {
                self.history = None;
                return Some(vec![]);
            }
        } else {
            if navigate(&mut self.selected, self.tasks.len(), &key) {
                return Some(vec![]);
            }
            if key.code == KeyCode::Enter {
                return Some(self.open_history());
            }
        }
        match key.code {
            KeyCode::Char(' ') => Some(self.toggle()),
            KeyCode::Char('r') => Some(self.run_now()),
            KeyCode::Char('m') => Some(vec![Effect::MarkRead]),
            _ => None,
        }
    }

    fn open_history(&mut self) -> Vec<Effect> {
        let Some(t) = self.current() else {
            return vec![];
        };
        let id = t.id.clone();
        self.history = Some(History {
            task_id: id.clone(),
            name: t.spec.name.clone(),
            runs: vec![],
            listed: false,
            selected: 0,
            loading: true,
            answered_at: None,
        });
        vec![Effect::Do(Action::LoadTaskRuns { id })]
    }

    fn toggle(&mut self) -> Vec<Effect> {
        if self.changing.is_some() {
            return vec![];
        }
        let Some(t) = self.target() else {
            return vec![];
        };
        let (id, resume) = (t.id.clone(), t.status != TaskStatus::Active);
        self.changing = Some((id.clone(), resume));
        vec![Effect::Do(Action::SetTaskActive { id, resume })]
    }

    fn run_now(&mut self) -> Vec<Effect> {
        if self.starting.is_some() {
            return vec![];
        }
        let Some(t) = self.target() else {
            return vec![];
        };
        let id = t.id.clone();
        self.starting = Some(id.clone());
        vec![Effect::Do(Action::RunTask { id })]
    }
}

#[cfg(test)]
mod tests;
