//! One module per screen: its state, its keys and its rendering.

pub mod chat;
pub mod grants;
pub mod integrations;
pub mod mcp;
pub mod model_pick;
pub mod sessions;
pub mod setup;
pub mod skills;
pub mod tasks;
pub mod telemetry;

use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// The seven screens, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Chat,
    Sessions,
    Integrations,
    Skills,
    Mcp,
    Telemetry,
    Tasks,
}

impl Screen {
    pub const ALL: [Screen; 7] = [
        Screen::Chat,
        Screen::Sessions,
        Screen::Integrations,
        Screen::Skills,
        Screen::Mcp,
        Screen::Telemetry,
        Screen::Tasks,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Chat => "Chat",
            Screen::Sessions => "Sessions",
            Screen::Integrations => "Integrations",
            Screen::Skills => "Skills",
            Screen::Mcp => "MCP",
            Screen::Telemetry => "Telemetry",
            Screen::Tasks => "Tasks",
        }
    }

    fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub(crate) fn offset(self, by: isize) -> Screen {
        let n = Screen::ALL.len() as isize;
        let i = (self.index() as isize + by).rem_euclid(n) as usize;
        Screen::ALL[i]
    }

    /// `'1'`..`'7'`.
    pub(crate) fn from_digit(c: char) -> Option<Screen> {
        let d = c.to_digit(10)? as usize;
        (1..=Screen::ALL.len())
            .contains(&d)
            .then(|| Screen::ALL[d - 1])
    }
}

/// Moves a list selection with the usual keys; `true` when the key was a navigation key.
pub fn navigate(selected: &mut usize, len: usize, key: &KeyEvent) -> bool {
    let last = len.saturating_sub(1);
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => *selected = selected.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => *selected = (*selected + 1).min(last),
        KeyCode::PageUp => *selected = selected.saturating_sub(10),
        KeyCode::PageDown => *selected = (*selected + 10).min(last),
        KeyCode::Home | KeyCode::Char('g') => *selected = 0,
        KeyCode::End | KeyCode::Char('G') => *selected = last,
        _ => return false,
    }
    true
}

/// A centred message for empty or loading lists.
pub fn render_empty(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>, theme: &Theme) {
    let top = area.height.saturating_sub(lines.len() as u16) / 2;
    let area = Rect {
        y: area.y + top,
        height: area.height.saturating_sub(top),
        ..area
    };
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.dim)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// Cuts `s` to `max` characters, marking the cut with `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    let s = crate::safe_text::escape(s);
    if s.chars().count() <= max {
        return s.into_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `1234` → `1.2k`, `2500000` → `2.5M`.
pub fn compact(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// Dollars with enough digits for cheap turns.
pub fn money(usd: f64) -> String {
    if usd >= 1.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    #[test]
    fn navigation_stays_in_bounds() {
        let mut s = 0;
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert!(navigate(&mut s, 3, &k(KeyCode::Up)));
        assert_eq!(s, 0);
        navigate(&mut s, 3, &k(KeyCode::PageDown));
        assert_eq!(s, 2);
        navigate(&mut s, 0, &k(KeyCode::Down));
        assert_eq!(s, 0);
        assert!(!navigate(&mut s, 3, &k(KeyCode::Char('x'))));
    }

    #[test]
    fn formats() {
        assert_eq!(compact(999), "999");
        assert_eq!(compact(1234), "1.2k");
        assert_eq!(compact(2_500_000), "2.5M");
        assert_eq!(money(0.01234), "$0.0123");
        assert_eq!(money(12.5), "$12.50");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("abc", 4), "abc");
    }
}
