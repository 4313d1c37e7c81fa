//! Routing stored updates: who may talk (pairing, allow-lists, groups), the chat commands, and
//! one worker per chat that runs its messages' turns in order. Commands that must not wait
//! behind a running turn (`/stop`, approvals, button presses, `/status`) are answered at once.

use super::{TelegramBridge, lock, turn};
use crate::channels::limits::Rate;
use pryx_channels::{ChatKind, Inbound, Outgoing};
use pryx_config::{DmPolicy, GroupPolicy};
use pryx_store::{OpenUpdate, UpdateState};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often an unknown sender is told how to pair.
const PAIRING_REPLY_EVERY: Duration = Duration::from_secs(600);

pub(super) async fn run(b: Arc<TelegramBridge>) {
    let mut workers: HashMap<String, mpsc::UnboundedSender<OpenUpdate<Inbound>>> = HashMap::new();
    let mut first = true;
    loop {
        let wake = b.wake_dispatch.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let open: Vec<OpenUpdate<Inbound>> = match b.store().open_updates(&b.id) {
            Ok(o) => o,
            Err(e) => {
                b.status
                    .degraded(&format!("cannot read stored updates: {e}"));
                Vec::new()
            }
        };
        for u in open {
            if !lock(&b.busy).insert(u.update_id) {
                continue;
            }
            if first && u.state == UpdateState::Running {
                // A turn for it was running when the process stopped.
                interrupted(&b, &u);
                continue;
            }
            if is_immediate(&b, &u.payload) {
                let id = u.update_id;
                handle_now(&b, u).await;
                lock(&b.busy).remove(&id);
                continue;
            }
            let chat = u.chat_id.clone();
            let tx = workers
                .entry(chat)
                .or_insert_with(|| spawn_worker(b.clone()));
            if let Err(mpsc::error::SendError(u)) = tx.send(u) {
                lock(&b.busy).remove(&u.update_id);
            }
        }
        first = false;
        tokio::select! {
            _ = b.cancel.cancelled() => return,
            _ = wake => {}
        }
    }
}

fn spawn_worker(b: Arc<TelegramBridge>) -> mpsc::UnboundedSender<OpenUpdate<Inbound>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<OpenUpdate<Inbound>>();
    tokio::spawn(async move {
        loop {
            let u = tokio::select! {
                _ = b.cancel.cancelled() => return,
                u = rx.recv() => match u { Some(u) => u, None => return },
            };
            let id = u.update_id;
            handle_now(&b, u).await;
            lock(&b.busy).remove(&id);
        }
    });
    tx
}

/// Records the end of an update handled by a process that stopped before it finished.
fn interrupted(b: &TelegramBridge, u: &OpenUpdate<Inbound>) {
    let reply = Outgoing::plain(
        "⚠️ Pryx was restarted before it finished answering this message. Send it again to retry.",
    );
    let reply = Outgoing {
        reply_to: u.payload.message_id.clone(),
        ..reply
    };
    finish(
        b,
        u.update_id,
        Some("interrupted by a restart"),
        vec![(u.chat_id.clone(), reply)],
    );
    lock(&b.busy).remove(&u.update_id);
}

/// Marks an update done with its replies, and wakes the outbox.
pub(super) fn finish(
    b: &TelegramBridge,
    update_id: i64,
    note: Option<&str>,
    replies: Vec<(String, Outgoing)>,
) {
    if let Err(e) = b.store().finish_update(&b.id, update_id, note, &replies) {
        tracing::warn!(channel = %b.id, update = update_id, error = %e, "cannot record a handled update");
        b.status
            .error(&format!("cannot record a handled update: {e}"));
    }
    if !replies.is_empty() {
        b.wake_outbox.notify_one();
    }
}

fn ignore(b: &TelegramBridge, update_id: i64, why: &str, visible: bool) {
    if visible {
        tracing::info!(channel = %b.id, update = update_id, "message not let through: {why}");
        b.status.filtered(why);
    }
    if let Err(e) = b
        .store()
        .set_update_state(&b.id, update_id, UpdateState::Ignored, Some(why))
    {
        tracing::warn!(channel = %b.id, error = %e, "cannot record an ignored update");
    }
}

/// A chat command: `/name@bot args`.
pub(super) struct Command<'a> {
    pub name: String,
    pub args: &'a str,
}

pub(super) fn command<'a>(text: &'a str, me: &str) -> Option<Command<'a>> {
    let rest = text.trim_start().strip_prefix('/')?;
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let (name, target) = head.split_once('@').unwrap_or((head, ""));
    if !target.is_empty() && !target.eq_ignore_ascii_case(me) {
        return None;
    }
    Some(Command {
        name: name.to_ascii_lowercase(),
        args: args.trim(),
    })
}

fn is_immediate(b: &TelegramBridge, m: &Inbound) -> bool {
    if m.press.is_some() {
        return true;
    }
    let me = b.me.username.clone().unwrap_or_default();
    command(&m.text, &me).is_some_and(|c| {
        matches!(
            c.name.as_str(),
            "stop" | "approve" | "deny" | "status" | "help" | "start"
        )
    })
}

/// Whether the sender may talk to the agent here.
pub(super) enum Access {
    Allowed,
    /// A private chat with an unknown sender under the pairing policy.
    MustPair,
    /// Not let through; visible in status when `visible`.
    Refused {
        why: String,
        visible: bool,
    },
}

/// Paired or allow-listed (approvals need this even where groups or `open` let anyone talk).
pub(super) fn trusted(b: &TelegramBridge, sender: &str) -> bool {
    b.cfg.allow_users.iter().any(|u| u == sender)
        || b.store().is_paired(&b.id, sender).unwrap_or(false)
}

pub(super) fn access(b: &TelegramBridge, m: &Inbound) -> Access {
    match m.chat.kind {
        ChatKind::Private => {
            if trusted(b, &m.sender.id) {
                return Access::Allowed;
            }
            match b.cfg.dm_policy {
                DmPolicy::Open => Access::Allowed,
                DmPolicy::Pairing => Access::MustPair,
                DmPolicy::Allowlist => Access::Refused {
                    why: format!(
                        "{} ({}) is not in allow_users; add the id with `pryx config set`, or switch dm_policy to pairing",
                        m.sender.display, m.sender.id
                    ),
                    visible: true,
                },
            }
        }
        ChatKind::Group => {
            if b.cfg.group_policy == GroupPolicy::Off {
                return Access::Refused {
                    why: format!(
                        "a message in group {} ({}): group_policy is off",
                        m.chat.title, m.chat.id
                    ),
                    visible: true,
                };
            }
            if !b.cfg.allow_groups.contains(&m.chat.id) {
                return Access::Refused {
                    why: format!(
                        "group {} ({}) is not in allow_groups; add it with `pryx config set channels.{}.allow_groups '[\"{}\"]'`",
                        m.chat.title, m.chat.id, b.id, m.chat.id
                    ),
                    visible: true,
                };
            }
            let me = b.me.username.clone().unwrap_or_default();
            let addressed = m.mentions_bot
                || m.replies_to_bot
                || m.press.is_some()
                || command(&m.text, &me).is_some();
            if b.cfg.group_policy == GroupPolicy::Mention && !addressed {
                return Access::Refused {
                    why: "not addressed to the bot".into(),
                    visible: false,
                };
            }
            Access::Allowed
        }
    }
}

/// Handles one stored update to its end.
async fn handle_now(b: &Arc<TelegramBridge>, u: OpenUpdate<Inbound>) {
    let m = u.payload;
    let id = u.update_id;
    let chat = m.chat.id.clone();
    let reply = |text: String| {
        vec![(
            chat.clone(),
            Outgoing {
                reply_to: m.message_id.clone(),
                thread: m.chat.thread.clone(),
                ..Outgoing::plain(text)
            },
        )]
    };
    // Answering an approval needs a trusted sender wherever the press comes from.
    if let Some(p) = &m.press
        && !trusted(b, &m.sender.id)
        && !(b.cfg.dm_policy == DmPolicy::Open && m.chat.kind == ChatKind::Private)
    {
        let why = format!(
            "{} ({}) pressed a button but is not paired",
            m.sender.display, m.sender.id
        );
        ignore(b, id, &why, true);
        let _ = b
            .bot
            .answer_press(&p.id, "Only a paired user may answer this.")
            .await;
        return;
    }
    match access(b, &m) {
        Access::Refused { why, visible } => {
            ignore(b, id, &why, visible);
            if let Some(p) = &m.press {
                let _ = b.bot.answer_press(&p.id, "You may not answer this.").await;
            }
            return;
        }
        Access::MustPair => {
            let replies = pairing(b, &m);
            finish(b, id, Some("pairing"), replies);
            return;
        }
        Access::Allowed => {}
    }
    if let Some(p) = &m.press {
        let note = super::approvals::press(b, &m, p).await;
        finish(b, id, Some(&note), Vec::new());
        return;
    }
    let me = b.me.username.clone().unwrap_or_default();
    if let Some(c) = command(&m.text, &me)
        && let Some(text) = super::turn::command(b, &m, &c).await
    {
        finish(b, id, Some(&format!("/{}", c.name)), reply(text));
        return;
    }
    match lock(&b.limiter).check(&format!("{}:{}", m.chat.id, m.sender.id)) {
        Rate::Ok => {}
        Rate::JustOver => {
            let text = format!(
                "Slow down: at most {} messages a minute. This one was not handled; send it again in a minute.",
                b.cfg.rate_limit_per_minute
            );
            b.status
                .filtered(&format!("{} is over the rate limit", m.sender.display));
            finish(b, id, Some("rate limited"), reply(text));
            return;
        }
        Rate::Over => {
            ignore(
                b,
                id,
                &format!("{} is over the rate limit", m.sender.display),
                false,
            );
            return;
        }
    }
    if let Err(e) = b
        .store()
        .set_update_state(&b.id, id, UpdateState::Running, None)
    {
        tracing::warn!(channel = %b.id, error = %e, "cannot mark an update as running");
    }
    // `None`: the core is stopping mid-turn; the update stays running and is answered as
    // interrupted by the next start.
    if let Some((note, replies)) = turn::run(b, &m).await {
        finish(b, id, Some(&note), replies);
    }
}

/// An unknown sender under the pairing policy: a code pairs them; anything else gets the
/// instructions (now and then, not to every message).
fn pairing(b: &TelegramBridge, m: &Inbound) -> Vec<(String, Outgoing)> {
    let me = b.me.username.clone().unwrap_or_default();
    let text = match command(&m.text, &me) {
        Some(c) if c.name == "start" || c.name == "pair" => c.args.to_string(),
        _ => m.text.trim().to_string(),
    };
    let code = text.trim().to_ascii_uppercase();
    let plain = |t: &str| vec![(m.chat.id.clone(), Outgoing::plain(t))];
    if crate::channels::manage::looks_like_pair_code(&code)
        && lock(&b.limiter).check(&format!("pair:{}", m.sender.id)) == Rate::Ok
    {
        match b
            .store()
            .redeem_pair_code(&b.id, &code, &m.sender.id, &m.sender.display)
        {
            Ok(true) => {
                tracing::info!(channel = %b.id, sender = %m.sender.id, "sender paired");
                lock(&b.told_to_pair).remove(&m.sender.id);
                return plain("✅ Paired. You can talk to the agent now: send a message.");
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(channel = %b.id, error = %e, "pairing failed"),
        }
    }
    b.status.filtered(&format!(
        "{} ({}) is not paired; they were told how to pair",
        m.sender.display, m.sender.id
    ));
    let mut told = lock(&b.told_to_pair);
    if told
        .get(&m.sender.id)
        .is_some_and(|t| t.elapsed() < PAIRING_REPLY_EVERY)
    {
        return Vec::new();
    }
    told.insert(m.sender.id.clone(), Instant::now());
    plain(&format!(
        "This is a private Pryx agent. To talk to it, ask its owner for a pairing code (they run `pryx channels pair {}`) and send the code here.",
        b.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_with_or_without_the_bot_name() {
        let c = command("/approve@Pryx_Bot now", "pryx_bot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("approve", "now"));
        assert!(command("/stop@other_bot", "pryx_bot").is_none());
        assert_eq!(command("  /NEW", "pryx_bot").unwrap().name, "new");
        assert!(command("not /a command", "pryx_bot").is_none());
    }
}
