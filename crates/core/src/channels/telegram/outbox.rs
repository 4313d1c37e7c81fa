//! Delivering the outbox in order: each reply is marked as sending before it goes (so a crash
//! re-sends at most that one, recorded as a possible duplicate), Telegram's `retry_after` is
//! honoured, transient failures back off, and a reply Telegram refuses is recorded as failed
//! with the reason — it never holds up the ones after it.

use super::TelegramBridge;
use crate::channels::limits::Backoff;
use pryx_channels::Outgoing;
use pryx_channels::telegram::ApiError;
use pryx_store::{Outbound, now_ms};
use std::sync::Arc;
use std::time::Duration;

/// Transient failures of one reply before it is given up on.
const MAX_ATTEMPTS: u32 = 12;

pub(super) async fn run(b: Arc<TelegramBridge>) {
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    loop {
        let wake = b.wake_outbox.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let rows: Vec<Outbound<Outgoing>> = match b.store().pending_outbound(&b.id, 50) {
            Ok(r) => r,
            Err(e) => {
                b.status.degraded(&format!("cannot read the outbox: {e}"));
                if !sleep(&b, backoff.step()).await {
                    return;
                }
                continue;
            }
        };
        if rows.is_empty() {
            tokio::select! {
                _ = b.cancel.cancelled() => return,
                _ = wake => {}
            }
            continue;
        }
        for row in rows {
            let due = row.next_attempt_ms - now_ms();
            if due > 0 {
                // In order: the head waits, and so does everything behind it.
                let wait = Duration::from_millis(u64::try_from(due).unwrap_or(0));
                if !sleep(&b, wait).await {
                    return;
                }
            }
            if b.cancel.is_cancelled() {
                return;
            }
            if !deliver(&b, &row, &mut backoff).await {
                break;
            }
        }
    }
}

async fn sleep(b: &TelegramBridge, d: Duration) -> bool {
    tokio::select! {
        _ = b.cancel.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// Sends one reply; `false` when it was put back for later (the rest wait behind it).
async fn deliver(b: &TelegramBridge, row: &Outbound<Outgoing>, backoff: &mut Backoff) -> bool {
    let store = b.store();
    if let Err(e) = store.outbound_sending(row.id) {
        b.status.degraded(&format!("cannot update the outbox: {e}"));
        return false;
    }
    let result = match &row.body.file {
        Some(f) => send_file(b, &row.chat_id, f, &row.body.text).await,
        None => b.bot.send(&row.chat_id, &row.body).await,
    };
    let outcome = match result {
        Ok(sent) => {
            backoff.reset();
            if row.maybe_duplicate {
                tracing::info!(channel = %b.id, reply = row.id, "a reply in flight at the last stop was sent again (it may have arrived twice)");
            }
            b.status
                .ok(if b.cfg.mode == pryx_config::TelegramMode::Polling {
                    "polling"
                } else {
                    "receiving by webhook"
                });
            store.outbound_sent(row.id, Some(&sent.message_id))
        }
        // An edit that changes nothing is done.
        Err(ApiError::Rejected { description, .. })
            if row.body.edit.is_some() && description.contains("message is not modified") =>
        {
            store.outbound_sent(row.id, row.body.edit.as_deref())
        }
        Err(ApiError::RateLimited { retry_after }) => {
            let msg = format!("Telegram asked to wait {retry_after} s before sending");
            b.status.error(&msg);
            let at = now_ms() + i64::try_from(retry_after.max(1) * 1000).unwrap_or(i64::MAX);
            let _ = store.outbound_retry(row.id, at, &msg);
            return false;
        }
        Err(e) if e.is_transient() && row.attempts + 1 < MAX_ATTEMPTS => {
            b.status.degraded(&format!("cannot deliver replies: {e}"));
            let wait = backoff.step();
            let at = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            let _ = store.outbound_retry(row.id, at, &e.to_string());
            return false;
        }
        Err(e) => {
            let msg = format!("a reply was not delivered: {e}");
            tracing::warn!(channel = %b.id, reply = row.id, chat = %row.chat_id, "{msg}");
            b.status.error(&msg);
            store.outbound_failed(row.id, &e.to_string())
        }
    };
    if let Err(e) = outcome {
        tracing::warn!(channel = %b.id, error = %e, "cannot record a delivery");
    }
    true
}

/// Reads a file beneath its workspace (no link followed) and sends it as a document.
async fn send_file(
    b: &TelegramBridge,
    chat: &str,
    f: &pryx_channels::FileRef,
    caption: &str,
) -> Result<pryx_channels::telegram::Sent, ApiError> {
    let (root, path) = (f.root.clone(), f.path.clone());
    let bytes = tokio::task::spawn_blocking(move || {
        pryx_tools::read_beneath(
            std::path::Path::new(&root),
            std::path::Path::new(&path),
            super::files::MAX_SENT_BYTES,
        )
    })
    .await
    .map_err(|e| ApiError::Protocol(format!("reading the file stopped: {e}")))?
    .map_err(|e| ApiError::Rejected {
        code: 400,
        description: format!("{} cannot be read from the workspace: {e}", f.path),
    })?;
    b.bot.send_document(chat, &f.name, bytes, caption).await
}
