//! Standing approvals (`/grants`): every grant a `session` or `always` answer left, with the
//! call it lets run without asking, where, under which policy and how often it was used; `d`
//! revokes the selected one after a `y`.

use super::{ellipsize, navigate};
use crate::action::Action;
use crate::safe_text::escape_exact;
use crate::state::Effect;
use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use pryx_protocol::api::{GrantScope, GrantView};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// The open overlay.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GrantsView {
    /// `None` until the core answered.
    pub grants: Option<Vec<GrantView>>,
    pub selected: usize,
    /// The grant a `d` asked to revoke, waiting for `y`.
    pub confirm: Option<String>,
}

/// What a key did to the overlay.
#[derive(Debug, PartialEq)]
pub enum GrantsKey {
    Stay(Vec<Effect>),
    Close,
    /// Not a key of the overlay (global keys).
    Ignored,
}

impl GrantsView {
    /// Opens the overlay and asks for the list.
    pub fn open() -> (GrantsView, Action) {
        (GrantsView::default(), Action::LoadGrants)
    }

    pub fn on_list(&mut self, grants: Vec<GrantView>) {
        self.selected = self.selected.min(grants.len().saturating_sub(1));
        self.grants = Some(grants);
    }

    pub fn on_revoked(&mut self, id: &str) {
        if let Some(list) = &mut self.grants {
            list.retain(|g| g.id != id);
            self.selected = self.selected.min(list.len().saturating_sub(1));
        }
    }

    fn current(&self) -> Option<&GrantView> {
        self.grants.as_ref()?.get(self.selected)
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> GrantsKey {
        if let Some(id) = self.confirm.take() {
            return GrantsKey::Stay(match key.code {
                KeyCode::Char('y') => vec![Effect::Do(Action::RevokeGrant { id })],
                _ => vec![],
            });
        }
        let len = self.grants.as_ref().map_or(0, Vec::len);
        if navigate(&mut self.selected, len, key) {
            return GrantsKey::Stay(vec![]);
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => GrantsKey::Close,
            KeyCode::Char('r') => GrantsKey::Stay(vec![Effect::Do(Action::LoadGrants)]),
            KeyCode::Char('d') | KeyCode::Delete => {
                self.confirm = self.current().map(|g| g.id.clone());
                GrantsKey::Stay(vec![])
            }
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Char('?') | KeyCode::F(_) => {
                GrantsKey::Ignored
            }
            _ => GrantsKey::Stay(vec![]),
        }
    }
}

/// The call a grant lets run, in one line: `$ command`, the path or URL, else the arguments.
fn call_line(args: &serde_json::Value) -> String {
    let get = |k: &str| args.get(k).and_then(serde_json::Value::as_str);
    let line = match (get("command"), get("path"), get("url")) {
        (Some(c), _, _) => format!("$ {c}"),
        (None, Some(p), _) => p.to_string(),
        (None, None, Some(u)) => format!("{} {u}", get("method").unwrap_or("GET")),
        (None, None, None) => args.to_string(),
    };
    escape_exact(&line).into_owned()
}

pub fn render(frame: &mut Frame, area: Rect, v: &GrantsView, theme: &Theme) {
    let popup = crate::ui::centered(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    );
    let keys = if v.confirm.is_some() {
        " y revoke it · any other key keeps it "
    } else {
        " ↑↓ choose · d revoke · r refresh · Esc close "
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .title(Span::styled(" Standing approvals ", theme.title))
        .title_bottom(keys);
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let Some(grants) = &v.grants else {
        frame.render_widget(Line::styled("Loading…", theme.dim), inner);
        return;
    };
    if grants.is_empty() {
        frame.render_widget(
            Paragraph::new(vec![
                Line::from("No standing approvals: every call the policy asks about is asked."),
                Line::styled(
                    "Answering s (session) or a (always) to an approval leaves one here.",
                    theme.dim,
                ),
            ])
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let [list, detail] = Layout::vertical([Constraint::Min(3), Constraint::Length(6)]).areas(inner);
    let width = usize::from(list.width);
    let mut lines = Vec::new();
    for (i, g) in grants.iter().enumerate() {
        let mark = if i == v.selected { "› " } else { "  " };
        let scope = match g.scope {
            GrantScope::Session => "session",
            GrantScope::Always => "always",
        };
        let state = if g.expired { " · expired" } else { "" };
        let style = if i == v.selected {
            theme.selected
        } else {
            theme.base
        };
        let head = format!("{mark}{} · {scope}{state} · ", escape_exact(&g.tool));
        let room = width.saturating_sub(head.chars().count());
        lines.push(Line::from(vec![
            Span::styled(head, style),
            Span::styled(ellipsize(&call_line(&g.arguments), room), style),
        ]));
    }
    let top = u16::try_from(
        v.selected
            .saturating_sub(usize::from(list.height).saturating_sub(1)),
    )
    .unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).scroll((top, 0)), list);

    let Some(g) = v.current() else { return };
    let mut info = vec![
        Line::from(vec![
            Span::styled("call: ", theme.dim),
            Span::styled(call_line(&g.arguments), theme.accent),
        ]),
        Line::from(vec![
            Span::styled("where: ", theme.dim),
            Span::raw(format!(
                "{} · policy {} ({}…)",
                escape_exact(&g.workspace),
                escape_exact(&g.policy),
                g.policy_hash.chars().take(12).collect::<String>()
            )),
        ]),
        Line::from(vec![
            Span::styled("held: ", theme.dim),
            Span::raw(match (&g.expires_at, &g.session_id) {
                (_, Some(s)) => format!("for session {}", ellipsize(s, 13)),
                (Some(e), None) => format!("until {e}"),
                (None, None) => "until revoked".to_string(),
            }),
            Span::styled(
                match &g.last_used_at {
                    Some(t) => format!(" · used {}×, last {t}", g.uses),
                    None => " · not used yet".to_string(),
                },
                theme.dim,
            ),
        ]),
    ];
    if v.confirm.is_some() {
        info.push(Line::styled(
            "Revoke this grant? The next identical call asks again. y / any key",
            theme.warn,
        ));
    }
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.dim);
    frame.render_widget(
        Paragraph::new(info).block(block).wrap(Wrap { trim: false }),
        detail,
    );
}
