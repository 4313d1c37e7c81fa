//! The Integrations screen: the chat channels and webhooks the core hosts, with the status the
//! core judges from their real traffic, a pairing code for a new Telegram sender, and pause /
//! resume. Adding one needs a bot token, which belongs in a hidden terminal prompt
//! (`pryx channels add`), so the empty state points there instead of offering a form.

mod view;

pub use view::render;

use super::navigate;
use crate::action::{Action, LIST_CHANNELS, PAIR_CHANNEL, PAUSE_CHANNEL, RESUME_CHANNEL};
use crate::state::Effect;
use crossterm::event::{KeyCode, KeyEvent};
use pryx_protocol::api::{ChannelState, ChannelView, PairingCode};
use std::time::{Duration, Instant};

/// How long a shown status may be old while the screen is open: a bot whose polls start failing
/// turns degraded here within a few seconds, without a key press.
pub const REFRESH: Duration = Duration::from_secs(3);

/// The pairing panel over the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Pairing {
    /// Asked the core for a code for this channel.
    Waiting(String),
    Code(PairingCode),
}

#[derive(Debug, Default)]
pub struct IntegrationsState {
    pub channels: Vec<ChannelView>,
    pub selected: usize,
    /// A list request is out.
    pub loading: bool,
    /// The core answered a list request once: an empty list means none, not "not known yet".
    pub listed: bool,
    /// When the last list answer (or failure) came; the next refresh is due [`REFRESH`] later,
    /// so a core slow to answer is not asked faster than it answers.
    pub answered_at: Option<Instant>,
    /// The request out is a timed refresh: a failure of one shows on the screen, because a panel
    /// would pop up again every few seconds while the core is unwell.
    quiet: bool,
    /// Why the last timed refresh failed: what is shown is older than it looks.
    pub stale: Option<String>,
    pub pairing: Option<Pairing>,
    /// The channel being paused (`false`) or resumed (`true`).
    pub changing: Option<(String, bool)>,
}

/// The word for a state, as `pryx channels` and the web page say it.
pub fn state_name(s: ChannelState) -> &'static str {
    match s {
        ChannelState::Starting => "starting",
        ChannelState::Connected => "connected",
        ChannelState::Degraded => "degraded",
        ChannelState::Disconnected => "disconnected",
        ChannelState::Paused => "paused",
    }
}

impl IntegrationsState {
    /// Asks for the list because the user wants it (screen opened, `r`): a failure gets the
    /// error panel.
    pub fn load(&mut self) -> Action {
        self.loading = true;
        self.quiet = false;
        Action::LoadChannels
    }

    /// The timed refresh, when one is due at `now`.
    pub fn refresh_due(&mut self, now: Instant) -> Option<Action> {
        let due = self
            .answered_at
            .is_none_or(|t| now.saturating_duration_since(t) >= REFRESH);
        if self.loading || !due {
            return None;
        }
        self.loading = true;
        self.quiet = true;
        Some(Action::LoadChannels)
    }

    pub fn on_list(&mut self, channels: Vec<ChannelView>) {
        // The selection follows its channel when others come or go.
        let current = self.current().map(|c| c.id.clone());
        self.loading = false;
        self.listed = true;
        self.stale = None;
        self.answered_at = Some(Instant::now());
        self.channels = channels;
        if let Some(i) = current.and_then(|id| self.channels.iter().position(|c| c.id == id)) {
            self.selected = i;
        }
        self.selected = self.selected.min(self.channels.len().saturating_sub(1));
    }

    pub fn on_paired(&mut self, code: PairingCode) {
        self.pairing = Some(Pairing::Code(code));
    }

    /// A channel was paused or resumed; returns what to tell the user.
    pub fn on_changed(&mut self, view: ChannelView) -> String {
        if self.changing.as_ref().is_some_and(|(id, _)| *id == view.id) {
            self.changing = None;
        }
        let text = if view.enabled {
            format!("{} resumed.", view.id)
        } else {
            format!(
                "{} paused: it receives and sends nothing until resumed (Space).",
                view.id
            )
        };
        if let Some(c) = self.channels.iter_mut().find(|c| c.id == view.id) {
            *c = view;
        }
        text
    }

    /// A failed action of this screen. `true` when it is shown here and needs no panel (a
    /// failed timed refresh).
    pub fn on_failed(&mut self, what: &str, error: &str) -> bool {
        match what {
            LIST_CHANNELS => {
                self.loading = false;
                self.answered_at = Some(Instant::now());
                if self.quiet {
                    self.stale = Some(error.to_string());
                }
                self.quiet
            }
            PAIR_CHANNEL => {
                self.pairing = None;
                false
            }
            PAUSE_CHANNEL | RESUME_CHANNEL => {
                self.changing = None;
                false
            }
            _ => false,
        }
    }

    pub fn current(&self) -> Option<&ChannelView> {
        self.channels.get(self.selected)
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if self.pairing.is_some() {
            return match key.code {
                KeyCode::Esc | KeyCode::Enter => {
                    self.pairing = None;
                    Some(vec![])
                }
                _ => None,
            };
        }
        if navigate(&mut self.selected, self.channels.len(), &key) {
            return Some(vec![]);
        }
        match key.code {
            KeyCode::Char('r') => Some(vec![Effect::Do(self.load())]),
            KeyCode::Char('p') => Some(self.pair()),
            KeyCode::Char(' ') => Some(self.toggle()),
            _ => None,
        }
    }

    fn pair(&mut self) -> Vec<Effect> {
        let Some(c) = self.current() else {
            return vec![];
        };
        if c.kind != "telegram" {
            return vec![Effect::Flash(format!(
                "{} is a {}: only Telegram channels pair senders.",
                c.id, c.kind
            ))];
        }
        let id = c.id.clone();
        self.pairing = Some(Pairing::Waiting(id.clone()));
        vec![Effect::Do(Action::PairChannel { id })]
    }

    fn toggle(&mut self) -> Vec<Effect> {
        // One change at a time: a second Space before the answer would send the same change.
        if self.changing.is_some() {
            return vec![];
        }
        let Some(c) = self.current() else {
            return vec![];
        };
        let (id, enabled) = (c.id.clone(), !c.enabled);
        self.changing = Some((id.clone(), enabled));
        vec![Effect::Do(Action::SetChannelEnabled { id, enabled })]
    }
}

#[cfg(test)]
mod tests;
