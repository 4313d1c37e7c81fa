//! `updates`: this version, the channel and release server, whether Pryx checks by itself, a
//! release key other than the built-in one, and how the last update ended (a rollback is a
//! warning with its reason until an update succeeds).

use super::report::Check;
use pryx_config::{Config, DataDir};
use pryx_update::{State, TrustedKey, UpdateOutcome};

const NAME: &str = "updates";

pub fn check(dir: &DataDir, config: Option<&Config>) -> Check {
    let version = pryx_update::current_version();
    let mut message = match config {
        Some(c) => format!(
            "{version} ({} channel, {}; automatic checks {})",
            c.updates.channel,
            c.updates.url,
            if c.updates.auto_check { "on" } else { "off" }
        ),
        None => format!("{version}"),
    };
    match TrustedKey::from_env() {
        Ok(key) if key.overridden => {
            message.push_str(&format!(
                "; release key from {}",
                pryx_update::PUBLIC_KEY_ENV
            ));
        }
        Ok(_) => {}
        Err(e) => {
            return Check::fail(
                NAME,
                e.to_string(),
                "unset it or give a minisign public key",
            );
        }
    }
    let state = State::new(dir.root());
    if let Some(available) = state.newer_available() {
        message.push_str(&format!(
            "; {} is available (found {}; `pryx update` installs it)",
            available.version, available.checked_at
        ));
    }
    match state.last_change() {
        Some(last) if last.outcome == UpdateOutcome::RolledBack => Check::warn(
            NAME,
            format!(
                "{message}; the update to {} was rolled back ({}) on {}",
                last.to, last.detail, last.at
            ),
            "`pryx update --history` has the details; the previous version is running",
        ),
        Some(last) if last.outcome == UpdateOutcome::Installed => Check::ok(
            NAME,
            format!(
                "{message}; updated {} → {} on {}",
                last.from, last.to, last.at
            ),
        ),
        _ => Check::ok(NAME, message),
    }
}
