//! The Chat screen: transcript with streaming answer and tool cards, inline approvals, the input.

mod context;
#[cfg(test)]
mod context_tests;
mod events;
pub use context::ContextGauge;
pub use slash::COMMANDS;
mod slash;
mod view;

pub use view::render;

use crate::action::Action;
use crate::approval_keys;
use crate::screens::grants::{GrantsKey, GrantsView};
use crate::screens::model_pick::{ModelPicker, Pick};
use crate::state::Effect;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pryx_protocol::api::{ModelView, PendingApproval, SessionDetail, SessionSummary};
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders};
use ratatui_textarea::TextArea;

/// How a tool call is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolStatus {
    Requested,
    AwaitingApproval,
    Running,
    Done,
    Failed,
    Denied,
    /// Stopped because the user cancelled the turn.
    Cancelled,
}

impl ToolStatus {
    pub fn label(self) -> &'static str {
        match self {
            ToolStatus::Requested => "requested",
            ToolStatus::AwaitingApproval => "awaiting approval",
            ToolStatus::Running => "running",
            ToolStatus::Done => "ok",
            ToolStatus::Failed => "failed",
            ToolStatus::Denied => "denied",
            ToolStatus::Cancelled => "cancelled",
        }
    }
}

/// One tool call as a card in the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCard {
    /// The core's tool-call row id (`tool_call_id` in events).
    pub id: String,
    pub tool: String,
    /// The arguments in one short line.
    pub args: String,
    pub status: ToolStatus,
    pub duration_ms: Option<u64>,
    /// Why it failed or was denied.
    pub message: Option<String>,
    /// The model's id for the call: the stored tool result names it.
    pub call_id: String,
    /// What the tool returned (its stored result), once known.
    pub output: Option<String>,
    /// Whether the card shows its output (Ctrl-O, Alt-O).
    pub expanded: bool,
}

/// How loud a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// One item of the transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// `confirmed` once the core has stored it.
    User {
        text: String,
        confirmed: bool,
    },
    Assistant {
        text: String,
        streaming: bool,
    },
    Tool(ToolCard),
    Notice {
        text: String,
        level: Level,
    },
}

/// State of the Chat screen.
pub struct ChatState {
    pub session_id: Option<String>,
    pub title: Option<String>,
    pub model: Option<String>,
    pub entries: Vec<Entry>,
    /// Questions waiting for an answer, from every session and surface, oldest first.
    pub approvals: Vec<PendingApproval>,
    /// Lines scrolled in the approval preview.
    pub approval_scroll: u16,
    pub input: TextArea<'static>,
    pub turn_running: bool,
    /// A prompt was sent before any session existed; the next created session is ours.
    pub awaiting_session: bool,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// Lines scrolled up from the bottom of the transcript (0 follows the stream).
    pub scroll_back: u16,
    pub spinner: usize,
    /// The `/model` picker, while open.
    pub picker: Option<ModelPicker>,
    /// The `/grants` overlay, while open.
    pub grants: Option<GrantsView>,
    /// The session's last stored version when it was loaded: events of it up to there are in
    /// the transcript already and are not applied again.
    pub loaded_version: u64,
    /// The newest version of the open session shown (loaded or applied since): a reload
    /// older than it is stale (fetched before events that have arrived) and is fetched again.
    pub shown_version: u64,
    /// How full the session's context is (the status bar's gauge).
    pub context: Option<ContextGauge>,
    /// `/compact` showed what it would cost; the next `/compact` runs it.
    pub compact_pending: bool,
    /// The session's messages by `seq`: their ids and whether the user wrote them (for
    /// `/pin`, `/unpin` and `/fork`).
    pub messages: Vec<(u64, String, bool)>,
}

impl Default for ChatState {
    fn default() -> Self {
        Self::new()
    }
}

impl ChatState {
    pub fn new() -> Self {
        ChatState {
            session_id: None,
            title: None,
            model: None,
            entries: Vec::new(),
            approvals: Vec::new(),
            approval_scroll: 0,
            input: new_input(),
            turn_running: false,
            awaiting_session: false,
            tokens_in: 0,
            tokens_out: 0,
            cost_usd: 0.0,
            scroll_back: 0,
            spinner: 0,
            picker: None,
            grants: None,
            loaded_version: 0,
            shown_version: 0,
            context: None,
            compact_pending: false,
            messages: Vec::new(),
        }
    }

    /// The text typed so far.
    pub fn input_text(&self) -> String {
        self.input.lines().join("\n")
    }

    pub fn notice(&mut self, text: impl Into<String>, level: Level) {
        self.entries.push(Entry::Notice {
            text: text.into(),
            level,
        });
    }

    /// Adopts a session the core just created: ours when a first prompt waits for it, else a
    /// fresh conversation (`/new`).
    pub fn on_session_created(&mut self, s: SessionSummary) {
        if !self.awaiting_session {
            self.entries.clear();
            self.turn_running = false;
        }
        self.awaiting_session = false;
        self.set_totals(&s);
        self.warn_workspace(&s);
        self.session_id = Some(s.id);
        self.title = Some(s.title);
        self.model = s.model;
        self.scroll_back = 0;
        self.loaded_version = 0;
        self.shown_version = 0;
        self.context = None;
        self.compact_pending = false;
        self.messages.clear();
    }

    /// A workspace broader than a project (confirmed by the user) is said at the top of its
    /// conversation.
    fn warn_workspace(&mut self, s: &SessionSummary) {
        if let Some(w) = &s.workspace_warning {
            self.notice(format!("⚠ {w}"), Level::Error);
        }
    }

    pub fn set_totals(&mut self, s: &SessionSummary) {
        self.tokens_in = s.total_tokens_in;
        self.tokens_out = s.total_tokens_out;
        self.cost_usd = s.total_cost_usd;
    }

    /// Replaces the transcript with a stored session (resume, or a reload after the core came
    /// back). A prompt sent but not stored stays, with what was said about it (a refusal), so a
    /// reload racing a send loses nothing on screen.
    pub fn load(&mut self, d: SessionDetail) {
        let same = self.session_id.as_deref() == Some(d.session.id.as_str());
        let pending: Vec<Entry> = match self.entries.iter().position(|e| {
            matches!(
                e,
                Entry::User {
                    confirmed: false,
                    ..
                }
            )
        }) {
            Some(i) if same => self.entries[i..].to_vec(),
            _ => Vec::new(),
        };
        self.entries = events::entries_from_messages(&d.messages);
        let stored = |text: &str| {
            d.messages
                .iter()
                .rev()
                .any(|m| m.role == pryx_protocol::message::Role::User && m.content.text() == text)
        };
        let still_pending = pending
            .first()
            .is_some_and(|e| matches!(e, Entry::User { text, .. } if !stored(text)));
        self.messages = d
            .messages
            .iter()
            .map(|m| {
                (
                    m.seq,
                    m.id.clone(),
                    m.role == pryx_protocol::message::Role::User,
                )
            })
            .collect();
        self.context = None;
        self.compact_pending = false;
        self.set_totals(&d.session);
        self.warn_workspace(&d.session);
        // Still coming only while its send may succeed: a refused one said so and is over.
        self.turn_running = d.session.busy || (still_pending && self.turn_running);
        if still_pending {
            self.entries.extend(pending);
        }
        self.awaiting_session = false;
        self.session_id = Some(d.session.id);
        self.title = Some(d.session.title);
        self.model = d.session.model;
        self.scroll_back = 0;
        self.loaded_version = d.last_version;
        self.shown_version = d.last_version;
    }

    /// Whether typed characters go into the input (so digits and `?` are text, not keys).
    pub fn captures_text(&self) -> bool {
        self.approvals.is_empty() && self.picker.is_none() && self.grants.is_none()
    }

    /// Opens the `/model` picker on the models the core listed, at the model in use.
    pub fn open_picker(&mut self, models: Vec<ModelView>) {
        if models.is_empty() {
            self.notice(
                "The core lists no models yet: /setup sets up a model provider.",
                Level::Error,
            );
            return;
        }
        let current = self.session_id.as_ref().and(self.model.clone());
        self.picker = Some(ModelPicker::new(models, self.model.as_deref(), current));
    }

    /// Switching to `model`: the open session's, or the core's default when none is open.
    /// `/retry`: the core takes back the last user message with what it got and runs it again;
    /// the transcript drops the same part now, and the new turn's events fill it in again.
    pub fn retry_action(&mut self, model: Option<String>) -> Option<Action> {
        let Some(session_id) = self.session_id.clone() else {
            self.notice("Nothing to retry yet: send a message first.", Level::Error);
            return None;
        };
        if self.turn_running {
            self.notice(
                "A turn is running: wait for it or cancel it (Esc), then /retry.",
                Level::Error,
            );
            return None;
        }
        let last_user = self
            .entries
            .iter()
            .rposition(|e| matches!(e, Entry::User { .. }));
        match last_user {
            Some(i) => self.entries.truncate(i),
            None => {
                self.notice("Nothing to retry yet: send a message first.", Level::Error);
                return None;
            }
        }
        // The core moves the session to the named model (a failed retry reloads the session).
        if let Some(m) = &model {
            self.model = Some(m.clone());
        }
        Some(Action::RetryLast { session_id, model })
    }

    pub fn model_action(&self, model: String) -> Action {
        match &self.session_id {
            Some(id) => Action::UpdateSession {
                session_id: id.clone(),
                model: Some(model),
                policy: None,
            },
            None => Action::SetDefaultModel { model },
        }
    }

    /// Switching to `policy`: the open session's, or the core's default when none is open.
    pub fn policy_action(&self, policy: String) -> Action {
        match &self.session_id {
            Some(id) => Action::UpdateSession {
                session_id: id.clone(),
                model: None,
                policy: Some(policy),
            },
            None => Action::SetDefaultPolicy { policy },
        }
    }

    fn picker_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let picker = self.picker.as_mut()?;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => {}
            KeyCode::Char('c') if ctrl => {}
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Char('?') | KeyCode::F(_) => return None,
            _ => {
                return Some(match picker.handle_key(&key) {
                    Pick::Chosen(model) => {
                        self.picker = None;
                        vec![Effect::Do(self.model_action(model))]
                    }
                    Pick::Stay | Pick::Ignored => vec![],
                });
            }
        }
        self.picker = None;
        Some(vec![])
    }

    /// Handles a key on the Chat screen; `None` leaves it to the global keys.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if self.picker.is_some() {
            return self.picker_key(key);
        }
        if let Some(view) = &mut self.grants {
            return match view.handle_key(&key) {
                GrantsKey::Stay(effects) => Some(effects),
                GrantsKey::Close => {
                    self.grants = None;
                    Some(vec![])
                }
                GrantsKey::Ignored => None,
            };
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Some(self.cancel_turn().into_iter().collect()),
            KeyCode::Char('c') if ctrl => {
                if self.turn_running {
                    return Some(self.cancel_turn().into_iter().collect());
                }
                if !self.input.is_empty() {
                    self.input = new_input();
                    return Some(vec![]);
                }
                return Some(vec![Effect::Quit]);
            }
            KeyCode::PageUp => {
                self.scroll_back = self.scroll_back.saturating_add(10);
                return Some(vec![]);
            }
            KeyCode::PageDown => {
                self.scroll_back = self.scroll_back.saturating_sub(10);
                return Some(vec![]);
            }
            KeyCode::Char('o') if ctrl => {
                if self.toggle_last_card() {
                    return Some(vec![]);
                }
                return Some(vec![Effect::Flash("No tool has run here yet.".into())]);
            }
            KeyCode::Char('o') if key.modifiers.contains(KeyModifiers::ALT) => {
                self.toggle_all_cards();
                return Some(vec![]);
            }
            _ => {}
        }
        if !self.approvals.is_empty() {
            return self.approval_key(key);
        }
        let newline = key
            .modifiers
            .intersects(KeyModifiers::SHIFT | KeyModifiers::ALT)
            || (ctrl && key.code == KeyCode::Char('j'));
        match key.code {
            KeyCode::Enter if !newline => Some(self.submit()),
            KeyCode::Enter => {
                self.input.insert_newline();
                Some(vec![])
            }
            KeyCode::Char('j') if ctrl => {
                self.input.insert_newline();
                Some(vec![])
            }
            KeyCode::Char('?') if self.input.is_empty() => None,
            KeyCode::Tab | KeyCode::BackTab => None,
            _ => {
                self.input.input(key);
                Some(vec![])
            }
        }
    }

    fn cards_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut ToolCard> {
        self.entries.iter_mut().filter_map(|e| match e {
            Entry::Tool(c) => Some(c),
            _ => None,
        })
    }

    /// Shows or hides the output of the last tool card; `false` when there is none.
    pub fn toggle_last_card(&mut self) -> bool {
        let Some(c) = self.cards_mut().next_back() else {
            return false;
        };
        c.expanded = !c.expanded;
        true
    }

    /// Shows every tool card's output, or hides it when all show it.
    pub fn toggle_all_cards(&mut self) {
        let expand = self.cards_mut().any(|c| !c.expanded);
        for c in self.cards_mut() {
            c.expanded = expand;
        }
    }

    fn approval_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let chosen = match key.code {
            KeyCode::Char(c) if approval_keys::answer_for_key(c).is_some() => {
                approval_keys::answer_for_key(c)
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.approval_scroll = self.approval_scroll.saturating_sub(1);
                None
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.approval_scroll = self.approval_scroll.saturating_add(1);
                None
            }
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Char('?') | KeyCode::F(_) => return None,
            _ => None,
        };
        let Some((decision, scope)) = chosen else {
            return Some(vec![]);
        };
        if self.approvals.is_empty() {
            return Some(vec![]);
        }
        // The answer removes the prompt at once; `approval.resolved` confirms it, and a refused
        // answer (another surface was first) changes nothing else.
        let a = self.approvals.remove(0);
        self.approval_scroll = 0;
        Some(vec![Effect::Do(Action::AnswerApproval {
            id: a.id,
            decision,
            scope,
        })])
    }

    fn cancel_turn(&mut self) -> Option<Effect> {
        let id = self.session_id.clone()?;
        if !self.turn_running {
            return None;
        }
        self.notice("Cancelling…", Level::Info);
        Some(Effect::Do(Action::CancelTurn { session_id: id }))
    }

    fn submit(&mut self) -> Vec<Effect> {
        let text = self.input_text();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return vec![];
        }
        if trimmed.starts_with('/') {
            let effects = slash::run(self, trimmed);
            self.input = new_input();
            return effects;
        }
        if self.turn_running {
            self.notice(
                "A turn is still running: wait for it or press Esc to cancel it.",
                Level::Error,
            );
            return vec![];
        }
        let text = trimmed.to_string();
        self.entries.push(Entry::User {
            text: text.clone(),
            confirmed: false,
        });
        self.input = new_input();
        self.scroll_back = 0;
        self.awaiting_session = self.session_id.is_none();
        self.turn_running = true;
        vec![Effect::Do(Action::SendPrompt {
            session_id: self.session_id.clone(),
            text,
        })]
    }

    pub fn on_tick(&mut self) -> bool {
        if self.turn_running {
            self.spinner = self.spinner.wrapping_add(1);
        }
        self.turn_running
    }
}

fn new_input() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_block(Block::default().borders(Borders::TOP));
    t.set_cursor_line_style(Style::default());
    t.set_placeholder_text("Ask anything · Enter send · Alt-Enter newline · /help");
    t
}

#[cfg(test)]
mod tests;
