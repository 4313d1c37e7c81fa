//! The help overlay: every key, grouped by where it works. This table is the one list of keys;
//! keep it in step with the handlers.

use crate::screens::chat::COMMANDS;
use crate::state::Screen;
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// `(section, keys, what they do)`.
pub const KEYMAP: &[(&str, &str, &str)] = &[
    ("Everywhere", "Tab / Shift-Tab", "next / previous screen"),
    ("Everywhere", "1–7", "go to a screen (outside text fields)"),
    (
        "Everywhere",
        "Alt-1–7",
        "go to a screen (also while typing)",
    ),
    ("Everywhere", "? / F1", "this help (? outside text fields)"),
    ("Everywhere", "q / Ctrl-Q", "quit (q outside text fields)"),
    ("Everywhere", "pryx dashboard", "web UI login link (shell)"),
    ("Chat", "Enter", "send the message or /command"),
    ("Chat", "Alt-Enter / Shift-Enter", "new line (also Ctrl-J)"),
    ("Chat", "Esc", "cancel the running turn"),
    ("Chat", "Ctrl-C", "cancel the turn / clear the input / quit"),
    ("Chat", "PgUp / PgDn / wheel", "scroll the transcript"),
    ("Chat", "Ctrl-O", "show / hide the last tool card's output"),
    ("Chat", "Alt-O", "show / hide every tool card's output"),
    ("Error", "Esc / Enter", "close the error panel"),
    (
        "Model picker",
        "↑ / ↓ / Enter",
        "choose the model (after /model)",
    ),
    ("Model picker", "Esc", "close without switching"),
    ("Approval", "y / o", "approve this call once"),
    ("Approval", "s", "approve for the rest of the session"),
    (
        "Approval",
        "a",
        "always: 30 days, this workspace and policy",
    ),
    ("Approval", "n / d", "deny"),
    ("Approval", "↑ / ↓", "scroll the preview"),
    (
        "Grants",
        "↑ / ↓",
        "select a standing approval (after /grants)",
    ),
    ("Grants", "d / Delete", "revoke it (then y to confirm)"),
    ("Grants", "r / Esc", "refresh / close"),
    (
        "Sessions",
        "/",
        "search every message as you type (Esc done)",
    ),
    ("Sessions", "↑ / ↓ / j / k", "select"),
    ("Sessions", "Enter", "resume in Chat"),
    ("Sessions", "e", "export (then m Markdown, j JSON)"),
    ("Sessions", "d / Delete", "delete (then y to confirm)"),
    ("Sessions", "r", "refresh"),
    (
        "Integrations",
        "↑ / ↓ / j / k",
        "select a channel (status refreshes every 3 s)",
    ),
    (
        "Integrations",
        "p",
        "pairing code: one new person may talk (bot)",
    ),
    ("Integrations", "Space", "pause / resume the channel"),
    ("Integrations", "Esc / Enter", "close the pairing code"),
    ("Integrations", "r", "refresh now"),
    ("Skills", "Space / e", "enable or disable"),
    ("Skills", "i / Enter", "show details"),
    ("Skills", "r", "refresh"),
    ("MCP", "t / Enter", "test the server's connection"),
    ("MCP", "r", "refresh"),
    ("Telemetry", "↑ / ↓", "select a span"),
    ("Telemetry", "r", "refresh export state and timeline"),
    ("Telemetry", "e", "export on (asks first) or off"),
    (
        "Tasks",
        "↑ / ↓ / j / k",
        "select a task (the list refreshes every 3 s)",
    ),
    ("Tasks", "Enter", "the task's run history (Esc back)"),
    ("Tasks", "Space", "pause / resume the task"),
    ("Tasks", "r", "run it now"),
    ("Tasks", "m", "mark the task notifications read"),
    (
        "Setup",
        "↑ / ↓ / Enter",
        "choose a provider, key source or model",
    ),
    (
        "Setup",
        "type / paste",
        "the key (only its length shows) or address",
    ),
    ("Setup", "Ctrl-U", "clear the field"),
    ("Setup", "r", "test the provider again / reload the models"),
    (
        "Setup",
        "Esc",
        "one step back; on the first step, skip setup",
    ),
    ("Core down", "r", "retry now"),
    ("Core down", "Esc", "hide the panel"),
    ("Help", "↑ / ↓ / PgUp / PgDn", "scroll; Esc or ? closes"),
];

fn section_of(screen: Screen) -> &'static str {
    match screen {
        Screen::Chat => "Chat",
        Screen::Sessions => "Sessions",
        Screen::Integrations => "Integrations",
        Screen::Skills => "Skills",
        Screen::Mcp => "MCP",
        Screen::Telemetry => "Telemetry",
        Screen::Tasks => "Tasks",
    }
}

/// The help text: global keys, then the current screen's (setup's while it is open), then the
/// rest, then slash commands.
pub fn lines(screen: Screen, setup: bool, theme: &Theme) -> Vec<Line<'static>> {
    let mut order: Vec<&str> = vec!["Everywhere"];
    if setup {
        order.push("Setup");
    }
    order.push(section_of(screen));
    if screen == Screen::Chat {
        order.extend(["Model picker", "Approval", "Grants"]);
    }
    for (s, _, _) in KEYMAP {
        if !order.contains(s) {
            order.push(s);
        }
    }
    let mut out = Vec::new();
    for section in order {
        out.push(Line::styled(section.to_string(), theme.title));
        for (_, keys, what) in KEYMAP.iter().filter(|(s, _, _)| *s == section) {
            out.push(Line::from(vec![
                Span::styled(format!("  {keys:<24} "), theme.accent),
                Span::raw(what.to_string()),
            ]));
        }
    }
    out.push(Line::styled("Chat commands", theme.title));
    for (cmd, what) in COMMANDS {
        out.push(Line::from(vec![
            Span::styled(format!("  {cmd:<24} "), theme.accent),
            Span::raw(what.to_string()),
        ]));
    }
    out
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    (screen, setup): (Screen, bool),
    scroll: u16,
    theme: &Theme,
) {
    let popup = super::centered(area, area.width.saturating_sub(2).min(76), area.height);
    frame.render_widget(Clear, popup);
    let lines = lines(screen, setup, theme);
    let max = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(popup.height.saturating_sub(2));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" Keys ", theme.title))
        .title_bottom(" ↑↓ scroll · Esc close ");
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(max), 0)),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval_keys::APPROVAL_KEYS;

    #[test]
    fn the_approval_rows_are_the_shared_keys() {
        let rows: Vec<&str> = KEYMAP
            .iter()
            .filter(|(s, _, _)| *s == "Approval")
            .map(|(_, keys, _)| *keys)
            .collect();
        for k in &APPROVAL_KEYS {
            let keys = std::iter::once(k.key)
                .chain(k.also.iter().copied())
                .map(String::from)
                .collect::<Vec<_>>()
                .join(" / ");
            assert!(rows.contains(&keys.as_str()), "{keys} not in {rows:?}");
        }
    }
}
