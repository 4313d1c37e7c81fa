//! Approvals raised by a chat's turns, put to the chat with buttons bound to the exact request
//! (`a:<approval id>:<answer>`). A press counts only from a trusted sender (paired or
//! allow-listed) in the chat the request belongs to; the same request can be answered on any
//! other surface, and the message then says how it ended.

use super::dispatch::trusted;
use super::{TelegramBridge, lock};
use pryx_agent::approvals::BrokerEvent;
use pryx_channels::{Button, ButtonPress, Inbound, Outgoing};
use pryx_protocol::Surface;
use pryx_protocol::api::{
    ApprovalAnswer, ApprovalDecision, ApprovalOutcome, ApprovalScope, PendingApproval,
};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// The longest preview shown in the chat (the full one is in the TUI and the dashboard).
const MAX_PREVIEW: usize = 2500;

pub(super) async fn run(b: Arc<TelegramBridge>) {
    let mut rx = b.core.broker().subscribe();
    // Requests raised before this started (after a channel restart) are put to the chat too.
    for p in b.core.broker().pending() {
        prompt(&b, &p);
    }
    loop {
        let ev = tokio::select! {
            _ = b.cancel.cancelled() => return,
            ev = rx.recv() => ev,
        };
        match ev {
            Ok(BrokerEvent::Needed(p)) => prompt(&b, &p),
            Ok(BrokerEvent::Resolved { id, outcome, .. }) => resolved(&b, &id, &outcome),
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// The chat a session belongs to, when it is one of this channel's.
fn chat_of(b: &TelegramBridge, session: &str) -> Option<String> {
    match b.store().session_chat(session) {
        Ok(Some((channel, chat))) if channel == b.id => {
            Some(chat.split(':').next().unwrap_or(&chat).to_string())
        }
        _ => None,
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("\n… (shortened; the whole request is in the TUI and the dashboard)");
    out
}

fn text_of(p: &PendingApproval) -> String {
    let mut t = format!(
        "🔐 Approval needed: {}\n{}\n\n{}\n\nrule: {}",
        p.tool,
        p.reason,
        clip(&p.preview, MAX_PREVIEW),
        p.rule
    );
    if !p.looks_like_secret.is_empty() {
        t.push_str(&format!(
            "\n⚠️ looks like it contains: {}",
            p.looks_like_secret.join(", ")
        ));
    }
    t.push_str(&format!("\nNo answer in {} s means no.", p.timeout_secs));
    t
}

fn prompt(b: &TelegramBridge, p: &PendingApproval) {
    let Some(chat) = chat_of(b, &p.session_id) else {
        return;
    };
    if lock(&b.prompts).contains_key(&p.id) {
        return;
    }
    let button = |label: &str, answer: &str| Button {
        label: label.into(),
        data: format!("a:{}:{answer}", p.id),
    };
    let text = text_of(p);
    let out = Outgoing {
        buttons: vec![
            vec![
                button("✅ Approve once", "o"),
                button("✅ For this chat", "s"),
            ],
            vec![button("❌ Deny", "d")],
        ],
        ..Outgoing::plain(text.clone())
    };
    match b.store().enqueue_outbound(&b.id, &chat, &out) {
        Ok(row) => {
            lock(&b.prompts).insert(p.id.clone(), (row, text));
            b.wake_outbox.notify_one();
        }
        Err(e) => tracing::warn!(channel = %b.id, error = %e, "cannot queue an approval prompt"),
    }
}

/// Edits the prompt to say how the request ended (buttons gone).
fn resolved(b: &TelegramBridge, id: &str, outcome: &ApprovalOutcome) {
    let Some((row, text)) = lock(&b.prompts).remove(id) else {
        return;
    };
    let how = match outcome {
        ApprovalOutcome::Answered(a) => format!(
            "{} ({}) from {}",
            match a.decision {
                ApprovalDecision::Approve => "✅ Approved",
                ApprovalDecision::Deny => "❌ Denied",
            },
            a.scope.as_str(),
            a.surface.as_str()
        ),
        ApprovalOutcome::TimedOut { default } => format!(
            "⏱ No answer in time: {}",
            match default {
                ApprovalDecision::Approve => "approved by the policy",
                ApprovalDecision::Deny => "denied",
            }
        ),
        ApprovalOutcome::Cancelled => "⏹ The turn stopped before an answer".into(),
    };
    let Ok(Some((chat, Some(message)))) = b.store().outbound_delivery(row) else {
        return;
    };
    let edit = Outgoing {
        edit: Some(message),
        ..Outgoing::plain(format!("{text}\n\n{how}"))
    };
    if b.store().enqueue_outbound(&b.id, &chat, &edit).is_ok() {
        b.wake_outbox.notify_one();
    }
}

/// Answers `approval` for a sender of `m`'s chat; a short note of what happened.
fn answer(
    b: &TelegramBridge,
    m: &Inbound,
    approval: &str,
    decision: ApprovalDecision,
    scope: ApprovalScope,
) -> Result<&'static str, &'static str> {
    let open_dm = b.cfg.dm_policy == pryx_config::DmPolicy::Open
        && m.chat.kind == pryx_channels::ChatKind::Private;
    if !trusted(b, &m.sender.id) && !open_dm {
        return Err("Only a paired user may answer approvals.");
    }
    let pending = b.core.broker().pending();
    let Some(p) = pending.iter().find(|p| p.id == approval) else {
        return Err("This request is no longer waiting (answered elsewhere or timed out).");
    };
    if chat_of(b, &p.session_id).as_deref() != Some(m.chat.id.as_str()) {
        return Err("This request belongs to another conversation.");
    }
    b.core
        .broker()
        .answer(
            approval,
            ApprovalAnswer {
                decision,
                scope,
                surface: Surface::Telegram,
            },
        )
        .map_err(|_| "This request is no longer waiting (answered elsewhere or timed out).")?;
    tracing::info!(channel = %b.id, approval, sender = %m.sender.id, ?decision, "approval answered from Telegram");
    Ok(match decision {
        ApprovalDecision::Approve => "Approved.",
        ApprovalDecision::Deny => "Denied.",
    })
}

/// A button press: `a:<id>:o|s|d`.
pub(super) async fn press(b: &TelegramBridge, m: &Inbound, p: &ButtonPress) -> String {
    let parsed = p
        .data
        .strip_prefix("a:")
        .and_then(|rest| rest.rsplit_once(':'));
    let result = match parsed {
        Some((id, "o")) => answer(b, m, id, ApprovalDecision::Approve, ApprovalScope::Once),
        Some((id, "s")) => answer(b, m, id, ApprovalDecision::Approve, ApprovalScope::Session),
        Some((id, "d")) => answer(b, m, id, ApprovalDecision::Deny, ApprovalScope::Once),
        _ => Err("This button is not Pryx's."),
    };
    let text = match result {
        Ok(t) | Err(t) => t,
    };
    if let Err(e) = b.bot.answer_press(&p.id, text).await {
        tracing::debug!(channel = %b.id, error = %e, "cannot acknowledge a button press");
    }
    format!("button: {text}")
}

/// `/approve` or `/deny`: the oldest request waiting in this chat, answered once.
pub(super) fn by_command(b: &TelegramBridge, m: &Inbound, approve: bool) -> String {
    let pending = b.core.broker().pending();
    let Some(p) = pending
        .iter()
        .find(|p| chat_of(b, &p.session_id).as_deref() == Some(m.chat.id.as_str()))
    else {
        return "No request is waiting for an answer here.".into();
    };
    let decision = if approve {
        ApprovalDecision::Approve
    } else {
        ApprovalDecision::Deny
    };
    match answer(b, m, &p.id, decision, ApprovalScope::Once) {
        Ok(t) => format!("{t} ({})", p.tool),
        Err(t) => t.into(),
    }
}
