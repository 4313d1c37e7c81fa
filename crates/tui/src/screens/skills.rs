//! The Skills screen: every skill, whether it can run here, enable/disable, details.

use super::{ellipsize, navigate, render_empty};
use crate::action::Action;
use crate::model::SkillView;
use crate::safe_text::escape;
use crate::state::Effect;
use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

#[derive(Debug, Default)]
pub struct SkillsState {
    pub skills: Vec<SkillView>,
    pub selected: usize,
    /// The details pane is open.
    pub info: bool,
    pub loading: bool,
}

impl SkillsState {
    pub fn load(&mut self) -> Action {
        self.loading = true;
        Action::LoadSkills
    }

    pub fn on_list(&mut self, skills: Vec<SkillView>) {
        self.loading = false;
        self.skills = skills;
        self.selected = self.selected.min(self.skills.len().saturating_sub(1));
    }

    pub fn on_toggled(&mut self, name: &str, enabled: bool) {
        if let Some(s) = self.skills.iter_mut().find(|s| s.name == name) {
            s.enabled = enabled;
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if navigate(&mut self.selected, self.skills.len(), &key) {
            return Some(vec![]);
        }
        let current = self.skills.get(self.selected);
        match key.code {
            KeyCode::Char('r') => Some(vec![Effect::Do(self.load())]),
            KeyCode::Enter | KeyCode::Char('i') => {
                self.info = !self.info;
                Some(vec![])
            }
            KeyCode::Char(' ' | 'e') => Some(match current {
                Some(s) => vec![Effect::Do(Action::ToggleSkill {
                    name: s.name.clone(),
                    enabled: !s.enabled,
                })],
                None => vec![],
            }),
            KeyCode::Esc if self.info => {
                self.info = false;
                Some(vec![])
            }
            _ => None,
        }
    }
}

fn eligibility(s: &SkillView) -> String {
    if s.eligible {
        "✓ eligible".to_string()
    } else {
        ellipsize(&format!("✗ needs {}", s.missing.join(", ")), 26)
    }
}

pub fn render(frame: &mut Frame, area: Rect, st: &SkillsState, theme: &Theme) {
    if st.skills.is_empty() {
        let msg = if st.loading {
            "Loading…"
        } else {
            "No skills found. Add SKILL.md folders to the skills directory; r refresh."
        };
        render_empty(frame, area, vec![Line::from(msg)], theme);
        return;
    }
    let (list, info) = if st.info {
        let [l, i] = Layout::vertical([Constraint::Min(3), Constraint::Length(8)]).areas(area);
        (l, Some(i))
    } else {
        (area, None)
    };
    let [list, keys] = Layout::vertical([Constraint::Min(2), Constraint::Length(1)]).areas(list);
    let rows = st.skills.iter().map(|s| {
        let (mark, style) = if s.enabled {
            ("on ", theme.ok)
        } else {
            ("off", theme.dim)
        };
        let elig_style = if s.eligible { theme.ok } else { theme.warn };
        Row::new(vec![
            Cell::from(ellipsize(&s.name, 24)),
            Cell::from(mark).style(style),
            Cell::from(eligibility(s)).style(elig_style),
            Cell::from(escape(&s.description).into_owned()),
        ])
    });
    let widths = [
        Constraint::Length(20),
        Constraint::Length(4),
        Constraint::Length(22),
        Constraint::Min(10),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["Skill", "On", "Eligibility", "Description"]).style(theme.title))
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ");
    let mut ts = TableState::default().with_selected(Some(st.selected));
    frame.render_stateful_widget(table, list, &mut ts);
    frame.render_widget(
        Line::styled("Space enable/disable · i info · r refresh", theme.dim),
        keys,
    );

    if let (Some(area), Some(s)) = (info, st.skills.get(st.selected)) {
        let missing = if s.missing.is_empty() {
            "none".to_string()
        } else {
            s.missing.join(", ")
        };
        let lines = vec![
            Line::from(escape(&s.description).into_owned()),
            Line::from(vec![
                Span::styled("source   ", theme.dim),
                Span::raw(escape(&s.source).into_owned()),
            ]),
            Line::from(vec![
                Span::styled("enabled  ", theme.dim),
                Span::raw(if s.enabled { "yes" } else { "no" }),
            ]),
            Line::from(vec![
                Span::styled("missing  ", theme.dim),
                Span::raw(missing),
            ]),
        ];
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} ", escape(&s.name)))
            .border_style(theme.dim);
        frame.render_widget(
            Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
            area,
        );
    }
}
