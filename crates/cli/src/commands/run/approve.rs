//! The inline approval prompt of `pryx run`, asked on the controlling terminal.
//!
//! What is shown is what runs: the full preview (nothing is masked but known secrets, marked by
//! name), every character escaped so nothing in it can act on the terminal, a note when that
//! escaped something or when text looks like a secret, and a long preview is never cut
//! silently: its first lines are shown and `v` shows all of it.

use pryx_agent::approvals::{
    ApprovalAnswer, ApprovalBroker, ApprovalDecision as Decision, ApprovalScope as Scope,
    BrokerEvent, PendingApproval,
};
use pryx_protocol::Surface;
use pryx_protocol::safe_text::{escape_exact, has_controls_exact};
use pryx_tui::approval_keys;
use std::io::{BufRead, BufReader, Write};

/// Preview lines shown before asking; the rest is one `v` away.
const FIRST_LINES: usize = 40;

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
    let _ = out.write_all(question(request).as_bytes());
    loop {
        let _ = write!(out, "{}", choices(request));
        let _ = out.flush();
        let mut line = String::new();
        if input.read_line(&mut line).ok()? == 0 {
            return Some((Decision::Deny, Scope::Once));
        }
        match answer(&line) {
            Some(Answer::Decided(decision, scope)) => return Some((decision, scope)),
            Some(Answer::ViewAll) => {
                let _ = out.write_all(whole_preview(request).as_bytes());
            }
            None => {}
        }
    }
}

/// What a typed line means.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Decided(Decision, Scope),
    ViewAll,
}

/// The answers are the TUI's keys (one shared table); `v` is this prompt's own.
fn answer(line: &str) -> Option<Answer> {
    if let Some((decision, scope)) = approval_keys::answer_for_line(line) {
        return Some(Answer::Decided(decision, scope));
    }
    match line.trim().to_ascii_lowercase().as_str() {
        "v" | "view" => Some(Answer::ViewAll),
        _ => None,
    }
}

/// The preview's lines, every character that could act on a terminal escaped.
fn preview_lines(request: &PendingApproval) -> Vec<String> {
    escape_exact(&request.preview)
        .split('\n')
        .map(str::to_string)
        .collect()
}

/// The question up to the choices: what, why, where, the first lines of the preview, and the
/// notes that go with it.
fn question(request: &PendingApproval) -> String {
    let mut out = String::new();
    // Tool names, reasons and previews quote model and extension text: shown escaped.
    out.push_str(&format!(
        "\n┌─ approval needed: {} ({})\n",
        escape_exact(&request.tool),
        escape_exact(&request.reason)
    ));
    out.push_str(&format!("│ rule: {}\n", escape_exact(&request.rule)));
    if let (Some(ws), Some(policy)) = (&request.workspace, &request.policy) {
        out.push_str(&format!(
            "│ workspace: {} · policy: {} (s and a hold only there; a for 30 days)\n",
            escape_exact(ws),
            escape_exact(policy)
        ));
    }
    let lines = preview_lines(request);
    for line in lines.iter().take(FIRST_LINES) {
        out.push_str(&format!("│ {line}\n"));
    }
    let rest = lines.len().saturating_sub(FIRST_LINES);
    if rest > 0 {
        out.push_str(&format!(
            "│ … {rest} more line{} not shown yet: answer v to see the whole preview\n",
            if rest == 1 { "" } else { "s" }
        ));
    }
    if [
        &request.preview,
        &request.tool,
        &request.reason,
        &request.rule,
    ]
    .iter()
    .any(|t| has_controls_exact(t))
    {
        out.push_str(
            "│ ⚠ this call holds terminal control or invisible characters; they are shown escaped (␛, ␍, ‹U+…›)\n",
        );
    }
    if !request.looks_like_secret.is_empty() {
        out.push_str(&format!(
            "│ ⚠ looks like a secret: {}. Shown as it is, not hidden: check what it is before approving.\n",
            request.looks_like_secret.join(", ")
        ));
    }
    out
}

/// The choices line (without a newline).
fn choices(request: &PendingApproval) -> String {
    format!(
        "└─ {}{}v view all ({} s, then deny)? ",
        approval_keys::hint(),
        approval_keys::HINT_SEPARATOR,
        request.timeout_secs
    )
}

/// Every line of the preview, numbered, for `v`.
fn whole_preview(request: &PendingApproval) -> String {
    let lines = preview_lines(request);
    let width = lines.len().to_string().len();
    let mut out = format!("┌─ whole preview ({} lines)\n", lines.len());
    for (i, line) in lines.iter().enumerate() {
        out.push_str(&format!("│ {:>width$} {line}\n", i + 1));
    }
    out.push_str("│ (end of preview)\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(preview: &str) -> PendingApproval {
        PendingApproval {
            id: "a".into(),
            session_id: "s".into(),
            tool_call_id: "c".into(),
            tool: "shell.exec".into(),
            arguments: serde_json::json!({}),
            fingerprint: "f".into(),
            rule: "defaults.exec".into(),
            reason: "shell commands ask".into(),
            preview: preview.into(),
            timeout_secs: 300,
            created_at: "t".into(),
            looks_like_secret: Vec::new(),
            workspace: Some("/w".into()),
            policy: Some("workspace-only".into()),
        }
    }

    #[test]
    fn escapes_are_shown_and_noted() {
        let q = question(&request("$ touch x \x1b[2K\x1b[1G│ $ echo hello\r\n"));
        assert!(q.contains("│ $ touch x ␛[2K␛[1G│ $ echo hello␍\n"), "{q}");
        assert!(q.contains("shown escaped"), "{q}");
        assert!(!q.contains('\x1b') && !q.contains('\r'));
        assert!(!question(&request("$ ls")).contains("shown escaped"));
    }

    #[test]
    fn a_long_preview_says_how_much_is_left_and_v_shows_all_of_it() {
        let long: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let r = request(long.trim_end());
        let q = question(&r);
        assert!(q.contains("│ line 40\n") && !q.contains("line 41"), "{q}");
        assert!(q.contains("… 60 more lines not shown yet: answer v"), "{q}");
        let all = whole_preview(&r);
        assert!(
            all.contains("│   1 line 1\n") && all.contains("│ 100 line 100\n"),
            "{all}"
        );
        assert_eq!(answer(" V \n"), Some(Answer::ViewAll));
        assert!(!question(&request("short")).contains("more line"));
    }

    #[test]
    fn secret_lookalikes_and_the_scope_of_a_grant_are_stated() {
        let mut r = request("$ echo hi");
        r.looks_like_secret = vec!["a private key block".into()];
        let q = question(&r);
        assert!(
            q.contains("⚠ looks like a secret: a private key block. Shown as it is"),
            "{q}"
        );
        assert!(
            q.contains(
                "│ workspace: /w · policy: workspace-only (s and a hold only there; a for 30 days)\n"
            ),
            "{q}"
        );
        assert_eq!(
            answer("a"),
            Some(Answer::Decided(Decision::Approve, Scope::Always))
        );
        assert_eq!(answer("maybe"), None);
    }

    #[test]
    fn the_answers_are_the_tuis_keys_and_so_is_the_hint() {
        for k in &approval_keys::APPROVAL_KEYS {
            let typed = std::iter::once(k.key.to_string())
                .chain(k.also.iter().map(char::to_string))
                .chain(k.words.iter().map(|w| (*w).to_string()));
            for t in typed {
                assert_eq!(
                    answer(&format!("{t}\n")),
                    Some(Answer::Decided(k.decision, k.scope)),
                    "{t}"
                );
            }
        }
        assert_eq!(
            answer("y"),
            Some(Answer::Decided(Decision::Approve, Scope::Once))
        );
        assert_eq!(
            answer("n"),
            Some(Answer::Decided(Decision::Deny, Scope::Once))
        );
        assert_eq!(answer("1"), None);
        assert_eq!(
            choices(&request("x")),
            "└─ y once · s session · a always · n deny · v view all (300 s, then deny)? "
        );
        assert!(choices(&request("x")).contains(&approval_keys::hint()));
    }
}
