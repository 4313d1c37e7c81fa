//! Drawing the Integrations screen: the channel table, the selected channel's pane, the key line
//! and the pairing panel. Everything a channel reports can carry a stranger's words (a filtered
//! sender's name, a paired sender's display name, an error quoting a reply), so all of it is
//! escaped.

use super::{IntegrationsState, Pairing, REFRESH, state_name};
use crate::safe_text::escape;
use crate::screens::{ellipsize, render_empty};
use crate::theme::Theme;
use pryx_protocol::api::{ChannelState, ChannelView};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

/// Width of the labels in the channel pane.
const LABEL: usize = 14;

fn state_style(s: ChannelState, theme: &Theme) -> Style {
    match s {
        ChannelState::Connected => theme.ok,
        ChannelState::Starting | ChannelState::Degraded => theme.warn,
        ChannelState::Disconnected => theme.error,
        ChannelState::Paused => theme.dim,
    }
}

fn plain(s: &str) -> String {
    escape(s).into_owned()
}

pub fn render(frame: &mut Frame, area: Rect, st: &IntegrationsState, theme: &Theme) {
    if st.channels.is_empty() {
        render_empty(frame, area, empty_lines(st), theme);
        return;
    }
    let rows = u16::try_from(st.channels.len() + 1).unwrap_or(u16::MAX);
    let [list, pane, keys] = Layout::vertical([
        Constraint::Length(rows.clamp(2, (area.height / 2).max(2))),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    render_table(frame, list, st, theme);
    // The code takes the pane's place: the channel it is for stays selected above it.
    match (&st.pairing, st.current()) {
        (Some(p), _) => render_pairing(frame, pane, p, theme),
        (None, Some(c)) => render_pane(frame, pane, c, st.stale.as_deref(), theme),
        (None, None) => {}
    }
    let line = match st.pairing {
        Some(_) => "Esc / Enter close the pairing code".to_string(),
        None => key_line(st.current()),
    };
    frame.render_widget(Line::styled(line, theme.dim), keys);
}

fn empty_lines(st: &IntegrationsState) -> Vec<Line<'static>> {
    if !st.listed {
        return vec![Line::from("Loading…")];
    }
    let mut lines = vec![
        Line::from("No channels yet."),
        Line::default(),
        Line::from("Telegram bots and signed webhooks this core runs show up here, live."),
        Line::from("Add a Telegram bot from a terminal:  pryx channels add tg"),
        Line::from("(it asks for the bot token from @BotFather), then let someone in:"),
        Line::from("pryx channels pair tg  (or p here)"),
        Line::from("A webhook:  pryx channels add NAME --kind webhook"),
        Line::default(),
        Line::from(format!(
            "r refresh · refreshes by itself every {} s",
            REFRESH.as_secs()
        )),
    ];
    if let Some(e) = &st.stale {
        lines.push(Line::from(format!("Not refreshed: {}", plain(e))));
    }
    lines
}

fn render_table(frame: &mut Frame, area: Rect, st: &IntegrationsState, theme: &Theme) {
    let widths = [
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Length(18),
        Constraint::Length(12),
        Constraint::Min(10),
    ];
    // What the fixed columns, their gaps and the selection mark leave for the detail.
    let detail_w = usize::from(area.width).saturating_sub(12 + 8 + 18 + 12 + 4 + 2);
    let rows = st.channels.iter().map(|c| {
        let changing = st.changing.as_ref().filter(|(id, _)| *id == c.id);
        let (state, style) = match changing {
            Some((_, true)) => ("resuming…", theme.warn),
            Some((_, false)) => ("pausing…", theme.warn),
            None => (state_name(c.state), state_style(c.state, theme)),
        };
        Row::new(vec![
            Cell::from(ellipsize(&c.id, 12)),
            Cell::from(ellipsize(&c.kind, 8)),
            Cell::from(
                c.bot
                    .as_deref()
                    .map(|b| ellipsize(b, 18))
                    .unwrap_or_default(),
            ),
            Cell::from(state).style(style),
            Cell::from(ellipsize(&c.detail, detail_w.max(10))),
        ])
    });
    let table = Table::new(rows, widths)
        .header(Row::new(["Channel", "Kind", "Bot", "State", "Detail"]).style(theme.title))
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ");
    let mut ts = TableState::default().with_selected(Some(st.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}

fn field(label: &str, value: impl Into<String>, style: Style, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<LABEL$}"), theme.dim),
        Span::styled(value.into(), style),
    ])
}

fn render_pane(frame: &mut Frame, area: Rect, c: &ChannelView, stale: Option<&str>, theme: &Theme) {
    let mut lines = Vec::new();
    if let Some(e) = stale {
        lines.push(Line::styled(
            format!("Not refreshed: {}", plain(e)),
            theme.warn,
        ));
    }
    lines.push(Line::from(vec![
        Span::styled(format!("{:<LABEL$}", "state"), theme.dim),
        Span::styled(state_name(c.state), state_style(c.state, theme)),
        Span::raw(format!(" · {}", plain(&c.detail))),
    ]));
    lines.push(field("agent", plain(&c.agent), theme.base, theme));
    if let Some(m) = &c.mode {
        lines.push(field("mode", plain(m), theme.base, theme));
    }
    if let Some(p) = &c.dm_policy {
        lines.push(field("who may talk", plain(p), theme.base, theme));
    }
    let ok = c.last_ok_at.as_deref().map_or("never".to_string(), plain);
    lines.push(field("last success", ok, theme.base, theme));
    if let Some(e) = &c.last_error {
        lines.push(field("last error", plain(e), theme.error, theme));
    }
    if let Some(f) = &c.last_filtered {
        lines.push(field("last filtered", plain(f), theme.warn, theme));
    }
    let o = &c.outbox;
    let count = |n: u64, what: &str, bad: Style| {
        Span::styled(format!("{n} {what}"), if n > 0 { bad } else { theme.base })
    };
    lines.push(Line::from(vec![
        Span::styled(format!("{:<LABEL$}", "outbox"), theme.dim),
        count(o.queued, "queued", theme.base),
        Span::styled(" · ", theme.dim),
        count(o.sent, "sent", theme.base),
        Span::styled(" · ", theme.dim),
        count(o.failed, "failed", theme.error),
        Span::styled(" · ", theme.dim),
        count(o.maybe_duplicate, "possibly twice", theme.warn),
    ]));
    if c.kind == "telegram" {
        if c.paired.is_empty() {
            lines.push(field("paired", "nobody yet", theme.dim, theme));
        }
        for (i, p) in c.paired.iter().enumerate() {
            let label = if i == 0 { "paired" } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("{label:<LABEL$}"), theme.dim),
                Span::raw(format!("{} ({})", plain(&p.display), plain(&p.sender_id))),
                Span::styled(format!(" since {}", plain(&p.paired_at)), theme.dim),
            ]));
        }
    }
    let mut title = format!(" {} · {}", plain(&c.id), plain(&c.kind));
    if let Some(b) = &c.bot {
        title.push_str(&format!(" · {}", plain(b)));
    }
    title.push(' ');
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.dim)
        .title(Span::styled(title, theme.title));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The keys that work on the selected channel.
fn key_line(c: Option<&ChannelView>) -> String {
    let mut keys = vec!["↑↓ choose"];
    if let Some(c) = c {
        if c.kind == "telegram" {
            keys.push("p pairing code");
        }
        keys.push(if c.enabled {
            "Space pause"
        } else {
            "Space resume"
        });
    }
    keys.push("r refresh");
    format!(
        "{} (by itself every {} s)",
        keys.join(" · "),
        REFRESH.as_secs()
    )
}

/// Letters spaced out and bold: the code is read off the screen and typed on a phone.
fn spaced(code: &str) -> String {
    code.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

fn render_pairing(frame: &mut Frame, area: Rect, p: &Pairing, theme: &Theme) {
    let area = Rect {
        height: area.height.min(9),
        ..area
    };
    let (title, lines) = match p {
        Pairing::Waiting(id) => (
            format!(" Pairing code for {} ", plain(id)),
            vec![
                Line::default(),
                Line::styled("Making a pairing code…", theme.dim).centered(),
            ],
        ),
        Pairing::Code(code) => (
            format!(" Pairing code for {} ", plain(&code.channel)),
            vec![
                Line::default(),
                Line::styled(spaced(&plain(&code.code)), theme.title).centered(),
                Line::default(),
                Line::from(plain(&code.instructions)),
                Line::styled(format!("Expires {}.", plain(&code.expires_at)), theme.dim),
            ],
        ),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .title(Span::styled(title, theme.title))
        .title_bottom(" Esc / Enter close ");
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}
