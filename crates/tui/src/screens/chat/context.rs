//! The session's context in the chat: the status bar's gauge, the warning and compaction
//! notices, and `/context`, `/compact`, `/pin`, `/unpin` and `/fork`.

use super::{ChatState, Level};
use crate::action::{Action, ContextPurpose};
use crate::state::Effect;
use pryx_protocol::{ContextCompacted, ContextSource, ContextWarning, SessionContext};

/// How full the open session's context is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContextGauge {
    pub percent: f64,
    /// At or past this percentage the gauge warns.
    pub warn_at: u8,
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl ChatState {
    /// Keeps the id of message `seq` for the commands that name messages by number.
    pub(super) fn remember_message(&mut self, seq: u64, id: &str, from_user: bool) {
        if !self.messages.iter().any(|(s, ..)| *s == seq) {
            self.messages.push((seq, id.to_string(), from_user));
        }
    }

    pub(super) fn on_context_warning(&mut self, w: &ContextWarning) {
        self.context = Some(ContextGauge {
            percent: w.percent,
            warn_at: self.context.map_or(80, |g| g.warn_at),
        });
        self.notice(
            format!(
                "The context is {:.0}% full ({} of {} tokens). /compact summarises older messages now; at {}% it happens by itself. /pin keeps a message verbatim.",
                w.percent,
                thousands(w.tokens),
                thousands(w.window),
                w.compact_at_percent
            ),
            Level::Info,
        );
    }

    pub(super) fn on_compacted(&mut self, c: &ContextCompacted) {
        if c.window > 0 {
            self.context = Some(ContextGauge {
                percent: (c.tokens_after as f64 * 1000.0 / c.window as f64).round() / 10.0,
                warn_at: self.context.map_or(80, |g| g.warn_at),
            });
        }
        let why = if c.trigger == "auto" {
            "The context was nearly full: "
        } else {
            ""
        };
        self.notice(
            format!(
                "{why}{} earlier messages are now a summary (about {} → {} tokens, ${:.4}). They stay in the session and its exports; pinned ones are kept verbatim.",
                c.messages,
                thousands(c.tokens_before),
                thousands(c.tokens_after),
                c.cost_usd
            ),
            Level::Info,
        );
    }

    /// A context the core sent: the gauge always, and what `/context` or `/compact` asked.
    pub fn on_context(&mut self, ctx: &SessionContext, purpose: ContextPurpose) {
        if self.session_id.as_deref() != Some(ctx.session_id.as_str()) {
            return;
        }
        self.context = Some(ContextGauge {
            percent: ctx.percent,
            warn_at: ctx.warn_at_percent,
        });
        match purpose {
            ContextPurpose::Gauge => {}
            ContextPurpose::Show => {
                let p = &ctx.parts;
                let source = match ctx.source {
                    ContextSource::Provider => "the provider's count",
                    ContextSource::Estimate => "estimated",
                };
                let mut text = format!(
                    "Context: {} of {} tokens ({:.1}%, {source}) on {}. System {} · tools {} · summary {} · pinned {} · messages {} · tool results {}.",
                    thousands(ctx.tokens),
                    thousands(ctx.window),
                    ctx.percent,
                    ctx.model,
                    thousands(p.system),
                    thousands(p.tools),
                    thousands(p.summary),
                    thousands(p.pinned),
                    thousands(p.history),
                    thousands(p.tool_results)
                );
                text.push_str(&format!(
                    " {} of {} messages sent as they are; {} compaction(s); {} old tool result(s) pruned; {} pinned ({} of {} characters).",
                    ctx.messages_sent,
                    ctx.messages,
                    ctx.compactions,
                    ctx.pruned.len(),
                    ctx.pinned.len(),
                    thousands(ctx.pinned_chars),
                    thousands(ctx.pinned_cap)
                ));
                self.notice(text, Level::Info);
            }
            ContextPurpose::Compact => match &ctx.compaction {
                None => {
                    self.compact_pending = false;
                    let why = if ctx.compactions > 0 {
                        "the session is already compact: only its latest request came after the last compaction"
                    } else {
                        "the session holds only its latest request"
                    };
                    self.notice(format!("Nothing to compact: {why}."), Level::Error);
                }
                Some(e) => {
                    self.compact_pending = true;
                    self.notice(
                        format!(
                            "Compacting replaces {} earlier messages with a summary written by {}: about {} tokens in, at most ${:.4}. Type /compact again to go on.",
                            e.messages,
                            e.model,
                            thousands(e.input_tokens),
                            e.cost_usd
                        ),
                        Level::Info,
                    );
                }
            },
        }
    }

    /// The message numbered `arg` (a `seq`), or the default one; a notice when there is none.
    fn message_at(
        &mut self,
        arg: Option<&str>,
        default_user: bool,
        usage: &str,
    ) -> Option<(u64, String)> {
        let found = match arg {
            Some(a) => match a.trim_start_matches('#').parse::<u64>() {
                Ok(seq) => self.messages.iter().find(|(s, ..)| *s == seq),
                Err(_) => {
                    self.notice(format!("Usage: {usage}"), Level::Error);
                    return None;
                }
            },
            None if default_user => self.messages.iter().rev().find(|(_, _, user)| *user),
            None => self.messages.last(),
        };
        match found {
            Some((seq, id, _)) => Some((*seq, id.clone())),
            None => {
                let what = match arg {
                    Some(a) => format!("There is no message {a} in this session"),
                    None => "This session has no message yet".to_string(),
                };
                self.notice(
                    format!("{what}: /context shows how many there are."),
                    Level::Error,
                );
                None
            }
        }
    }

    /// `/context`, `/compact`, `/pin`, `/unpin`, `/fork` and `/processes`.
    pub(super) fn context_command(&mut self, cmd: &str, arg: Option<&str>) -> Vec<Effect> {
        let Some(session_id) = self.session_id.clone() else {
            self.notice("No session yet: send a message first.", Level::Error);
            return vec![];
        };
        let action = match cmd {
            "/processes" => Action::LoadProcesses { session_id },
            "/context" => Action::LoadContext {
                session_id,
                purpose: ContextPurpose::Show,
            },
            "/compact" if self.turn_running => {
                self.notice(
                    "A turn is running: wait for it or cancel it (Esc), then /compact.",
                    Level::Error,
                );
                return vec![];
            }
            "/compact" if self.compact_pending => {
                self.compact_pending = false;
                self.notice("Compacting…", Level::Info);
                Action::CompactSession { session_id }
            }
            "/compact" => Action::LoadContext {
                session_id,
                purpose: ContextPurpose::Compact,
            },
            "/pin" | "/unpin" => {
                let pinned = cmd == "/pin";
                let usage = if pinned {
                    "/pin [message number]"
                } else {
                    "/unpin <message number>"
                };
                if !pinned && arg.is_none() {
                    self.notice(format!("Usage: {usage}"), Level::Error);
                    return vec![];
                }
                let Some((seq, message_id)) = self.message_at(arg, true, usage) else {
                    return vec![];
                };
                Action::PinMessage {
                    session_id,
                    message_id,
                    seq,
                    pinned,
                }
            }
            _ => {
                let message_id = match arg {
                    None => None,
                    Some(_) => match self.message_at(arg, false, "/fork [message number]") {
                        Some((_, id)) => Some(id),
                        None => return vec![],
                    },
                };
                Action::ForkSession {
                    session_id,
                    message_id,
                }
            }
        };
        vec![Effect::Do(action)]
    }

    /// The session's background processes, as `/processes` lists them.
    pub fn on_processes(&mut self, session_id: &str, list: &[pryx_protocol::ProcessView]) {
        if self.session_id.as_deref() != Some(session_id) {
            return;
        }
        if list.is_empty() {
            self.notice("No background processes in this session.", Level::Info);
            return;
        }
        let mut text = String::from("Background processes:");
        for p in list {
            text.push_str(&format!(
                "\n{} · {} · {} · {} lines out, {} err",
                p.id, p.status, p.command, p.stdout_lines, p.stderr_lines
            ));
            for l in p.stdout_tail.iter().rev().take(3).rev() {
                text.push_str(&format!("\n  | {l}"));
            }
            for l in p.stderr_tail.iter().rev().take(3).rev() {
                text.push_str(&format!("\n  ! {l}"));
            }
        }
        self.notice(text, Level::Info);
    }

    /// A pin or unpin the core made.
    pub fn on_pinned(&mut self, seq: u64, pinned: bool) {
        let text = if pinned {
            format!(
                "Pinned message {seq}: it reaches the model verbatim, whatever compaction and pruning do."
            )
        } else {
            format!("Unpinned message {seq}.")
        };
        self.notice(text, Level::Info);
    }
}
