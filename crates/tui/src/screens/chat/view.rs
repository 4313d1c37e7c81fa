//! Drawing the Chat screen from its state.

use super::{ChatState, Entry, Level, ToolCard, ToolStatus};
use crate::approval_keys;
use crate::safe_text::{escape, escape_exact, has_controls, has_controls_exact};
use crate::screens::ellipsize;
use crate::screens::model_pick::ModelPicker;
use crate::theme::Theme;
use crate::ui::wrap::wrap;
use pryx_protocol::api::PendingApproval;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

pub fn render(frame: &mut Frame, area: Rect, chat: &ChatState, theme: &Theme) {
    let bottom = if chat.approvals.is_empty() {
        let lines = u16::try_from(chat.input.lines().len()).unwrap_or(u16::MAX);
        lines.clamp(1, 5) + 1
    } else {
        approval_height(chat, area, theme)
    };
    let [transcript, bottom_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(bottom)]).areas(area);
    render_transcript(frame, transcript, chat, theme);
    if chat.approvals.is_empty() {
        frame.render_widget(&chat.input, bottom_area);
    } else {
        render_approval(frame, bottom_area, chat, theme);
    }
    if let Some(p) = &chat.picker {
        render_picker(frame, area, p, chat.session_id.is_some(), theme);
    }
    if let Some(g) = &chat.grants {
        crate::screens::grants::render(frame, area, g, theme);
    }
}

/// The `/model` picker over the transcript.
fn render_picker(frame: &mut Frame, area: Rect, p: &ModelPicker, session: bool, theme: &Theme) {
    let rows = u16::try_from(p.models.len()).unwrap_or(u16::MAX);
    let popup = crate::ui::centered(
        area,
        area.width.saturating_sub(2).min(76),
        rows.saturating_add(3).min(area.height),
    );
    let title = if session {
        " Model for this session "
    } else {
        " Default model for new sessions "
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .title(Span::styled(title, theme.title))
        .title_bottom(" ↑↓ choose · Enter switch · Esc close ");
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    p.render(frame, inner, theme);
}

fn approval_height(chat: &ChatState, area: Rect, theme: &Theme) -> u16 {
    let rows = chat.approvals.first().map_or(1, |a| {
        approval_rows(&approval_lines(a, theme), area.width.saturating_sub(2))
    });
    // The rows, two borders, and a blank row.
    let want = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(3);
    want.min(area.height.saturating_sub(3) / 2 + 3)
        .max(5)
        .min(area.height)
}

/// How many rows the card's lines take once wrapped to `width` columns.
fn approval_rows(lines: &[Line<'static>], width: u16) -> usize {
    Paragraph::new(lines.to_vec())
        .wrap(Wrap { trim: false })
        .line_count(width)
}

/// The transcript as display lines of at most `width` columns.
pub fn transcript_lines(chat: &ChatState, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let w = usize::from(width.max(4));
    let mut out: Vec<Line<'static>> = Vec::new();
    let last_card = chat
        .entries
        .iter()
        .rposition(|e| matches!(e, Entry::Tool(_)));
    for (i, e) in chat.entries.iter().enumerate() {
        match e {
            Entry::User { text, confirmed } => {
                let style = if *confirmed {
                    theme.user
                } else {
                    theme.user.patch(theme.dim)
                };
                push_prefixed(&mut out, "› ", &escape(text), w, style, style);
                mark_controls(&mut out, text, theme);
            }
            Entry::Assistant { text, streaming } => {
                let cursor = if *streaming { "▍" } else { "" };
                push_prefixed(
                    &mut out,
                    "  ",
                    &format!("{}{cursor}", escape(text)),
                    w,
                    theme.accent,
                    theme.base,
                );
                mark_controls(&mut out, text, theme);
            }
            Entry::Tool(card) => push_card(&mut out, card, Some(i) == last_card, w, theme),
            Entry::Notice { text, level } => {
                let style = if *level == Level::Error {
                    theme.error
                } else {
                    theme.dim
                };
                push_prefixed(&mut out, "· ", &escape(text), w, style, style);
                mark_controls(&mut out, text, theme);
            }
        }
        out.push(Line::default());
    }
    if chat.turn_running
        && !matches!(
            chat.entries.last(),
            Some(Entry::Assistant {
                streaming: true,
                ..
            })
        )
    {
        let s = SPINNER[chat.spinner % SPINNER.len()];
        out.push(Line::styled(
            format!("  {s} working… (Esc to cancel)"),
            theme.dim,
        ));
    }
    out
}

/// Under a message that held terminal control characters: a note that they are shown escaped.
fn mark_controls(out: &mut Vec<Line<'static>>, text: &str, theme: &Theme) {
    if has_controls(text) {
        out.push(Line::styled(
            "  ⚠ held terminal control characters, shown escaped (␛, ‹U+…›)",
            theme.warn,
        ));
    }
}

fn push_prefixed(
    out: &mut Vec<Line<'static>>,
    prefix: &str,
    text: &str,
    w: usize,
    ps: Style,
    ts: Style,
) {
    let body = w.saturating_sub(prefix.chars().count()).max(1);
    for (i, l) in wrap(text, body).into_iter().enumerate() {
        let p = if i == 0 {
            prefix.to_string()
        } else {
            " ".repeat(prefix.chars().count())
        };
        out.push(Line::from(vec![Span::styled(p, ps), Span::styled(l, ts)]));
    }
}

/// `last`: the card Ctrl-O opens, which says so while it is closed and has output.
fn push_card(out: &mut Vec<Line<'static>>, c: &ToolCard, last: bool, w: usize, theme: &Theme) {
    let (mark, style) = match c.status {
        ToolStatus::Requested => ("…", theme.dim),
        ToolStatus::AwaitingApproval => ("?", theme.warn),
        ToolStatus::Running => ("◐", theme.accent),
        ToolStatus::Done => ("✓", theme.ok),
        ToolStatus::Failed => ("✗", theme.error),
        ToolStatus::Denied => ("⊘", theme.error),
        ToolStatus::Cancelled => ("⊘", theme.warn),
    };
    let dur = c
        .duration_ms
        .map(|d| format!(" · {d} ms"))
        .unwrap_or_default();
    let mut header = vec![
        Span::styled("  ╭ ", theme.dim),
        Span::styled(format!("⚙ {}", escape(&c.tool)), theme.title),
        Span::styled(format!(" · {mark} {}{dur}", c.status.label()), style),
    ];
    if last && !c.expanded && c.output.is_some() {
        header.push(Span::styled(" · Ctrl-O output", theme.dim));
    }
    out.push(Line::from(header));
    let args = if c.args.is_empty() {
        "(no arguments)".to_string()
    } else {
        escape(&c.args).into_owned()
    };
    let closes = c.message.is_none() && !c.expanded;
    let corner = if closes { "  ╰ " } else { "  │ " };
    out.push(Line::from(vec![
        Span::styled(corner, theme.dim),
        Span::styled(ellipsize(&args, w.saturating_sub(4)), theme.dim),
    ]));
    if c.expanded {
        push_output(out, c, w, theme);
        return;
    }
    if let Some(m) = &c.message {
        out.push(Line::from(vec![
            Span::styled("  ╰ ", theme.dim),
            Span::styled(ellipsize(&escape(m), w.saturating_sub(4)), theme.error),
        ]));
    }
}

/// Rows of output an open card shows before saying how many more there are.
pub const OUTPUT_ROWS: usize = 12;

/// An open card's body: why it failed or was denied, in full, then what the tool returned,
/// wrapped, escaped, and cut after [`OUTPUT_ROWS`] rows with a count of the rest.
fn push_output(out: &mut Vec<Line<'static>>, c: &ToolCard, w: usize, theme: &Theme) {
    let body = w.saturating_sub(4).max(1);
    let mut rows: Vec<(String, Style)> = Vec::new();
    let mut raw = String::new();
    // A denial or failure that never ran has its reason as its result: said once.
    let message = c
        .message
        .as_ref()
        .filter(|m| c.output.as_deref() != Some(m.as_str()));
    if let Some(m) = message {
        raw.push_str(m);
        rows.extend(wrap(&escape(m), body).into_iter().map(|l| (l, theme.error)));
    }
    match &c.output {
        Some(o) if o.trim().is_empty() => rows.push(("(no output)".to_string(), theme.dim)),
        Some(o) => {
            raw.push_str(o);
            let style = if c.status == ToolStatus::Failed {
                theme.error
            } else {
                theme.base
            };
            rows.extend(
                wrap(escape(o).trim_end_matches('\n'), body)
                    .into_iter()
                    .map(|l| (l, style)),
            );
        }
        None if message.is_some() => {}
        None => {
            let why = match c.status {
                ToolStatus::Requested | ToolStatus::AwaitingApproval | ToolStatus::Running => {
                    "(no output yet)"
                }
                _ => "(no output)",
            };
            rows.push((why.to_string(), theme.dim));
        }
    }
    let more = rows.len().saturating_sub(OUTPUT_ROWS);
    if more > 0 {
        rows.truncate(OUTPUT_ROWS);
        rows.push((
            format!("… {more} more line{}", if more == 1 { "" } else { "s" }),
            theme.dim,
        ));
    }
    if has_controls(&raw) {
        rows.push((
            "⚠ held terminal control characters, shown escaped (␛, ‹U+…›)".to_string(),
            theme.warn,
        ));
    }
    let n = rows.len();
    for (i, (text, style)) in rows.into_iter().enumerate() {
        let corner = if i + 1 == n { "  ╰ " } else { "  │ " };
        out.push(Line::from(vec![
            Span::styled(corner, theme.dim),
            Span::styled(text, style),
        ]));
    }
}

fn render_transcript(frame: &mut Frame, area: Rect, chat: &ChatState, theme: &Theme) {
    if chat.entries.is_empty() && !chat.turn_running {
        let lines = vec![
            Line::styled("Pryx", theme.title),
            Line::styled("Type a message below and press Enter.", theme.dim),
            Line::styled("/help lists commands · ? or F1 lists every key", theme.dim),
        ];
        crate::screens::render_empty(frame, area, lines, theme);
        return;
    }
    let lines = transcript_lines(chat, area.width, theme);
    let total = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let max_scroll = total.saturating_sub(area.height);
    let top = max_scroll.saturating_sub(chat.scroll_back.min(max_scroll));
    frame.render_widget(Paragraph::new(lines).scroll((top, 0)), area);
}

fn render_approval(frame: &mut Frame, area: Rect, chat: &ChatState, theme: &Theme) {
    let Some(a) = chat.approvals.first() else {
        return;
    };
    let more = match chat.approvals.len() {
        1 => String::new(),
        n => format!(" (+{} waiting)", n - 1),
    };
    let other = chat.session_id.as_deref() != Some(a.session_id.as_str());
    let from = if other {
        format!(" · session {}", ellipsize(&a.session_id, 12))
    } else {
        String::new()
    };
    let lines = approval_lines(a, theme);
    // Nothing is cut silently: a card taller than its room says how much there is.
    let rows = approval_rows(&lines, area.width.saturating_sub(2));
    let shown = usize::from(area.height.saturating_sub(2));
    let size = if rows > shown {
        let first = usize::from(chat.approval_scroll) + 1;
        let last = (first + shown).saturating_sub(1).min(rows);
        format!(" · rows {first}-{last} of {rows}, ↑↓ scroll")
    } else {
        String::new()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.warn)
        .title(Span::styled(
            format!(" Approve {}?{from}{more}{size} ", escape_exact(&a.tool)),
            theme.warn,
        ))
        .title_bottom(approval_hint(theme));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((chat.approval_scroll, 0)),
        area,
    );
}

/// The answers and their keys, from the table the prompt of `pryx run` shows too, then the
/// card's own key.
fn approval_hint(theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (key, label) in approval_keys::hint_parts() {
        spans.push(Span::styled(key.to_string(), theme.title));
        spans.push(Span::raw(format!(
            " {label}{}",
            approval_keys::HINT_SEPARATOR
        )));
    }
    spans.push(Span::styled("↑↓", theme.title));
    spans.push(Span::raw(" scroll "));
    Line::from(spans)
}

/// What the approval card shows: why, where a grant would hold, the notes, then the whole
/// preview, every character escaped in its exact form (carriage returns included).
fn approval_lines(a: &PendingApproval, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(vec![
        Span::styled(escape_exact(&a.reason).into_owned(), theme.base),
        Span::styled(
            format!(
                "  [rule {} · times out in {}s]",
                escape_exact(&a.rule),
                a.timeout_secs
            ),
            theme.dim,
        ),
    ])];
    if let (Some(ws), Some(policy)) = (&a.workspace, &a.policy) {
        lines.push(Line::styled(
            format!(
                "in {} · policy {} (s and a hold only there)",
                escape_exact(ws),
                escape_exact(policy)
            ),
            theme.dim,
        ));
    }
    if [&a.preview, &a.tool, &a.reason, &a.rule]
        .iter()
        .any(|t| has_controls_exact(t))
    {
        lines.push(Line::styled(
            "⚠ holds terminal control or invisible characters, shown escaped (␛, ␍, ‹U+…›)",
            theme.warn,
        ));
    }
    if !a.looks_like_secret.is_empty() {
        lines.push(Line::styled(
            format!(
                "⚠ looks like a secret: {}. Shown as it is, not hidden: check it first.",
                a.looks_like_secret.join(", ")
            ),
            theme.warn,
        ));
    }
    lines.extend(
        escape_exact(&a.preview)
            .split('\n')
            .map(|l| Line::styled(l.to_string(), theme.accent)),
    );
    lines
}
