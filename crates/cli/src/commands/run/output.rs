//! What `pryx run` prints: the answer on stdout, tool activity on stderr, or NDJSON events.

use pryx_agent::{EventSink, TurnReport, TurnStop};
use pryx_protocol::{Event, EventKind};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Printer {
    json: bool,
    /// Whether answer text was printed without a trailing newline yet.
    mid_line: Arc<AtomicBool>,
}

impl Printer {
    pub fn new(json: bool) -> Self {
        Printer {
            json,
            mid_line: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn sink(&self) -> EventSink {
        let json = self.json;
        let mid_line = self.mid_line.clone();
        Arc::new(move |event: &Event| {
            if json {
                if let Ok(line) = serde_json::to_string(event) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                return;
            }
            print_human(event, &mid_line);
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
        let stop = match report.stop {
            TurnStop::Completed => "done",
            TurnStop::StepLimit => {
                "stopped: step limit reached (raise it with --max-steps or agent.max_steps)"
            }
            TurnStop::BudgetExceeded => {
                "stopped: session budget reached (agent.session_budget_usd)"
            }
            TurnStop::Cancelled => "cancelled",
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

fn print_human(event: &Event, mid_line: &AtomicBool) {
    let p = &event.payload;
    let s = |k: &str| {
        p.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    match event.event {
        EventKind::SessionDelta => {
            if let Some(text) = p.get("text").and_then(|v| v.as_str()) {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
                mid_line.store(!text.ends_with('\n'), Ordering::SeqCst);
            }
        }
        EventKind::ToolRequest => {
            if mid_line.swap(false, Ordering::SeqCst) {
                println!();
            }
            let args = p.get("arguments").map(summarize).unwrap_or_default();
            eprintln!("⚙ {} {args}", s("tool"));
        }
        EventKind::ToolComplete => {
            let ms = p.get("duration_ms").and_then(|v| v.as_u64());
            let failed = p.get("is_error").and_then(|v| v.as_bool()).unwrap_or(false);
            let status = s("status");
            match (failed, status.as_str()) {
                (true, "denied") => eprintln!("✗ {} denied: {}", s("tool"), s("message")),
                (true, _) if !s("message").is_empty() => {
                    eprintln!("✗ {}: {}", s("tool"), s("message"))
                }
                (true, _) => eprintln!(
                    "✗ {} failed{}",
                    s("tool"),
                    ms.map(|m| format!(" ({m} ms)")).unwrap_or_default()
                ),
                (false, _) => eprintln!(
                    "✓ {}{}",
                    s("tool"),
                    ms.map(|m| format!(" ({m} ms)")).unwrap_or_default()
                ),
            }
        }
        EventKind::ErrorOccurred => eprintln!("✗ {}: {}", s("code"), s("message")),
        _ => {}
    }
}

/// One line describing a call's arguments, cut at 120 characters.
fn summarize(args: &serde_json::Value) -> String {
    let text = match args
        .get("command")
        .or_else(|| args.get("path"))
        .or_else(|| args.get("url"))
    {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => args.to_string(),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(120).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}
