//! Styles used by every screen. [`Theme::plain`] has no colors at all (for `NO_COLOR`); it marks
//! emphasis and selection with modifiers only.

use ratatui::style::{Color, Modifier, Style};

/// The styles the screens draw with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    pub base: Style,
    pub dim: Style,
    pub accent: Style,
    pub title: Style,
    pub selected: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub user: Style,
    pub bar: Style,
    pub colored: bool,
}

impl Theme {
    pub fn color() -> Self {
        Theme {
            base: Style::new(),
            dim: Style::new().fg(Color::DarkGray),
            accent: Style::new().fg(Color::Cyan),
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            selected: Style::new().bg(Color::Blue).fg(Color::White),
            ok: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            error: Style::new().fg(Color::Red),
            user: Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            bar: Style::new().fg(Color::Cyan),
            colored: true,
        }
    }

    pub fn plain() -> Self {
        let none = Style::new();
        Theme {
            base: none,
            dim: none,
            accent: none,
            title: none.add_modifier(Modifier::BOLD),
            selected: none.add_modifier(Modifier::REVERSED),
            ok: none,
            warn: none.add_modifier(Modifier::BOLD),
            error: none.add_modifier(Modifier::BOLD),
            user: none.add_modifier(Modifier::BOLD),
            bar: none,
            colored: false,
        }
    }

    /// The plain theme when `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Self {
        Self::for_no_color(std::env::var_os("NO_COLOR").as_deref())
    }

    /// Picks the theme for a given `NO_COLOR` value.
    pub fn for_no_color(value: Option<&std::ffi::OsStr>) -> Self {
        match value {
            Some(v) if !v.is_empty() => Self::plain(),
            _ => Self::color(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_picks_the_plain_theme() {
        assert!(!Theme::for_no_color(Some(OsStr::new("1"))).colored);
        assert!(Theme::for_no_color(Some(OsStr::new(""))).colored);
        assert!(Theme::for_no_color(None).colored);
    }

    #[test]
    fn plain_theme_has_no_colors() {
        let t = Theme::plain();
        for s in [
            t.base, t.dim, t.accent, t.title, t.selected, t.ok, t.warn, t.error, t.user, t.bar,
        ] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
    }
}
