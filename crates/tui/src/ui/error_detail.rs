//! The panel that shows a failed action's error whole (the status bar has room for its start
//! only); Esc or Enter closes it.

use crate::safe_text::escape;
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Wrap};

pub fn render(frame: &mut Frame, area: Rect, error: &str, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(76);
    let text = escape(error).into_owned();
    let lines: Vec<Line<'static>> = text
        .split('\n')
        .map(|l| Line::styled(l.to_string(), theme.error))
        .collect();
    let rows = Paragraph::new(lines.clone())
        .wrap(Wrap { trim: false })
        .line_count(width.saturating_sub(4));
    let height = u16::try_from(rows)
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(area.height);
    let popup = super::centered(area, width, height);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.error)
        .padding(Padding::horizontal(1))
        .title(Span::styled(" Error ", theme.error))
        .title_bottom(Line::from(vec![
            Span::styled(" Esc", theme.title),
            Span::raw(" close "),
        ]));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}
