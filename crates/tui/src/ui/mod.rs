//! Drawing the whole UI from [`AppState`]: tab bar, the current screen, status bar, overlays.

mod error_detail;
mod error_panel;
pub mod help;
pub mod wrap;

use crate::api::ConnectionState;
use crate::screens::{self, compact, ellipsize, money};
use crate::state::{AppState, Screen};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Tabs;

/// Draws one frame.
pub fn draw(frame: &mut Frame, state: &AppState, theme: &Theme) {
    let area = frame.area();
    if area.width < 20 || area.height < 6 {
        frame.render_widget(Line::from("Pryx: window too small"), area);
        return;
    }
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(frame, tabs, state, theme);
    match (&state.setup, state.screen) {
        (Some(setup), _) => screens::setup::render(frame, body, setup, theme),
        (None, Screen::Chat) => screens::chat::render(frame, body, &state.chat, theme),
        (None, Screen::Sessions) => screens::sessions::render(frame, body, &state.sessions, theme),
        (None, Screen::Integrations) => {
            screens::integrations::render(frame, body, &state.integrations, theme)
        }
        (None, Screen::Skills) => screens::skills::render(frame, body, &state.skills, theme),
        (None, Screen::Mcp) => screens::mcp::render(frame, body, &state.mcp, theme),
        (None, Screen::Telemetry) => {
            screens::telemetry::render(frame, body, &state.telemetry, theme)
        }
        (None, Screen::Tasks) => {
            screens::tasks::render(frame, body, &state.tasks, state.notify.unread, theme)
        }
    }
    render_status(frame, status, state, theme);
    if state.error_panel_open() {
        error_panel::render(frame, body, &state.connection, theme);
    }
    if let Some(error) = &state.error_detail {
        error_detail::render(frame, body, error, theme);
    }
    if let Some(scroll) = state.help {
        let on = (state.screen, state.setup.is_some());
        help::render(frame, body, on, scroll, theme);
    }
}

fn render_tabs(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let titles = Screen::ALL.iter().enumerate().map(|(i, s)| {
        let badge = if *s == Screen::Chat && !state.chat.approvals.is_empty() {
            "!"
        } else {
            ""
        };
        Line::from(format!("{} {}{badge}", i + 1, s.title()))
    });
    let selected = Screen::ALL
        .iter()
        .position(|s| *s == state.screen)
        .unwrap_or(0);
    let tabs = Tabs::new(titles)
        .select(selected)
        .style(theme.dim)
        .highlight_style(theme.selected)
        // Seven tabs fit 80 columns only without padding around each title.
        .divider(" │ ")
        .padding("", "");
    frame.render_widget(tabs, area);
}

fn render_status(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let (dot, dot_style) = match &state.connection {
        ConnectionState::Connected => ("●", theme.ok),
        ConnectionState::Connecting => ("○ connecting", theme.warn),
        ConnectionState::Down { .. } => ("✗ core down", theme.error),
    };
    let chat = &state.chat;
    let right = format!(
        " {} in · {} out · {} · ? help ",
        compact(chat.tokens_in),
        compact(chat.tokens_out),
        money(chat.cost_usd)
    );
    // The bell: task notifications nobody has looked at (the Tasks screen marks them read).
    let bell = match state.notify.unread {
        0 => String::new(),
        n => format!(" ✉ {n} unread ·"),
    };
    // How full the model's context is: warned from the threshold on.
    let (gauge, gauge_style) = match chat.context {
        Some(g) if g.percent >= f64::from(g.warn_at) => {
            (format!(" ctx {:.0}% ·", g.percent), theme.warn)
        }
        Some(g) => (format!(" ctx {:.0}% ·", g.percent), theme.dim),
        None => (String::new(), theme.dim),
    };
    let right_w = right.chars().count() + bell.chars().count() + gauge.chars().count();
    let left_w = usize::from(area.width).saturating_sub(right_w + 1);
    let text_w = left_w.saturating_sub(dot.chars().count() + 1);
    let mut left = vec![Span::styled(dot, dot_style), Span::raw(" ")];
    if let Some(f) = &state.flash {
        let style = if f.error { theme.error } else { theme.ok };
        left.push(Span::styled(ellipsize(&f.text, text_w), style));
    } else if let Some(t) = &state.notify.toast {
        let style = if t.failed { theme.error } else { theme.ok };
        left.push(Span::styled(
            ellipsize(&format!("✉ {}", t.text), text_w),
            style,
        ));
    } else {
        let mut info = chat
            .title
            .clone()
            .unwrap_or_else(|| "new session".to_string());
        if let Some(m) = &chat.model {
            info.push_str(&format!(" · {m}"));
        }
        if let Some(p) = &state.policy {
            info.push_str(&format!(" · policy {p}"));
        }
        let waiting = chat.approvals.len();
        if waiting > 0 && state.screen != Screen::Chat {
            info = format!("{waiting} approval(s) waiting: press Alt-1 · {info}");
        }
        let style = if waiting > 0 && state.screen != Screen::Chat {
            theme.warn
        } else {
            theme.dim
        };
        left.push(Span::styled(
            ellipsize(&info, left_w.saturating_sub(dot.chars().count() + 1)),
            style,
        ));
    }
    let [l, r] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(u16::try_from(right_w).unwrap_or(u16::MAX)),
    ])
    .areas(area);
    frame.render_widget(Line::from(left), l);
    frame.render_widget(
        Line::from(vec![
            Span::styled(bell, theme.warn),
            Span::styled(gauge, gauge_style),
            Span::styled(right, theme.dim),
        ]),
        r,
    );
}

/// A `w`×`h` rectangle centred in `area` (clipped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
