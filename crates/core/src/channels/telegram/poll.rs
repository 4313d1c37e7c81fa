//! Long polling: `getUpdates` from the stored offset; every update is stored (deduplicated by
//! `update_id`) before the next poll confirms it to Telegram, so a crash at any point loses
//! none and handles none twice.

use super::TelegramBridge;
use crate::channels::limits::Backoff;
use pryx_channels::telegram::{ApiError, ParsedUpdate, normalise, types::Update};
use pryx_store::UpdateState;
use std::sync::Arc;
use std::time::Duration;

/// How long a 409 from another host makes the poller wait: long enough not to fight it.
const CONFLICT_WAIT: Duration = Duration::from_secs(30);

pub(super) async fn run(b: Arc<TelegramBridge>) {
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(15));
    loop {
        let offset = match b.store().channel_offset(&b.id) {
            Ok(o) => o,
            Err(e) => {
                b.status
                    .degraded(&format!("cannot read the update offset: {e}"));
                if !pause(&b, backoff.step()).await {
                    return;
                }
                continue;
            }
        };
        let r = tokio::select! {
            _ = b.cancel.cancelled() => return,
            r = b.bot.get_updates(offset, b.cfg.poll_timeout_secs) => r,
        };
        let wait = match r {
            Ok(updates) => {
                backoff.reset();
                let n = updates.len();
                match store_all(&b, updates) {
                    Ok(()) => b.status.ok("polling"),
                    Err(e) => {
                        // Not confirmed: the next poll from the same offset gets them again.
                        b.status.degraded(&format!("cannot store updates: {e}"));
                        if !pause(&b, backoff.step()).await {
                            return;
                        }
                        continue;
                    }
                }
                if n > 0 {
                    b.wake_dispatch.notify_one();
                }
                continue;
            }
            Err(ApiError::Conflict(desc)) => {
                let msg = if desc.contains("webhook") {
                    format!(
                        "Telegram refuses polling while a webhook is set ({desc}); switch the channel to webhook mode or remove the webhook"
                    )
                } else {
                    format!(
                        "409 from Telegram: another program polls this bot ({desc}); stop it — Pryx waits {} s between tries",
                        CONFLICT_WAIT.as_secs()
                    )
                };
                tracing::warn!(channel = %b.id, "{msg}");
                b.status.degraded(&msg);
                CONFLICT_WAIT
            }
            Err(e @ ApiError::Unauthorized(_)) => {
                b.status.down(&e.to_string());
                return;
            }
            Err(ApiError::RateLimited { retry_after }) => {
                b.status
                    .degraded(&format!("Telegram asks to wait {retry_after} s"));
                Duration::from_secs(retry_after.max(1))
            }
            Err(e) => {
                tracing::debug!(channel = %b.id, error = %e, "poll failed");
                b.status.degraded(&e.to_string());
                backoff.step()
            }
        };
        if !pause(&b, wait).await {
            return;
        }
    }
}

/// Waits, or returns `false` when the channel stops.
async fn pause(b: &TelegramBridge, d: Duration) -> bool {
    tokio::select! {
        _ = b.cancel.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// Stores a page of updates (each once).
fn store_all(
    b: &TelegramBridge,
    updates: Vec<Result<Update, (i64, String)>>,
) -> Result<(), pryx_store::StoreError> {
    for u in updates {
        store_one(b, u)?;
    }
    Ok(())
}

/// Stores one update: a message to handle, or a record of why it is not handled.
pub(super) fn store_one(
    b: &TelegramBridge,
    u: Result<Update, (i64, String)>,
) -> Result<bool, pryx_store::StoreError> {
    let store = b.store();
    let (update_id, parsed) = match u {
        Ok(u) => (u.update_id, normalise(&u, &b.me)),
        Err((id, why)) => (id, ParsedUpdate::Skip(format!("unreadable update: {why}"))),
    };
    match parsed {
        ParsedUpdate::Message(m) => store.record_update(&b.id, update_id, &m.chat.id, &*m),
        ParsedUpdate::Skip(why) => {
            let new = store.record_update(&b.id, update_id, "", &serde_json::Value::Null)?;
            if new {
                tracing::debug!(channel = %b.id, update = update_id, %why, "update skipped");
                store.set_update_state(&b.id, update_id, UpdateState::Ignored, Some(&why))?;
            }
            Ok(new)
        }
    }
}
