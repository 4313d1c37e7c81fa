//! The whole UI state. It changes only through [`AppState::apply`] (core events),
//! [`AppState::on_response`] (answers to actions), [`AppState::handle_key`] and ticks, and returns
//! the [`Action`]s to perform; rendering reads it and nothing else.

use crate::action::{Action, Response};
use crate::api::{ConnectionState, CoreUpdate};
use crate::notify::NotifyState;
pub use crate::screens::Screen;
use crate::screens::chat::{ChatState, Level};
use crate::screens::setup::{Outcome, SetupState};
use crate::screens::{
    integrations::IntegrationsState, mcp::McpState, sessions::SessionsState, skills::SkillsState,
    tasks::TasksState, telemetry::TelemetryState,
};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use pryx_protocol::Event;

/// What a key on a screen asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Do(Action),
    Help,
    Quit,
    Show(Screen),
    Flash(String),
    /// Open the provider setup (`/setup`).
    OpenSetup,
    /// Mark the task notifications read.
    MarkRead,
}

/// A one-line message in the status bar until the next key.
#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

/// Everything the UI shows.
pub struct AppState {
    pub screen: Screen,
    pub chat: ChatState,
    pub sessions: SessionsState,
    pub integrations: IntegrationsState,
    pub skills: SkillsState,
    pub mcp: McpState,
    pub telemetry: TelemetryState,
    pub tasks: TasksState,
    /// Notifications of finished task runs: the unread badge and the toast.
    pub notify: NotifyState,
    /// The provider setup, while it is open; it covers the screens until done or skipped.
    pub setup: Option<SetupState>,
    /// `Some(scroll)` while the help overlay is open.
    pub help: Option<u16>,
    pub connection: ConnectionState,
    /// The error panel was dismissed for the current outage.
    pub error_hidden: bool,
    pub flash: Option<Flash>,
    /// A failed action's whole error, shown in a panel until Esc (the flash holds its start).
    pub error_detail: Option<String>,
    pub policy: Option<String>,
    pub quit: bool,
    /// Something changed since the last draw.
    pub dirty: bool,
    resume: Option<String>,
    /// The core's providers were listed once (setup opens by itself only on the first look).
    providers_checked: bool,
}

impl AppState {
    /// A fresh state; `resume` opens that session once connected.
    pub fn new(resume: Option<String>) -> Self {
        AppState {
            screen: Screen::Chat,
            chat: ChatState::new(),
            sessions: SessionsState::default(),
            integrations: IntegrationsState::default(),
            skills: SkillsState::default(),
            mcp: McpState::default(),
            telemetry: TelemetryState::default(),
            tasks: TasksState::default(),
            notify: NotifyState::default(),
            setup: None,
            help: None,
            connection: ConnectionState::Connecting,
            error_hidden: false,
            flash: None,
            error_detail: None,
            policy: None,
            quit: false,
            dirty: true,
            resume,
            providers_checked: false,
        }
    }

    /// What to load when the UI starts.
    pub fn startup(&mut self) -> Vec<Action> {
        let mut out = vec![Action::LoadApprovals];
        if let Some(id) = self.resume.take() {
            out.push(Action::ResumeSession { id });
        }
        out
    }

    /// Whether the error panel covers the screen.
    pub fn error_panel_open(&self) -> bool {
        matches!(self.connection, ConnectionState::Down { .. }) && !self.error_hidden
    }

    pub fn apply(&mut self, ev: &Event) -> Vec<Action> {
        self.dirty = true;
        let mut out = self.chat.apply(ev);
        if self.screen == Screen::Telemetry
            && self.chat.session_id.as_deref() == Some(ev.session_id.as_str())
            && matches!(ev.payload, pryx_protocol::EventPayload::TurnCompleted(_))
        {
            out.push(Action::LoadTimeline {
                session_id: ev.session_id.clone(),
            });
        }
        out
    }

    pub fn on_core(&mut self, u: CoreUpdate) -> Vec<Action> {
        match u {
            CoreUpdate::Event(ev) => self.apply(&ev),
            CoreUpdate::Connection(c) => {
                self.dirty = true;
                let was_up = self.connection == ConnectionState::Connected;
                let now_up = c == ConnectionState::Connected;
                if !matches!(c, ConnectionState::Down { .. }) {
                    self.error_hidden = false;
                }
                self.connection = c;
                if now_up && !was_up {
                    self.notify.reconnected();
                    // Approvals raised while we were away still wait for an answer.
                    let mut out = vec![Action::LoadApprovals];
                    if !self.providers_checked {
                        out.push(Action::LoadProviders);
                    }
                    out.extend(self.load_for(self.screen));
                    return out;
                }
                vec![]
            }
            CoreUpdate::Reset { session_id } => {
                if self.chat.session_id.as_deref() == Some(session_id.as_str()) {
                    vec![Action::ReloadSession { id: session_id }]
                } else {
                    vec![]
                }
            }
        }
    }

    pub fn on_response(&mut self, r: Response) -> Vec<Action> {
        self.dirty = true;
        match r {
            Response::SessionCreated(s) => {
                self.adopt_policy(&s);
                self.chat.on_session_created(s);
            }
            Response::SessionLoaded(d) => {
                self.adopt_policy(&d.session);
                self.chat.load(d);
                self.screen = Screen::Chat;
            }
            Response::SessionReloaded(d) => {
                // Only if the user did not open another session meanwhile.
                if self.chat.session_id.as_deref() == Some(d.session.id.as_str()) {
                    if d.last_version < self.chat.shown_version {
                        // Fetched before events shown since (a turn that ran meanwhile):
                        // replacing the transcript with it would lose them.
                        return vec![Action::ReloadSession { id: d.session.id }];
                    }
                    self.chat.load(d);
                }
            }
            Response::Totals(s) => {
                if self.chat.session_id.as_deref() == Some(s.id.as_str()) {
                    self.chat.set_totals(&s);
                }
            }
            Response::PromptAccepted(_) | Response::Done => {}
            Response::Sessions { query, sessions } => self.sessions.on_results(&query, sessions),
            Response::Exported { location, .. } => {
                self.flash(format!("Exported to {location}"), false)
            }
            Response::Deleted { id } => {
                self.sessions.on_deleted(&id);
                self.flash("Session deleted.".to_string(), false);
            }
            Response::Approvals(list) => {
                for a in list {
                    if !self.chat.approvals.iter().any(|x| x.id == a.id) {
                        self.chat.approvals.push(a);
                    }
                }
            }
            Response::Grants(list) => {
                if let Some(view) = &mut self.chat.grants {
                    view.on_list(list);
                }
            }
            Response::GrantRevoked { id } => {
                if let Some(view) = &mut self.chat.grants {
                    view.on_revoked(&id);
                }
                self.flash(
                    "Grant revoked: the next identical call asks again.".to_string(),
                    false,
                );
            }
            Response::Models { provider, models } => match &mut self.setup {
                Some(s) if s.wants_models(provider.as_deref()) => s.on_models(models),
                // A `/model` list arriving after setup opened would pop up behind it.
                Some(_) => {}
                None => self.chat.open_picker(models),
            },
            Response::DefaultModelSet(m) => {
                if self.setup.as_ref().is_some_and(SetupState::finishing) {
                    self.finish_setup(Some(m));
                } else {
                    self.chat.notice(
                        format!("New sessions now run on {m} (open sessions keep theirs)."),
                        Level::Info,
                    );
                    if self.chat.session_id.is_none() {
                        self.chat.model = Some(m);
                    }
                }
            }
            Response::DefaultPolicySet(p) => {
                self.chat.notice(
                    format!("New sessions now run under policy {p}."),
                    Level::Info,
                );
                if self.chat.session_id.is_none() {
                    self.policy = Some(p);
                }
            }
            Response::SessionUpdated(s) => {
                if self.chat.session_id.as_deref() == Some(s.id.as_str()) {
                    let model = s.model.as_deref().unwrap_or("the default model");
                    let policy = s.policy.as_deref().unwrap_or("the default policy");
                    self.chat.notice(
                        format!("This session now runs on {model} under policy {policy}."),
                        Level::Info,
                    );
                    self.chat.model = s.model.clone();
                    self.adopt_policy(&s);
                }
            }
            Response::Providers(list) => {
                let first_look = !self.providers_checked;
                self.providers_checked = true;
                if first_look && list.is_empty() && self.setup.is_none() {
                    return self.open_setup(true);
                }
            }
            Response::Presets(p) => {
                if let Some(s) = &mut self.setup {
                    s.on_presets(p);
                }
            }
            Response::ProviderSaved(p) => {
                if let Some(s) = &mut self.setup {
                    return s.on_saved(&p);
                }
            }
            Response::ProviderTested { id, report } => {
                if let Some(s) = &mut self.setup {
                    s.on_tested(&id, report);
                }
            }
            Response::NeedsSetup(message) => {
                self.chat.turn_running = false;
                self.chat.awaiting_session = false;
                self.chat.notice(message, Level::Error);
                self.chat
                    .notice("Type /setup to set up a model provider here.", Level::Info);
            }
            Response::Skills(s) => self.skills.on_list(s),
            Response::SkillToggled { name, enabled } => self.skills.on_toggled(&name, enabled),
            Response::McpServers(s) => self.mcp.on_list(s),
            Response::McpTested(r) => self.mcp.on_tested(r),
            Response::Channels(c) => self.integrations.on_list(c),
            Response::ChannelPaired(code) => self.integrations.on_paired(code),
            Response::ChannelChanged(c) => {
                let text = self.integrations.on_changed(c);
                self.flash(text, false);
            }
            Response::Spans { session_id, spans } => self.telemetry.on_spans(&session_id, spans),
            Response::Telemetry { status, changed } => {
                if changed {
                    let text = match (&status.enabled, status.endpoint.as_deref()) {
                        (true, Some(e)) => format!("Telemetry export on: sending to {e}."),
                        _ => "Telemetry export off: nothing leaves this machine.".to_string(),
                    };
                    self.flash(crate::safe_text::escape(&text).into_owned(), false);
                }
                self.telemetry.export.on_status(*status);
            }
            r @ (Response::Tasks(_)
            | Response::TaskChanged(_)
            | Response::TaskRunStarted(_)
            | Response::TaskRuns { .. }
            | Response::Notifications(_)
            | Response::NotificationsUnsupported) => self.on_tasks_response(r),
            Response::Context { context, purpose } => self.chat.on_context(&context, purpose),
            Response::Pinned { seq, pinned } => self.chat.on_pinned(seq, pinned),
            Response::Processes {
                session_id,
                processes,
            } => self.chat.on_processes(&session_id, &processes),
            Response::Forked(child) => {
                self.flash(format!("Forked into a new session: {}", child.title), false);
                return vec![Action::ResumeSession { id: child.id }];
            }
            Response::Update(status) => {
                return self
                    .notify
                    .on_update(status, std::time::Instant::now())
                    .into_iter()
                    .collect();
            }
            Response::Failed { what, error } => {
                if self.integrations.on_failed(&what, &error) || self.tasks.on_failed(&what, &error)
                {
                    return vec![];
                }
                if what == crate::action::LOAD_TELEMETRY && error.contains("does not support") {
                    // An older core: the screen says so where the export's state would be.
                    self.telemetry.export.unsupported = true;
                    return vec![];
                }
                if what == crate::action::LOAD_NOTIFICATIONS {
                    // A poll every few seconds: the badge keeps what it had.
                    self.notify.on_failed(std::time::Instant::now());
                    return vec![];
                }
                // A prompt, a new session or a session command the user typed: said where
                // they typed it.
                let in_transcript = what == crate::action::SEND_PROMPT
                    || what == crate::action::CREATE_SESSION
                    || crate::action::SESSION_COMMANDS.contains(&what.as_str());
                if in_transcript {
                    self.chat.turn_running = false;
                    self.chat.awaiting_session = false;
                    // The whole text where the prompt was, not cut to the status bar: it says
                    // what to do (e.g. how to confirm a broad workspace).
                    self.chat.notice(
                        format!("Could not {what}: {error}"),
                        crate::screens::chat::Level::Error,
                    );
                }
                if what == crate::action::LIST_PROVIDERS {
                    self.providers_checked = true;
                }
                let shown = self
                    .setup
                    .as_mut()
                    .is_some_and(|s| s.on_failed(&what, &error));
                if !shown {
                    let text = format!("Could not {what}: {error}");
                    // The transcript holds a failed prompt whole; anything else gets the panel,
                    // unless the core is not connected: down (its own panel says so) or coming
                    // back, when the loads a reconnect makes by itself may fail and a panel
                    // would take the keys meant for the chat or the retry.
                    let down = !matches!(self.connection, ConnectionState::Connected);
                    // A load the TUI made by itself (at a reconnect, after a turn, while the
                    // core may be coming back) must not open a panel that takes the next keys:
                    // the status bar says it failed.
                    let background = crate::action::AUTOMATIC_LOADS.contains(&what.as_str());
                    if !in_transcript && !down && !background {
                        self.error_detail = Some(text.clone());
                    }
                    self.flash(text, true);
                }
            }
        }
        vec![]
    }

    /// The status bar shows the open session's policy.
    fn adopt_policy(&mut self, s: &pryx_protocol::api::SessionSummary) {
        if s.policy.is_some() {
            self.policy = s.policy.clone();
        }
    }

    /// Opens the provider setup over the screens; `first_run` when the core has none.
    pub fn open_setup(&mut self, first_run: bool) -> Vec<Action> {
        let (setup, load) = SetupState::open(first_run);
        self.setup = Some(setup);
        self.screen = Screen::Chat;
        vec![load]
    }

    fn finish_setup(&mut self, model: Option<String>) {
        let provider = self
            .setup
            .take()
            .and_then(|s| s.preset().map(|p| p.name.clone()))
            .unwrap_or_else(|| "The provider".to_string());
        let text = match &model {
            Some(m) => format!(
                "Setup done: {provider} answers, and new sessions run on {m}. /model switches models, /setup adds another provider."
            ),
            None => format!("Setup done: {provider} answers. /setup adds another provider."),
        };
        self.chat.notice(text, Level::Info);
        if self.chat.session_id.is_none() && model.is_some() {
            self.chat.model = model;
        }
    }

    fn setup_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(setup) = &mut self.setup else {
            return vec![];
        };
        match setup.handle_key(key) {
            Outcome::Stay(actions) => actions,
            Outcome::Skip => {
                self.setup = None;
                self.chat.notice(
                    "Setup skipped. Type /setup when you want to set up a model provider.",
                    Level::Info,
                );
                vec![]
            }
            Outcome::Done => {
                self.finish_setup(None);
                vec![]
            }
            Outcome::Quit => self.run_effects(vec![Effect::Quit]),
        }
    }

    fn flash(&mut self, text: String, error: bool) {
        self.flash = Some(Flash { text, error });
    }

    /// Advances animations (the state is dirty only when something moves) and asks again for
    /// what a live screen shows.
    pub fn on_tick(&mut self) -> Vec<Action> {
        self.on_tick_at(std::time::Instant::now())
    }

    /// [`AppState::on_tick`] at `now`.
    pub fn on_tick_at(&mut self, now: std::time::Instant) -> Vec<Action> {
        if self.chat.on_tick() {
            self.dirty = true;
        }
        if self.notify.expire(now) {
            self.dirty = true;
        }
        self.timed_loads(now)
    }

    pub fn on_mouse(&mut self, m: MouseEvent) {
        if self.screen != Screen::Chat {
            return;
        }
        match m.kind {
            MouseEventKind::ScrollUp => {
                self.chat.scroll_back = self.chat.scroll_back.saturating_add(3)
            }
            MouseEventKind::ScrollDown => {
                self.chat.scroll_back = self.chat.scroll_back.saturating_sub(3)
            }
            _ => return,
        }
        self.dirty = true;
    }

    /// Pasted text (bracketed paste): goes into the focused text field as is, so a pasted newline
    /// never sends the message.
    pub fn on_paste(&mut self, text: &str) {
        if self.help.is_some() || self.error_panel_open() || self.error_detail.is_some() {
            return;
        }
        if let Some(setup) = &mut self.setup {
            setup.on_paste(text);
            self.dirty = true;
            return;
        }
        match self.screen {
            Screen::Chat if self.chat.captures_text() => {
                self.chat
                    .input
                    .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
            }
            Screen::Sessions if self.sessions.searching => {
                self.sessions
                    .query
                    .push_str(&text.replace(['\r', '\n'], " "));
            }
            _ => return,
        }
        self.dirty = true;
    }

    /// Switches screens and loads what the new one shows.
    pub fn show(&mut self, screen: Screen) -> Vec<Action> {
        self.screen = screen;
        self.load_for(screen)
    }

    fn load_for(&mut self, screen: Screen) -> Vec<Action> {
        match screen {
            Screen::Chat => vec![],
            Screen::Sessions => vec![self.sessions.load()],
            Screen::Integrations => vec![self.integrations.load()],
            Screen::Skills => vec![self.skills.load()],
            Screen::Mcp => vec![self.mcp.load()],
            Screen::Telemetry => self.telemetry.load(self.chat.session_id.as_deref()),
            // Seeing the tasks is seeing what their notifications said.
            Screen::Tasks => {
                let mut out = self.tasks.load();
                out.extend(self.notify.mark_read());
                out
            }
        }
    }

    /// Whether the focused widget takes plain characters as text.
    fn captures_text(&self) -> bool {
        match self.screen {
            Screen::Chat => self.chat.captures_text(),
            Screen::Sessions => self.sessions.captures_text(),
            _ => false,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.kind == KeyEventKind::Release {
            return vec![];
        }
        self.dirty = true;
        self.flash = None;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        // Keys that work everywhere.
        match key.code {
            KeyCode::Char('q') if ctrl => return self.run_effects(vec![Effect::Quit]),
            KeyCode::F(1) => return self.toggle_help(),
            _ => {}
        }
        if let Some(scroll) = self.help {
            match key.code {
                KeyCode::Esc | KeyCode::Char('?' | 'q') => self.help = None,
                KeyCode::Down | KeyCode::Char('j') => self.help = Some(scroll.saturating_add(1)),
                KeyCode::Up | KeyCode::Char('k') => self.help = Some(scroll.saturating_sub(1)),
                KeyCode::PageDown => self.help = Some(scroll.saturating_add(10)),
                KeyCode::PageUp => self.help = Some(scroll.saturating_sub(10)),
                _ => {}
            }
            return vec![];
        }
        if self.error_detail.is_some() {
            match key.code {
                KeyCode::Esc | KeyCode::Enter => self.error_detail = None,
                KeyCode::Char('c') if ctrl => return self.run_effects(vec![Effect::Quit]),
                _ => {}
            }
            return vec![];
        }
        if self.error_panel_open() {
            return match key.code {
                KeyCode::Char('r') => vec![Action::Retry],
                KeyCode::Char('q') => self.run_effects(vec![Effect::Quit]),
                KeyCode::Char('c') if ctrl => self.run_effects(vec![Effect::Quit]),
                KeyCode::Esc => {
                    self.error_hidden = true;
                    vec![]
                }
                _ => vec![],
            };
        }
        if self.setup.is_some() {
            return self.setup_key(key);
        }
        match key.code {
            KeyCode::Tab => return self.show(self.screen.offset(1)),
            KeyCode::BackTab => return self.show(self.screen.offset(-1)),
            KeyCode::Char(c) if alt => {
                if let Some(s) = Screen::from_digit(c) {
                    return self.show(s);
                }
            }
            _ => {}
        }
        let handled = match self.screen {
            Screen::Chat => self.chat.handle_key(key),
            Screen::Sessions => self.sessions.handle_key(key),
            Screen::Integrations => self.integrations.handle_key(key),
            Screen::Skills => self.skills.handle_key(key),
            Screen::Mcp => self.mcp.handle_key(key),
            Screen::Telemetry => self
                .telemetry
                .handle_key(key, self.chat.session_id.as_deref()),
            Screen::Tasks => self.tasks.handle_key(key),
        };
        if let Some(effects) = handled {
            return self.run_effects(effects);
        }
        if self.captures_text() && !matches!(key.code, KeyCode::Char('?')) {
            return vec![];
        }
        match key.code {
            KeyCode::Char('?') => self.toggle_help(),
            KeyCode::Char('q') if !ctrl => self.run_effects(vec![Effect::Quit]),
            KeyCode::Char('c') if ctrl => self.run_effects(vec![Effect::Quit]),
            KeyCode::Char(c) if !ctrl => match Screen::from_digit(c) {
                Some(s) => self.show(s),
                None => vec![],
            },
            _ => vec![],
        }
    }

    fn toggle_help(&mut self) -> Vec<Action> {
        self.help = match self.help {
            Some(_) => None,
            None => Some(0),
        };
        vec![]
    }

    fn run_effects(&mut self, effects: Vec<Effect>) -> Vec<Action> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                Effect::Do(a) => out.push(a),
                Effect::Help => self.help = Some(0),
                Effect::Quit => self.quit = true,
                Effect::Show(s) => out.extend(self.show(s)),
                Effect::Flash(text) => self.flash(text, false),
                Effect::OpenSetup => out.extend(self.open_setup(false)),
                Effect::MarkRead => out.extend(self.notify.mark_read()),
            }
        }
        out
    }
}

#[path = "state_tasks.rs"]
mod tasks_state;

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
