//! The inline approval prompt of `pryx run`, asked on the controlling terminal.

use pryx_agent::approvals::{
    ApprovalAnswer, ApprovalBroker, ApprovalDecision as Decision, ApprovalScope as Scope,
    BrokerEvent, PendingApproval,
};
use pryx_protocol::Surface;
use pryx_tui::safe_text::escape;
use std::io::{BufRead, BufReader, Write};

/// Whether a controlling terminal can be opened for prompts.
pub fn tty_available() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// Answers every approval the broker raises by asking on the terminal, one at a time.
pub fn spawn_prompter(broker: ApprovalBroker) {
    let mut events = broker.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(BrokerEvent::Needed(request)) => {
                    let id = request.id.clone();
                    let asked = tokio::task::spawn_blocking(move || ask(&request)).await;
                    if let Ok(Some((decision, scope))) = asked {
                        // NotFound means it timed out or was answered elsewhere meanwhile.
                        let _ = broker.answer(
                            &id,
                            ApprovalAnswer {
                                decision,
                                scope,
                                surface: Surface::Cli,
                            },
                        );
                    }
                }
                Ok(BrokerEvent::Resolved { .. }) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

pub(super) fn ask(request: &PendingApproval) -> Option<(Decision, Scope)> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let mut out = tty.try_clone().ok()?;
    let mut input = BufReader::new(tty);
    // Tool names, reasons and previews quote model and extension text: shown escaped.
    let _ = writeln!(
        out,
        "\n┌─ approval needed: {} ({})",
        escape(&request.tool),
        escape(&request.reason)
    );
    let _ = writeln!(out, "│ rule: {}", escape(&request.rule));
    let preview = escape(&request.preview);
    for line in preview.lines().take(60) {
        let _ = writeln!(out, "│ {line}");
    }
    if request.preview.lines().count() > 60 {
        let _ = writeln!(out, "│ … (preview cut at 60 lines)");
    }
    loop {
        let _ = write!(
            out,
            "└─ [o]nce, [s]ession, [a]lways (30 days), [d]eny ({} s, then deny)? ",
            request.timeout_secs
        );
        let _ = out.flush();
        let mut line = String::new();
        if input.read_line(&mut line).ok()? == 0 {
            return Some((Decision::Deny, Scope::Once));
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "o" | "once" | "y" | "yes" => return Some((Decision::Approve, Scope::Once)),
            "s" | "session" => return Some((Decision::Approve, Scope::Session)),
            "a" | "always" => return Some((Decision::Approve, Scope::Always)),
            "d" | "deny" | "n" | "no" => return Some((Decision::Deny, Scope::Once)),
            _ => continue,
        }
    }
}
