//! The panel shown while the core is unreachable or its process keeps crashing.

use crate::api::ConnectionState;
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn render(frame: &mut Frame, area: Rect, conn: &ConnectionState, theme: &Theme) {
    let ConnectionState::Down {
        reason,
        failures,
        log_tail,
    } = conn
    else {
        return;
    };
    let popup = super::centered(
        area,
        area.width.saturating_sub(4).min(76),
        area.height.saturating_sub(2).min(18),
    );
    frame.render_widget(Clear, popup);
    let mut lines = vec![
        Line::styled(reason.clone(), theme.error),
        Line::styled(format!("{failures} failed attempt(s)."), theme.dim),
        Line::default(),
        Line::styled("Last log lines:", theme.title),
    ];
    let room = usize::from(popup.height.saturating_sub(7));
    if log_tail.is_empty() {
        lines.push(Line::styled("(no log output)", theme.dim));
    }
    let skip = log_tail.len().saturating_sub(room);
    lines.extend(
        log_tail
            .iter()
            .skip(skip)
            .map(|l| Line::styled(l.clone(), theme.dim)),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.error)
        .title(Span::styled(" The core is not running ", theme.error))
        .title_bottom(Line::from(vec![
            Span::styled(" r", theme.title),
            Span::raw(" retry  "),
            Span::styled("Esc", theme.title),
            Span::raw(" hide  "),
            Span::styled("q", theme.title),
            Span::raw(" quit "),
        ]));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}
