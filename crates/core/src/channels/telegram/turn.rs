//! A chat message as a turn of the chat's session: the session is found or made (one per chat,
//! or per thread), the turn runs with "typing…" shown, and its answer comes back cut to
//! Telegram's size — paragraph by paragraph while it is written, unless the channel turns
//! that off. The chat commands live here too.

use super::TelegramBridge;
use super::dispatch::Command;
use super::stream;
use pryx_channels::chunk;
use pryx_channels::telegram::MAX_MESSAGE_UNITS;
use pryx_channels::{ChatKind, Inbound, Outgoing};
use pryx_protocol::TurnEnd;
use std::sync::Arc;
use std::time::Duration;

/// The chat's key: the chat, and its thread when it has one.
fn chat_key(m: &Inbound) -> String {
    match &m.chat.thread {
        Some(t) => format!("{}:{t}", m.chat.id),
        None => m.chat.id.clone(),
    }
}

fn title(m: &Inbound) -> String {
    match m.chat.kind {
        ChatKind::Private => format!("Telegram: {}", m.sender.display),
        ChatKind::Group => format!("Telegram: {}", m.chat.title),
    }
}

/// The chat's session, made when it has none (or with `fresh`); `true` when it was made now.
fn session_for(b: &TelegramBridge, m: &Inbound, fresh: bool) -> Result<(String, bool), String> {
    let store = b.store();
    let key = chat_key(m);
    if !fresh && let Ok(Some(s)) = store.chat_session(&b.id, &key) {
        return Ok((s, false));
    }
    let s = b
        .core
        .create_session(&crate::SessionRequest {
            agent: Some(b.cfg.agent_id().to_string()),
            title: Some(title(m)),
            ..Default::default()
        })
        .map_err(|e| format!("⚠️ Cannot start a conversation: {e}"))?;
    store
        .set_chat_session(&b.id, &key, &s.id, &title(m))
        .map_err(|e| format!("⚠️ Cannot start a conversation: {e}"))?;
    Ok((s.id, true))
}

/// What the model gets: in a private chat (a paired sender) the text as written; in a group,
/// where anyone in it may write, the text inside an untrusted boundary it cannot close, with
/// who wrote it said by Pryx outside it.
fn prompt(m: &Inbound) -> String {
    match m.chat.kind {
        ChatKind::Private => m.text.clone(),
        ChatKind::Group => format!(
            "A message in the Telegram group \"{}\" from {} (user id {}):\n{}",
            m.chat.title,
            m.sender.display,
            m.sender.id,
            pryx_agent::prompt::untrusted("telegram group message", &m.text)
        ),
    }
}

/// Answers a chat command; `None` when the text is not one of ours (it goes to the agent).
pub(super) async fn command(
    b: &Arc<TelegramBridge>,
    m: &Inbound,
    c: &Command<'_>,
) -> Option<String> {
    let store = b.store();
    let session = store.chat_session(&b.id, &chat_key(m)).ok().flatten();
    Some(match c.name.as_str() {
        "start" | "help" => format!(
            "Pryx agent `{}`. Send a message to talk to it.\n/new starts a new conversation\n/status shows this conversation\n/stop stops the running answer\n/compact summarises older messages of this conversation\n/approve or /deny answers the oldest pending approval",
            b.cfg.agent_id()
        ),
        "new" => match session_for(b, m, true) {
            Ok(_) => "New conversation started.".into(),
            Err(e) => e,
        },
        "stop" => match session.and_then(|s| b.core.running_turn(&s)) {
            Some(turn) => match b.core.cancel_turn(&turn) {
                Ok(_) => "Stopping.".into(),
                Err(_) => "Nothing is running.".into(),
            },
            None => "Nothing is running.".into(),
        },
        "status" => match session.and_then(|s| store.get_session(&s).ok().flatten()) {
            Some(s) => format!(
                "Conversation {}\nagent: {}\nmodel: {}\ntokens: {} in / {} out, cost ${:.4}\n{}",
                s.id,
                s.agent.as_deref().unwrap_or(pryx_config::MAIN_AGENT),
                s.model.as_deref().unwrap_or("(chosen at the first turn)"),
                s.total_tokens_in,
                s.total_tokens_out,
                s.total_cost_usd,
                if b.core.is_busy(&s.id) {
                    "working on an answer"
                } else {
                    "idle"
                }
            ),
            None => "No conversation yet: send a message to start one.".into(),
        },
        "compact" => match session {
            None => "No conversation yet: send a message to start one.".into(),
            Some(s) => match b.core.compact_session(&s).await {
                Ok(done) => format!(
                    "Compacted: {} earlier messages are now a summary (about {} → {} tokens, ${:.4}). They stay saved.",
                    done.messages, done.tokens_before, done.tokens_after, done.cost_usd
                ),
                Err(e) => format!("⚠️ {e}"),
            },
        },
        "approve" | "deny" => super::approvals::by_command(b, m, c.name == "approve"),
        _ => return None,
    })
}

/// Runs the turn for a message; returns the update's note and the replies, or `None` when
/// the core stopped before the turn ended.
pub(super) async fn run(
    b: &Arc<TelegramBridge>,
    m: &Inbound,
) -> Option<(String, Vec<(String, Outgoing)>)> {
    let reply = |text: String| Outgoing {
        reply_to: m.message_id.clone(),
        thread: m.chat.thread.clone(),
        ..Outgoing::plain(text)
    };
    let chat = m.chat.id.clone();
    let (sid, new) = match session_for(b, m, false) {
        Ok(s) => s,
        Err(e) => return Some(("no session".into(), vec![(chat, reply(e))])),
    };
    let mut text = prompt(m);
    if new {
        text.push_str(super::files::OUTBOX_HINT);
    }
    match super::files::receive(b, m, &sid).await {
        Ok(note) => text.push_str(&note),
        Err(e) => {
            return Some((
                "attachment refused".into(),
                vec![(chat, reply(format!("⚠️ {e}")))],
            ));
        }
    }
    let rx = b.core.bus().subscribe();
    let deltas = b.cfg.stream_blocks.then(|| b.core.bus().subscribe());
    let started = match b.core.start_turn(&sid, &text).await {
        Ok(s) => s,
        Err(crate::CoreError::SessionBusy(_)) => {
            let busy = "This conversation is busy with an answer started elsewhere; send it again when it ends.";
            return Some(("session busy".into(), vec![(chat, reply(busy.into()))]));
        }
        Err(e) => {
            return Some((
                "turn refused".into(),
                vec![(chat, reply(format!("⚠️ {e}")))],
            ));
        }
    };
    let typing = typing(b.clone(), chat.clone());
    let streaming = deltas.map(|rx| {
        let target = stream::Target {
            chat: chat.clone(),
            thread: m.chat.thread.clone(),
            reply_to: m.message_id.clone(),
        };
        stream::start(b.clone(), rx, sid.clone(), started.after_version, target)
    });
    let end = b.core.wait_turn_end(rx, &started, &b.cancel).await;
    typing.cancel();
    let sent = match streaming {
        Some(s) => s.stop().await,
        None => String::new(),
    };
    // `None`: the core is stopping; the update stays open and is answered as interrupted next
    // time.
    let end = end?;
    let whole = b.core.turn_answer(&started).unwrap_or_default();
    let answer = pryx_channels::blocks::unsent(&whole, &sent);
    let mut out: Vec<String> = Vec::new();
    let note = match &end {
        TurnEnd::Completed { .. } => "answered",
        TurnEnd::Cancelled { .. } => {
            out.push("Stopped.".into());
            "cancelled"
        }
        TurnEnd::StepLimit { .. } => {
            out.push("(stopped at the step limit)".into());
            "step limit"
        }
        TurnEnd::BudgetExceeded { .. } => {
            out.push("(stopped: the budget is spent)".into());
            "budget"
        }
        TurnEnd::Error { message, .. } => {
            let trace = end
                .short_trace()
                .map(|t| format!(" (trace {t})"))
                .unwrap_or_default();
            out.push(format!("⚠️ The answer failed: {message}{trace}"));
            "failed"
        }
        TurnEnd::Interrupted => {
            out.push("⚠️ The answer was interrupted; send the message again.".into());
            "interrupted"
        }
    };
    let mut replies: Vec<(String, Outgoing)> = chunk::split(answer, MAX_MESSAGE_UNITS)
        .into_iter()
        .map(|c| {
            (
                chat.clone(),
                Outgoing {
                    thread: m.chat.thread.clone(),
                    ..Outgoing::markdown(c)
                },
            )
        })
        .collect();
    if let Some((_, first)) = replies.first_mut().filter(|_| sent.is_empty()) {
        first.reply_to = m.message_id.clone();
    }
    out.extend(b.core.turn_context_note(&started));
    replies.extend(out.into_iter().map(|t| (chat.clone(), reply(t))));
    replies.extend(
        super::files::outgoing(b, &sid, m.update_id)
            .into_iter()
            .map(|o| {
                (
                    chat.clone(),
                    Outgoing {
                        thread: m.chat.thread.clone(),
                        ..o
                    },
                )
            }),
    );
    if replies.is_empty() && sent.is_empty() {
        replies.push((chat, reply("(no answer)".into())));
    }
    Some((note.into(), replies))
}

/// Shows "typing…" until cancelled (Telegram shows it for about 5 s per call).
fn typing(b: Arc<TelegramBridge>, chat: String) -> tokio_util::sync::CancellationToken {
    let stop = b.cancel.child_token();
    let done = stop.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = b.bot.typing(&chat).await {
                tracing::debug!(channel = %b.id, error = %e, "typing indicator failed");
            }
            tokio::select! {
                _ = done.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(4)) => {}
            }
        }
    });
    stop
}
