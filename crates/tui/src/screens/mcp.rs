//! The MCP screen: configured servers, their health and tools, and a connection test.

use super::{ellipsize, navigate, render_empty};
use crate::action::Action;
use crate::model::{McpServerView, McpTestReport};
use crate::safe_text::escape;
use crate::state::Effect;
use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

#[derive(Debug, Default)]
pub struct McpState {
    pub servers: Vec<McpServerView>,
    pub selected: usize,
    pub loading: bool,
    /// The server being tested right now.
    pub testing: Option<String>,
    pub last_test: Option<McpTestReport>,
}

impl McpState {
    pub fn load(&mut self) -> Action {
        self.loading = true;
        Action::LoadMcpServers
    }

    pub fn on_list(&mut self, servers: Vec<McpServerView>) {
        self.loading = false;
        self.servers = servers;
        self.selected = self.selected.min(self.servers.len().saturating_sub(1));
    }

    pub fn on_tested(&mut self, r: McpTestReport) {
        if self.testing.as_deref() == Some(r.name.as_str()) {
            self.testing = None;
        }
        self.last_test = Some(r);
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if navigate(&mut self.selected, self.servers.len(), &key) {
            return Some(vec![]);
        }
        match key.code {
            KeyCode::Char('r') => Some(vec![Effect::Do(self.load())]),
            KeyCode::Char('t') | KeyCode::Enter => {
                let Some(s) = self.servers.get(self.selected) else {
                    return Some(vec![]);
                };
                self.testing = Some(s.name.clone());
                Some(vec![Effect::Do(Action::TestMcpServer {
                    name: s.name.clone(),
                })])
            }
            _ => None,
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, st: &McpState, theme: &Theme) {
    if st.servers.is_empty() {
        let lines = if st.loading {
            vec![Line::from("Loading…")]
        } else {
            vec![
                Line::from("No MCP servers configured."),
                Line::from("Add one with: pryx mcp add <name> --cmd <command>  (or --url <url>)"),
                Line::from("r refresh"),
            ]
        };
        render_empty(frame, area, lines, theme);
        return;
    }
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let [list, keys] = Layout::vertical([Constraint::Min(2), Constraint::Length(1)]).areas(left);
    let rows = st.servers.iter().map(|s| {
        let style = match s.status.as_str() {
            "connected" => theme.ok,
            "failed" | "error" => theme.error,
            _ => theme.warn,
        };
        let status = if st.testing.as_deref() == Some(s.name.as_str()) {
            "testing…".to_string()
        } else {
            s.status.clone()
        };
        Row::new(vec![
            Cell::from(ellipsize(&s.name, 18)),
            Cell::from(s.transport.clone()),
            Cell::from(status).style(style),
            Cell::from(s.tools.len().to_string()),
        ])
    });
    let widths = [
        Constraint::Min(10),
        Constraint::Length(6),
        Constraint::Length(10),
        Constraint::Length(5),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["Server", "Via", "Status", "Tools"]).style(theme.title))
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ");
    let mut ts = TableState::default().with_selected(Some(st.selected));
    frame.render_stateful_widget(table, list, &mut ts);
    frame.render_widget(Line::styled("t test · r refresh", theme.dim), keys);

    let Some(s) = st.servers.get(st.selected) else {
        return;
    };
    let mut lines = Vec::new();
    if let Some(e) = &s.error {
        lines.push(Line::styled(format!("error: {e}"), theme.error));
    }
    if let Some(r) = st.last_test.as_ref().filter(|r| r.name == s.name) {
        let (mark, style) = if r.ok {
            ("✓", theme.ok)
        } else {
            ("✗", theme.error)
        };
        lines.push(Line::styled(
            format!(
                "{mark} test: {} ({} tools, {} ms)",
                r.message, r.tool_count, r.latency_ms
            ),
            style,
        ));
    }
    if s.tools.is_empty() {
        lines.push(Line::styled("no tools", theme.dim));
    }
    for t in &s.tools {
        lines.push(Line::from(vec![
            Span::styled(escape(&t.name).into_owned(), theme.accent),
            Span::styled(format!("  {}", escape(&t.description)), theme.dim),
        ]));
    }
    let block = Block::default()
        .borders(Borders::LEFT)
        .title(format!(" {} tools ", escape(&s.name)))
        .border_style(theme.dim);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        right,
    );
}
