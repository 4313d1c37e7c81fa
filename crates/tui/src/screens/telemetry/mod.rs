//! The Telemetry screen: whether anything is exported and where to (with its switch), then the
//! open session's spans as bars on a time axis, with tokens and cost.

mod export;
pub use export::ExportState;

use super::{compact, ellipsize, money, navigate, render_empty};
use crate::action::Action;
use crate::model::SpanView;
use crate::state::Effect;
use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Debug, Default)]
pub struct TelemetryState {
    pub session_id: Option<String>,
    pub spans: Vec<SpanView>,
    pub selected: usize,
    pub loading: bool,
    pub export: ExportState,
}

impl TelemetryState {
    /// The export's state, and the open session's spans when one is open.
    pub fn load(&mut self, session_id: Option<&str>) -> Vec<Action> {
        let mut out = vec![Action::LoadTelemetry];
        let Some(id) = session_id else {
            return out;
        };
        self.loading = true;
        if self.session_id.as_deref() != Some(id) {
            self.spans.clear();
            self.selected = 0;
        }
        self.session_id = Some(id.to_string());
        out.push(Action::LoadTimeline {
            session_id: id.to_string(),
        });
        out
    }

    pub fn on_spans(&mut self, session_id: &str, mut spans: Vec<SpanView>) {
        if self.session_id.as_deref() != Some(session_id) {
            return;
        }
        spans.sort_by_key(|s| s.start_ms);
        self.loading = false;
        self.spans = spans;
        self.selected = self.selected.min(self.spans.len().saturating_sub(1));
    }

    pub fn handle_key(&mut self, key: KeyEvent, session_id: Option<&str>) -> Option<Vec<Effect>> {
        if self.export.confirming {
            return Some(self.export.confirm_key(key));
        }
        if navigate(&mut self.selected, self.spans.len(), &key) {
            return Some(vec![]);
        }
        match key.code {
            KeyCode::Char('r') => Some(self.load(session_id).into_iter().map(Effect::Do).collect()),
            KeyCode::Char('e') => Some(self.export.toggle()),
            _ => None,
        }
    }

    /// Tokens in, tokens out and cost of the root spans (children are included in their roots).
    pub fn totals(&self) -> (u64, u64, f64) {
        self.spans
            .iter()
            .filter(|s| s.parent_id.is_none())
            .fold((0, 0, 0.0), |(i, o, c), s| {
                (
                    i + s.tokens_in.unwrap_or(0),
                    o + s.tokens_out.unwrap_or(0),
                    c + s.cost_usd.unwrap_or(0.0),
                )
            })
    }
}

/// Where a span's bar starts and how long it is, in cells of a `width`-wide axis from `t0` to `t1`.
/// Every span gets at least one cell so instant ones stay visible.
pub fn bar(start: u64, end: u64, t0: u64, t1: u64, width: u16) -> (u16, u16) {
    if width == 0 {
        return (0, 0);
    }
    let span = t1.saturating_sub(t0).max(1) as f64;
    let w = f64::from(width);
    let from = ((start.saturating_sub(t0) as f64 / span) * w)
        .floor()
        .min(w - 1.0) as u16;
    let to = ((end.saturating_sub(t0) as f64 / span) * w).ceil().min(w) as u16;
    (from, to.saturating_sub(from).max(1))
}

fn seconds(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

const LABEL: u16 = 20;
const STATS: u16 = 16;

pub fn render(frame: &mut Frame, area: Rect, st: &TelemetryState, theme: &Theme) {
    // The header, a blank line, the timeline.
    let [head, _, body] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(st.export.header(theme)), head);
    render_timeline(frame, body, st, theme);
    if st.export.confirming {
        st.export.render_confirm(frame, area, theme);
    }
}

fn render_timeline(frame: &mut Frame, area: Rect, st: &TelemetryState, theme: &Theme) {
    if st.spans.is_empty() {
        let msg = match (&st.session_id, st.loading) {
            (None, _) => "No session open. Chat first, or resume one from Sessions (2).",
            (Some(_), true) => "Loading…",
            (Some(_), false) => "No spans recorded for this session yet.",
        };
        render_empty(frame, area, vec![Line::from(msg)], theme);
        return;
    }
    let [axis, rows, detail, totals] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let t0 = st.spans.iter().map(|s| s.start_ms).min().unwrap_or(0);
    let t1 = st
        .spans
        .iter()
        .map(|s| s.end_ms.unwrap_or(s.start_ms).max(s.start_ms))
        .max()
        .unwrap_or(t0);
    let bar_w = area.width.saturating_sub(LABEL + STATS + 2);

    let end_label = seconds(t1 - t0);
    let pad = usize::from(bar_w).saturating_sub(end_label.len() + 1);
    let axis_line = format!("{:w$}0{:pad$}{end_label}", "", "", w = usize::from(LABEL));
    frame.render_widget(Line::styled(axis_line, theme.dim), axis);

    let visible = usize::from(rows.height);
    let first = st.selected.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = st
        .spans
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, s)| {
            let depth = if s.parent_id.is_some() { "  " } else { "" };
            let label = ellipsize(&format!("{depth}{}", s.name), usize::from(LABEL) - 1);
            let end = s.end_ms.unwrap_or(t1).max(s.start_ms);
            let (off, len) = bar(s.start_ms, end, t0, t1, bar_w);
            let style = match s.status.as_str() {
                "error" => theme.error,
                "cancelled" => theme.warn,
                _ if s.kind == "approval_wait" => theme.warn,
                _ => theme.bar,
            };
            let glyph = match s.kind.as_str() {
                "turn" => "▔",
                "approval_wait" => "░",
                _ => "█",
            };
            let tokens = s.tokens_in.unwrap_or(0) + s.tokens_out.unwrap_or(0);
            let stats = match (tokens, s.cost_usd) {
                (0, None) => String::new(),
                (t, c) => format!("{:>6} {:>8}", compact(t), money(c.unwrap_or(0.0))),
            };
            let rest = bar_w.saturating_sub(off + len);
            let mut line = Line::from(vec![
                Span::raw(format!("{label:<w$} ", w = usize::from(LABEL) - 1)),
                Span::raw(" ".repeat(usize::from(off))),
                Span::styled(glyph.repeat(usize::from(len)), style),
                Span::raw(" ".repeat(usize::from(rest))),
                Span::styled(format!(" {stats:>w$}", w = usize::from(STATS)), theme.dim),
            ]);
            if i == st.selected {
                line = line.style(theme.selected);
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), rows);

    if let Some(s) = st.spans.get(st.selected) {
        let dur = s.end_ms.map_or_else(
            || "running".to_string(),
            |e| seconds(e.saturating_sub(s.start_ms)),
        );
        let text = format!(
            "{} {} · {} · {} · in {} out {}",
            s.kind,
            s.name,
            s.status,
            dur,
            s.tokens_in.unwrap_or(0),
            s.tokens_out.unwrap_or(0)
        );
        frame.render_widget(Line::from(text), detail);
    }
    let (i, o, c) = st.totals();
    let text = format!(
        "Session: {} in · {} out · {} · r refresh · e export on/off",
        compact(i),
        compact(o),
        money(c)
    );
    frame.render_widget(Line::styled(text, theme.title), totals);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_axis() {
        assert_eq!(bar(0, 100, 0, 100, 50), (0, 50));
        assert_eq!(bar(50, 100, 0, 100, 50), (25, 25));
        // An instant span still gets one cell, even at the very end.
        assert_eq!(bar(100, 100, 0, 100, 50), (49, 1));
        // A zero-length timeline does not divide by zero.
        assert_eq!(bar(5, 5, 5, 5, 10), (0, 1));
        assert_eq!(bar(0, 10, 0, 10, 0), (0, 0));
    }

    #[test]
    fn totals_count_root_spans_only() {
        let span = |id: &str, parent: Option<&str>, tin, cost| SpanView {
            id: id.into(),
            parent_id: parent.map(Into::into),
            kind: "turn".into(),
            name: id.into(),
            start_ms: 0,
            end_ms: Some(1),
            status: "ok".into(),
            tokens_in: Some(tin),
            tokens_out: Some(1),
            cost_usd: Some(cost),
        };
        let mut st = TelemetryState::default();
        st.load(Some("s"));
        st.on_spans(
            "s",
            vec![
                span("a", None, 10, 0.5),
                span("b", Some("a"), 10, 0.5),
                span("c", None, 5, 0.25),
            ],
        );
        assert_eq!(st.totals(), (15, 2, 0.75));
        // Spans of another session are ignored.
        st.on_spans("other", vec![]);
        assert_eq!(st.spans.len(), 3);
    }
}
