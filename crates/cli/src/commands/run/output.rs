//! What `pryx run` prints: the answer on stdout, tool activity on stderr, or NDJSON events.

use crate::term::say_err;
use pryx_agent::{EventSink, TurnReport, TurnStop};
use pryx_protocol::safe_text::{escape, escape_exact};
use pryx_protocol::{Delta, Event, EventPayload, NotRun};
use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Printer {
    json: bool,
    /// Whether the answer on stdout is shown with terminal controls escaped (a terminal, or
    /// `--sanitize`); otherwise scripts get the model's exact text.
    escape_answer: bool,
    /// Whether answer text was printed without a trailing newline yet.
    mid_line: Arc<AtomicBool>,
    /// Whether a turn's error was printed (`✗ CODE: message`), so it is not printed twice.
    shown_error: Arc<AtomicBool>,
}

impl Printer {
    pub fn new(json: bool, escape_answer: bool) -> Self {
        Printer {
            json,
            escape_answer,
            mid_line: Arc::new(AtomicBool::new(false)),
            shown_error: Arc::new(AtomicBool::new(false)),
        }
    }

    /// True once a turn's error was shown to a person (not in `--json` mode, where the event
    /// is data and the error still goes to stderr).
    pub fn shown_error(&self) -> bool {
        self.shown_error.load(Ordering::SeqCst)
    }

    pub fn sink(&self) -> EventSink {
        let (json, escape_answer) = (self.json, self.escape_answer);
        let (mid_line, shown_error) = (self.mid_line.clone(), self.shown_error.clone());
        Arc::new(move |event: &Event| {
            if json {
                if let Ok(line) = serde_json::to_string(event) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                return;
            }
            if matches!(event.payload, EventPayload::ErrorOccurred(_)) {
                shown_error.store(true, Ordering::SeqCst);
            }
            print_human(event, &mid_line, escape_answer);
        })
    }

    /// Closes the answer line and prints a one-line summary on stderr.
    pub fn finish(&self, report: &TurnReport) {
        if self.json {
            return;
        }
        if self.mid_line.swap(false, Ordering::SeqCst) {
            println!();
        }
        let stop = match (report.stop, &report.stop_reason) {
            (TurnStop::Completed, _) => "done".to_string(),
            (TurnStop::StepLimit, _) => {
                "stopped: step limit reached (raise it with --max-steps or agent.max_steps)"
                    .to_string()
            }
            (TurnStop::BudgetExceeded, Some(why)) => format!("stopped: {why}"),
            (TurnStop::BudgetExceeded, None) => "stopped: a budget was reached".to_string(),
            (TurnStop::Cancelled, _) => "cancelled".to_string(),
        };
        eprintln!(
            "── {stop} · {} steps · {} tool calls · {} in / {} out tokens · ${:.6}",
            report.steps,
            report.tool_calls,
            report.usage.total_input(),
            report.usage.output,
            report.cost_usd
        );
    }
}

fn print_human(event: &Event, mid_line: &AtomicBool, escape_answer: bool) {
    match &event.payload {
        EventPayload::SessionDelta(Delta::Text { text }) => {
            let shown = if escape_answer {
                escape(text)
            } else {
                Cow::Borrowed(text.as_str())
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(shown.as_bytes());
            let _ = out.flush();
            mid_line.store(!text.ends_with('\n'), Ordering::SeqCst);
        }
        EventPayload::ToolRequest(r) => {
            if mid_line.swap(false, Ordering::SeqCst) {
                println!();
            }
            say_err!("⚙ {} {}", r.tool, summarize(&r.arguments));
        }
        EventPayload::ToolComplete(c) => {
            let took = c
                .duration_ms
                .map(|m| format!(" ({m} ms)"))
                .unwrap_or_default();
            match (c.is_error, c.status, c.message.as_deref()) {
                _ if c.cancelled => say_err!("⊘ {} cancelled{took}", c.tool),
                (_, Some(NotRun::Denied), message) => {
                    say_err!("✗ {} denied: {}", c.tool, message.unwrap_or_default())
                }
                (true, _, Some(message)) if !message.is_empty() => {
                    say_err!("✗ {}: {message}", c.tool)
                }
                (true, _, _) => say_err!("✗ {} failed{took}", c.tool),
                (false, _, _) => say_err!("✓ {}{took}", c.tool),
            }
        }
        EventPayload::ErrorOccurred(e) => say_err!("✗ {}: {}", e.code, e.message),
        EventPayload::TurnCompleted(end) => {
            if let Some(t) = end.short_trace() {
                say_err!("  trace {t}: `pryx trace {t}` shows its spans");
            }
        }
        EventPayload::ModelFallback(f) => {
            if mid_line.swap(false, Ordering::SeqCst) {
                println!();
            }
            say_err!("↷ {} failed ({}); continuing on {}", f.from, f.code, f.to)
        }
        EventPayload::BudgetWarning(b) => say_err!(
            "! budget {}: ${:.4} of ${:.2} used (raise `{}` to allow more)",
            b.budget,
            b.spent_usd,
            b.limit_usd,
            b.setting
        ),
        EventPayload::ContextWarning(w) => say_err!(
            "! context {:.0}% full ({} of {} tokens); older messages are summarised at {}% (`pryx run --compact` does it now)",
            w.percent,
            w.tokens,
            w.window,
            w.compact_at_percent
        ),
        EventPayload::ContextCompacted(c) => {
            if mid_line.swap(false, Ordering::SeqCst) {
                println!();
            }
            say_err!(
                "↺ {} earlier messages summarised (about {} → {} tokens, ${:.4}); they stay in the session",
                c.messages,
                c.tokens_before,
                c.tokens_after,
                c.cost_usd
            )
        }
        EventPayload::ProcessMatched(m) => say_err!(
            "! {} ({}) printed a line matching {}: {}",
            m.process_id,
            m.command,
            m.pattern,
            escape(&m.line)
        ),
        EventPayload::SessionDelta(Delta::Reasoning { .. })
        | EventPayload::SessionMessage(_)
        | EventPayload::SessionTyping(_)
        | EventPayload::TurnStarted(_)
        | EventPayload::ToolExecuting(_)
        | EventPayload::ApprovalNeeded(_)
        | EventPayload::ApprovalResolved(_)
        | EventPayload::TraceEvent(_)
        | EventPayload::SpanUpdate(_)
        | EventPayload::Unknown(_) => {}
    }
}

/// One line describing a call's arguments (the command, path or URL when there is one), cut at
/// 120 characters. The approval prompt shows the whole call; this is the activity line.
fn summarize(args: &serde_json::Value) -> String {
    let text = match args {
        serde_json::Value::Object(m) => match ["command", "path", "url"]
            .iter()
            .find_map(|k| m.get(*k).and_then(serde_json::Value::as_str))
        {
            Some(s) => s.to_string(),
            None => args.to_string(),
        },
        other => other.to_string(),
    };
    // Escaped first, so a carriage return shows (as ␍) instead of passing for a space.
    let one_line = escape_exact(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut cut: String = one_line.chars().take(120).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}
