//! The Sessions screen: past conversations, full-text search as you type, resume, export, delete.

use super::{compact, ellipsize, money, navigate, render_empty};
use crate::action::Action;
use crate::model::ExportFormat;
use crate::state::Effect;
use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pryx_protocol::api::SessionSummary;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

/// A question on top of the list.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    Delete { id: String, title: String },
    Export { id: String },
}

#[derive(Debug, Default)]
pub struct SessionsState {
    pub query: String,
    /// The search field has focus: characters go into the query.
    pub searching: bool,
    pub sessions: Vec<SessionSummary>,
    pub selected: usize,
    pub confirm: Option<Confirm>,
    /// Waiting for the results of `query`.
    pub loading: bool,
}

impl SessionsState {
    pub fn load(&mut self) -> Action {
        self.loading = true;
        Action::SearchSessions {
            query: self.query.clone(),
        }
    }

    pub fn captures_text(&self) -> bool {
        self.searching
    }

    /// Takes results only for the latest query, so a slow early search cannot win.
    pub fn on_results(&mut self, query: &str, sessions: Vec<SessionSummary>) {
        if query != self.query {
            return;
        }
        self.loading = false;
        self.sessions = sessions;
        self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
    }

    pub fn on_deleted(&mut self, id: &str) {
        self.sessions.retain(|s| s.id != id);
        self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
    }

    fn current(&self) -> Option<&SessionSummary> {
        self.sessions.get(self.selected)
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if let Some(c) = self.confirm.clone() {
            self.confirm = None;
            let effects = match (c, key.code) {
                (Confirm::Delete { id, .. }, KeyCode::Char('y')) => {
                    vec![Effect::Do(Action::DeleteSession { id })]
                }
                (Confirm::Export { id }, KeyCode::Char('m')) => {
                    vec![Effect::Do(Action::ExportSession {
                        id,
                        format: ExportFormat::Markdown,
                    })]
                }
                (Confirm::Export { id }, KeyCode::Char('j')) => {
                    vec![Effect::Do(Action::ExportSession {
                        id,
                        format: ExportFormat::Json,
                    })]
                }
                _ => vec![],
            };
            return Some(effects);
        }
        if self.searching {
            return self.search_key(key);
        }
        if navigate(&mut self.selected, self.sessions.len(), &key) {
            return Some(vec![]);
        }
        let current = self.current().cloned();
        match (key.code, current) {
            (KeyCode::Char('/'), _) => {
                self.searching = true;
                Some(vec![])
            }
            (KeyCode::Char('r'), _) => Some(vec![Effect::Do(self.load())]),
            (KeyCode::Enter, Some(s)) => Some(vec![Effect::Do(Action::ResumeSession { id: s.id })]),
            (KeyCode::Char('e'), Some(s)) => {
                self.confirm = Some(Confirm::Export { id: s.id });
                Some(vec![])
            }
            (KeyCode::Char('d') | KeyCode::Delete, Some(s)) => {
                self.confirm = Some(Confirm::Delete {
                    id: s.id,
                    title: s.title,
                });
                Some(vec![])
            }
            (KeyCode::Esc, _) if !self.query.is_empty() => {
                self.query.clear();
                Some(vec![Effect::Do(self.load())])
            }
            _ => None,
        }
    }

    fn search_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => self.searching = false,
            KeyCode::Enter => {
                self.searching = false;
                if let Some(s) = self.current() {
                    return Some(vec![Effect::Do(Action::ResumeSession { id: s.id.clone() })]);
                }
            }
            KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => {
                navigate(&mut self.selected, self.sessions.len(), &key);
            }
            KeyCode::Backspace if !self.query.is_empty() => {
                self.query.pop();
                return Some(vec![Effect::Do(self.load())]);
            }
            KeyCode::Char('u') if ctrl => {
                self.query.clear();
                return Some(vec![Effect::Do(self.load())]);
            }
            KeyCode::Char(c) if !ctrl => {
                self.query.push(c);
                self.selected = 0;
                return Some(vec![Effect::Do(self.load())]);
            }
            KeyCode::Tab | KeyCode::BackTab => return None,
            _ => {}
        }
        Some(vec![])
    }
}

/// `2026-01-27T12:34:56Z` → `2026-01-27 12:34`.
fn short_time(t: &str) -> String {
    t.chars().take(16).collect::<String>().replace('T', " ")
}

pub fn render(frame: &mut Frame, area: Rect, st: &SessionsState, theme: &Theme) {
    let [search, list, detail] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(2),
    ])
    .areas(area);
    let cursor = if st.searching { "▏" } else { "" };
    let hint = if st.searching {
        " Esc done "
    } else {
        " / search "
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Search ")
        .title_bottom(hint);
    let text = if st.query.is_empty() && !st.searching {
        Line::styled("press / and type to search every message", theme.dim)
    } else {
        Line::from(format!("{}{cursor}", st.query))
    };
    frame.render_widget(
        Paragraph::new(text).block(block.border_style(theme.dim)),
        search,
    );

    if st.sessions.is_empty() {
        let msg = if st.loading {
            "Loading…".to_string()
        } else if st.query.is_empty() {
            "No sessions yet. Start one on the Chat screen (1).".to_string()
        } else {
            format!("No session matches {:?}.", st.query)
        };
        render_empty(frame, list, vec![Line::from(msg)], theme);
    } else {
        let rows = st.sessions.iter().map(|s| {
            let tokens = compact(s.total_tokens_in + s.total_tokens_out);
            let busy = if s.busy { "● " } else { "" };
            Row::new(vec![
                Cell::from(format!("{busy}{}", ellipsize(&s.title, 60))),
                Cell::from(short_time(&s.updated_at)),
                Cell::from(tokens),
                Cell::from(money(s.total_cost_usd)),
            ])
        });
        let widths = [
            Constraint::Min(20),
            Constraint::Length(16),
            Constraint::Length(7),
            Constraint::Length(9),
        ];
        let table = Table::new(rows, widths)
            .header(Row::new(["Title", "Updated", "Tokens", "Cost"]).style(theme.title))
            .row_highlight_style(theme.selected)
            .highlight_symbol("› ");
        let mut ts = TableState::default().with_selected(Some(st.selected));
        frame.render_stateful_widget(table, list, &mut ts);
    }

    let keys = "Enter resume · e export · d delete · r refresh";
    let snippet = st.current().and_then(|s| s.snippet.clone());
    let lines = match snippet {
        Some(s) => vec![Line::from(s), Line::styled(keys, theme.dim)],
        None => vec![Line::default(), Line::styled(keys, theme.dim)],
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail);

    if let Some(c) = &st.confirm {
        let (title, body) = match c {
            Confirm::Delete { title, .. } => (
                " Delete session ",
                format!(
                    "Delete {:?}? This cannot be undone.\n\n[y] delete   any other key: keep",
                    ellipsize(title, 40)
                ),
            ),
            Confirm::Export { .. } => (
                " Export session ",
                "[m] Markdown   [j] JSON   any other key: cancel".to_string(),
            ),
        };
        let popup = crate::ui::centered(area, 56, 6);
        frame.render_widget(Clear, popup);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(title, theme.warn));
        frame.render_widget(
            Paragraph::new(body).block(block).wrap(Wrap { trim: false }),
            popup,
        );
    }
}
