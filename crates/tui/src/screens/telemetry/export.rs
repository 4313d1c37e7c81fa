//! The export part of the Telemetry screen: whether anything leaves this machine, where to, and
//! what was sent, dropped or refused. `e` switches it: off at once, on only after a panel shows
//! exactly what the last turn would send (redacted, as the collector would get it).

use crate::action::Action;
use crate::safe_text::escape;
use crate::state::Effect;
use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use pryx_protocol::api::TelemetryStatus;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Wrap};

/// Attribute lines of the sample shown at most (the panel says how many more).
const SAMPLE_LINES: usize = 14;

#[derive(Debug, Default)]
pub struct ExportState {
    pub status: Option<TelemetryStatus>,
    /// The core does not serve the export's state (an older core).
    pub unsupported: bool,
    /// The confirmation before export goes on is open.
    pub confirming: bool,
}

impl ExportState {
    pub fn on_status(&mut self, status: TelemetryStatus) {
        self.unsupported = false;
        self.status = Some(status);
    }

    /// `e`: off when on; on (after the confirmation) when off and an endpoint is known.
    pub fn toggle(&mut self) -> Vec<Effect> {
        let Some(s) = &self.status else {
            return vec![Effect::Flash(
                "The export's state is not loaded yet (r refreshes).".into(),
            )];
        };
        if s.enabled {
            return vec![Effect::Do(Action::SetTelemetry { enabled: false })];
        }
        if s.endpoint.is_none() {
            return vec![Effect::Flash(
                "Name the collector first: pryx config set telemetry.endpoint http://HOST:4318"
                    .into(),
            )];
        }
        self.confirming = true;
        vec![]
    }

    /// Keys while the confirmation is open: y or Enter sends, n or Esc keeps it off.
    pub fn confirm_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Char('y') | KeyCode::Enter => {
                self.confirming = false;
                vec![Effect::Do(Action::SetTelemetry { enabled: true })]
            }
            KeyCode::Char('n') | KeyCode::Esc => {
                self.confirming = false;
                vec![Effect::Flash(
                    "Export stays off: nothing leaves this machine.".into(),
                )]
            }
            _ => vec![],
        }
    }

    /// The two lines above the timeline.
    pub fn header(&self, theme: &Theme) -> Vec<Line<'static>> {
        let Some(s) = &self.status else {
            let text = if self.unsupported {
                "Export: this core does not report it (update pryx)"
            } else {
                "Export: …"
            };
            return vec![Line::styled(text, theme.dim), Line::raw("")];
        };
        if !s.enabled {
            let first = Line::from(vec![
                Span::styled("Export: off", theme.ok),
                Span::raw(" — nothing leaves this machine"),
            ]);
            let second = match (&s.problem, &s.endpoint) {
                (Some(p), _) => Line::styled(format!("Not exporting: {}", escape(p)), theme.error),
                (None, Some(e)) => {
                    Line::styled(format!("e sends to {} (asks first)", escape(e)), theme.dim)
                }
                (None, None) => Line::styled(
                    "No collector named: pryx config set telemetry.endpoint URL",
                    theme.dim,
                ),
            };
            return vec![first, second];
        }
        let c = &s.counts;
        let first = Line::from(vec![
            Span::styled("Export: on", theme.warn),
            Span::raw(format!(
                " → {} · {} · {}% sampled · e turns it off",
                escape(s.endpoint.as_deref().unwrap_or("?")),
                s.tier.as_str(),
                (s.sampling_ratio * 100.0).round()
            )),
        ]);
        let sent = format!(
            "Sent {} spans, {} logs, {} metric exports · dropped {}",
            c.spans, c.logs, c.metric_exports, c.dropped
        );
        let second = match (&s.last_error, &s.last_export_at) {
            (Some(e), _) => Line::styled(
                format!("{sent} · last export failed: {}", escape(e)),
                theme.error,
            ),
            (None, Some(at)) => Line::styled(format!("{sent} · last at {at}"), theme.dim),
            (None, None) => Line::styled(sent, theme.dim),
        };
        vec![first, second]
    }

    /// The confirmation: where it goes, how much, and the sample.
    pub fn render_confirm(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(s) = &self.status else {
            return;
        };
        let mut lines = vec![
            Line::from(format!(
                "Send to {} (tier {}, {}% of turns)?",
                escape(s.endpoint.as_deref().unwrap_or("?")),
                s.tier.as_str(),
                (s.sampling_ratio * 100.0).round()
            )),
            Line::styled(
                "Never sent: prompts, messages, results, file contents. Personal data and secrets are masked.",
                theme.dim,
            ),
            Line::raw(""),
        ];
        if s.sample.is_empty() {
            lines.push(Line::from(
                "Metrics and warnings go; no turn yet to show its spans.",
            ));
        } else {
            lines.push(Line::from("Your last turn would be sent as:"));
            let mut rows: Vec<Line<'static>> = Vec::new();
            for span in &s.sample {
                rows.push(Line::styled(
                    format!("{} ({} ms)", escape(&span.name), span.duration_ms),
                    theme.title,
                ));
                for (k, v) in &span.attributes {
                    rows.push(Line::styled(
                        format!("  {} = {}", escape(k), escape(v)),
                        theme.dim,
                    ));
                }
            }
            let more = rows.len().saturating_sub(SAMPLE_LINES);
            lines.extend(rows.into_iter().take(SAMPLE_LINES));
            if more > 0 {
                lines.push(Line::styled(format!("  … {more} more lines"), theme.dim));
            }
        }
        let width = area.width.saturating_sub(4).min(90);
        // Wrapped rows inside the border and padding, plus the border.
        let rows = Paragraph::new(lines.clone())
            .wrap(Wrap { trim: false })
            .line_count(width.saturating_sub(4));
        let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2);
        let popup = crate::ui::centered(area, width, height);
        frame.render_widget(Clear, popup);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.warn)
            .padding(Padding::horizontal(1))
            .title(Span::styled(" Turn telemetry export on? ", theme.warn))
            .title_bottom(Line::from(vec![
                Span::styled(" y", theme.title),
                Span::raw(" send  "),
                Span::styled("Esc", theme.title),
                Span::raw(" keep it off "),
            ]));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            popup,
        );
    }
}
