//! `channels`: the Telegram bots and webhooks in config, with their live status when a core
//! runs them (from their real traffic), and the settings that let anyone in.

use super::report::Check;
use pryx_config::{Config, DataDir, DmPolicy};
use pryx_protocol::api::{ChannelState, ChannelView};

const NAME: &str = "channels";

pub fn check(dir: &DataDir, config: Option<&Config>) -> Check {
    let Some(config) = config else {
        return Check::ok(NAME, "not checked (config.json is unreadable)");
    };
    if config.channels.is_empty() {
        return Check::ok(NAME, "none (`pryx channels add tg` adds a Telegram bot)");
    }
    let open: Vec<&str> = config
        .channels
        .iter()
        .filter(|(_, c)| c.enabled && c.dm_policy == DmPolicy::Open)
        .map(|(id, _)| id.as_str())
        .collect();
    let live = live(dir);
    let mut lines = Vec::new();
    let mut worst = 0u8;
    let mut hint = String::new();
    for id in config.channels.keys() {
        match live.as_ref().and_then(|l| l.iter().find(|v| &v.id == id)) {
            Some(v) => {
                let (rank, word) = match v.state {
                    ChannelState::Connected | ChannelState::Starting => (0, "ok"),
                    ChannelState::Paused => (0, "paused"),
                    ChannelState::Degraded => (1, "degraded"),
                    ChannelState::Disconnected => (2, "disconnected"),
                };
                lines.push(format!("{id}: {word} — {}", v.detail));
                if rank > worst {
                    worst = rank;
                    hint = format!("`pryx channels show {id}` has the last error; {}", v.detail);
                }
            }
            None => lines.push(format!("{id}: configured (runs in `pryx serve`)")),
        }
    }
    if !open.is_empty() && worst == 0 {
        worst = 1;
        hint = format!(
            "set dm_policy to pairing: `pryx config set channels.{}.dm_policy pairing`",
            open[0]
        );
        lines.push(format!(
            "{}: anyone who finds the bot can talk to the agent (dm_policy open)",
            open.join(", ")
        ));
    }
    let message = lines.join("; ");
    match worst {
        0 => Check::ok(NAME, message),
        1 => Check::warn(NAME, message, hint),
        _ => Check::fail(NAME, message, hint),
    }
}

/// The running core's view, if one answers.
fn live(dir: &DataDir) -> Option<Vec<ChannelView>> {
    super::gateway::ask_core(dir, |c| async move { c.channels().await })
}
