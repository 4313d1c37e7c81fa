//! A turn's spans as Gantt geometry for the server-drawn SVG: one row per span (the turn first,
//! then its model calls, tool calls and approval waits in start order), x scaled to the turn's
//! length, a running span drawn up to now.

use pryx_store::{Span, SpanKind, SpanStatus};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Width of the drawing in SVG units (the element scales to its box).
pub const WIDTH: f64 = 1000.0;
/// Height of one row: a label line, then the bar.
pub const ROW: f64 = 36.0;
const BAR: f64 = 14.0;

/// One bar.
pub struct Bar {
    pub span_id: String,
    /// `turn`, `model_call`, `tool_call`, `approval_wait`.
    pub kind: &'static str,
    /// `running`, `ok`, `error`, `cancelled`, `interrupted`.
    pub status: &'static str,
    pub label: String,
    /// What a pointer over the bar shows.
    pub title: String,
    pub x: f64,
    pub width: f64,
    /// Top of the bar.
    pub y: f64,
    pub height: f64,
    /// Where the label starts and which way it runs (`start` or `end`).
    pub text_x: f64,
    pub text_y: f64,
    pub anchor: &'static str,
    pub selected: bool,
}

/// One turn's chart.
pub struct TurnChart {
    pub trace_id: String,
    pub heading: String,
    pub status: &'static str,
    pub height: f64,
    pub bars: Vec<Bar>,
}

fn at(ts: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(ts, &Rfc3339).ok()
}

fn kind(k: SpanKind) -> &'static str {
    match k {
        SpanKind::Turn => "turn",
        SpanKind::ModelCall => "model_call",
        SpanKind::ToolCall => "tool_call",
        SpanKind::ApprovalWait => "approval_wait",
    }
}

fn status(s: SpanStatus) -> &'static str {
    match s {
        SpanStatus::Running => "running",
        SpanStatus::Ok => "ok",
        SpanStatus::Error => "error",
        SpanStatus::Cancelled => "cancelled",
        SpanStatus::Interrupted => "interrupted",
    }
}

/// `1.2 s`, `340 ms`.
pub fn duration(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// What a span's bar says: its name, how long, tokens and cost.
fn label(s: &Span, ms: f64) -> String {
    let what = match s.kind {
        SpanKind::Turn => "turn".to_string(),
        SpanKind::ModelCall => format!("model {}", s.name),
        SpanKind::ToolCall => s.name.clone(),
        SpanKind::ApprovalWait => format!("approval {}", s.name),
    };
    let mut text = format!("{what} · {}", duration(ms));
    if s.status == SpanStatus::Running {
        text.push_str(" · running");
    }
    if let (Some(i), Some(o)) = (s.tokens_in, s.tokens_out) {
        text.push_str(&format!(" · {i} in / {o} out"));
    }
    if let Some(c) = s.cost_usd.filter(|c| *c > 0.0) {
        text.push_str(&format!(" · ${c:.4}"));
    }
    if matches!(s.status, SpanStatus::Error | SpanStatus::Interrupted) {
        text.push_str(&format!(" · {}", status(s.status)));
    }
    text
}

/// The charts of a session's spans, oldest turn first; `selected` marks one bar.
pub fn charts(spans: &[Span], now: OffsetDateTime, selected: Option<&str>) -> Vec<TurnChart> {
    let mut traces: Vec<&str> = Vec::new();
    for s in spans {
        if !traces.contains(&s.trace_id.as_str()) {
            traces.push(&s.trace_id);
        }
    }
    traces
        .into_iter()
        .filter_map(|t| {
            let mut of: Vec<&Span> = spans.iter().filter(|s| s.trace_id == t).collect();
            of.sort_by(|a, b| {
                (a.parent_id.is_some(), &a.started_at).cmp(&(b.parent_id.is_some(), &b.started_at))
            });
            chart(&of, now, selected)
        })
        .collect()
}

fn chart(spans: &[&Span], now: OffsetDateTime, selected: Option<&str>) -> Option<TurnChart> {
    let root = spans.first()?;
    let t0 = at(&root.started_at)?;
    let end_of = |s: &Span| s.ended_at.as_deref().and_then(at).unwrap_or(now).max(t0);
    let t1 = spans.iter().map(|s| end_of(s)).max()?.max(t0);
    let total_ms = ((t1 - t0).as_seconds_f64() * 1000.0).max(1.0);
    let scale = (WIDTH - 2.0) / total_ms;
    let bars = spans
        .iter()
        .enumerate()
        .filter_map(|(row, s)| {
            let start = at(&s.started_at)?.max(t0);
            let ms = (end_of(s) - start).as_seconds_f64() * 1000.0;
            let x = 1.0 + (start - t0).as_seconds_f64() * 1000.0 * scale;
            let width = (ms * scale).max(3.0);
            #[allow(clippy::cast_precision_loss)]
            let y = row as f64 * ROW + 18.0;
            let label = label(s, ms);
            // A label that would run off the right edge ends at the bar's end instead.
            let (text_x, anchor) = if x > WIDTH * 0.55 {
                ((x + width).min(WIDTH - 1.0), "end")
            } else {
                (x, "start")
            };
            Some(Bar {
                span_id: s.id.clone(),
                kind: kind(s.kind),
                status: status(s.status),
                title: format!("{label}. Click for details."),
                label,
                x,
                width,
                y,
                height: BAR,
                text_x,
                text_y: y - 5.0,
                anchor,
                selected: selected == Some(s.id.as_str()),
            })
        })
        .collect::<Vec<_>>();
    #[allow(clippy::cast_precision_loss)]
    let height = bars.len() as f64 * ROW + 8.0;
    Some(TurnChart {
        trace_id: root.trace_id.clone(),
        heading: format!(
            "{} · {}",
            root.started_at
                .get(..19)
                .unwrap_or(&root.started_at)
                .replace('T', " "),
            duration(total_ms)
        ),
        status: status(root.status),
        height,
        bars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(
        id: &str,
        parent: Option<&str>,
        kind: SpanKind,
        start: &str,
        end: Option<&str>,
    ) -> Span {
        Span {
            id: id.into(),
            trace_id: "t1".into(),
            parent_id: parent.map(Into::into),
            session_id: Some("s".into()),
            kind,
            name: id.into(),
            started_at: start.into(),
            ended_at: end.map(Into::into),
            status: if end.is_some() {
                SpanStatus::Ok
            } else {
                SpanStatus::Running
            },
            tokens_in: None,
            tokens_out: None,
            cost_usd: None,
            attributes: serde_json::Value::Null,
        }
    }

    #[test]
    fn bars_are_placed_on_the_turns_scale_and_a_running_span_reaches_now() {
        let spans = vec![
            span(
                "tool",
                Some("turn"),
                SpanKind::ToolCall,
                "2026-01-01T00:00:01Z",
                None,
            ),
            span("turn", None, SpanKind::Turn, "2026-01-01T00:00:00Z", None),
            span(
                "model",
                Some("turn"),
                SpanKind::ModelCall,
                "2026-01-01T00:00:00Z",
                Some("2026-01-01T00:00:01Z"),
            ),
        ];
        let now = at("2026-01-01T00:00:02Z").unwrap();
        let charts = charts(&spans, now, Some("tool"));
        assert_eq!(charts.len(), 1);
        let bars = &charts[0].bars;
        let ids: Vec<_> = bars.iter().map(|b| b.span_id.as_str()).collect();
        assert_eq!(
            ids,
            ["turn", "model", "tool"],
            "the turn first, then by start"
        );
        assert!(
            (bars[0].width - (WIDTH - 2.0)).abs() < 0.01,
            "the turn spans the chart"
        );
        assert!((bars[1].width - (WIDTH - 2.0) / 2.0).abs() < 0.01);
        assert!((bars[2].x - (1.0 + (WIDTH - 2.0) / 2.0)).abs() < 0.01);
        assert_eq!(bars[2].status, "running");
        assert!(bars[2].label.contains("running"));
        assert!(bars[2].selected && !bars[1].selected);
        assert!(bars[1].y > bars[0].y && bars[2].y > bars[1].y);
    }

    #[test]
    fn labels_say_tokens_cost_and_errors() {
        let mut s = span(
            "m",
            None,
            SpanKind::ModelCall,
            "2026-01-01T00:00:00Z",
            Some("2026-01-01T00:00:00.250Z"),
        );
        s.name = "openai/gpt-4o".into();
        s.tokens_in = Some(12);
        s.tokens_out = Some(3);
        s.cost_usd = Some(0.0012);
        s.status = SpanStatus::Error;
        let l = label(&s, 250.0);
        assert_eq!(
            l,
            "model openai/gpt-4o · 250 ms · 12 in / 3 out · $0.0012 · error"
        );
    }
}
