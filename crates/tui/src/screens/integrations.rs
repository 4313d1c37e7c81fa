//! The Integrations screen: channel status (Telegram, Discord, Slack, webhook).

use super::{navigate, render_empty};
use crate::action::Action;
use crate::model::ChannelView;
use crate::state::Effect;
use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table, TableState};

#[derive(Debug, Default)]
pub struct IntegrationsState {
    pub channels: Vec<ChannelView>,
    pub selected: usize,
    pub loading: bool,
}

impl IntegrationsState {
    pub fn load(&mut self) -> Action {
        self.loading = true;
        Action::LoadChannels
    }

    pub fn on_list(&mut self, channels: Vec<ChannelView>) {
        self.loading = false;
        self.channels = channels;
        self.selected = self.selected.min(self.channels.len().saturating_sub(1));
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if navigate(&mut self.selected, self.channels.len(), &key) {
            return Some(vec![]);
        }
        match key.code {
            KeyCode::Char('r') => Some(vec![Effect::Do(self.load())]),
            _ => None,
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, st: &IntegrationsState, theme: &Theme) {
    if st.channels.is_empty() {
        let lines = if st.loading {
            vec![Line::from("Loading…")]
        } else {
            vec![
                Line::from("No channels connected."),
                Line::default(),
                Line::from(
                    "Channels let you talk to Pryx from Telegram, Discord, Slack or a webhook.",
                ),
                Line::from(
                    "Connect one from the web UI (pryx serve) or the config file; it shows up here.",
                ),
                Line::default(),
                Line::from("r refresh"),
            ]
        };
        render_empty(frame, area, lines, theme);
        return;
    }
    let rows = st.channels.iter().map(|c| {
        let style = match c.status.as_str() {
            "connected" => theme.ok,
            "error" | "failed" => theme.error,
            _ => theme.warn,
        };
        Row::new(vec![
            Cell::from(c.name.clone()),
            Cell::from(c.kind.clone()),
            Cell::from(c.status.clone()).style(style),
            Cell::from(c.detail.clone().unwrap_or_default()),
        ])
    });
    let widths = [
        Constraint::Length(18),
        Constraint::Length(10),
        Constraint::Length(13),
        Constraint::Min(10),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["Channel", "Kind", "Status", "Detail"]).style(theme.title))
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ");
    let mut ts = TableState::default().with_selected(Some(st.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
