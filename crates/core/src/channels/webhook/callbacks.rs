//! Callbacks: each request's answer POSTed to the channel's `callback_url`, signed like a Pryx
//! request with the channel's secret, in order, retried with backoff on 5xx, 429 and network
//! errors; every one recorded as delivered or failed with the reason.

use super::jobs::Callback;
use super::{WebhookRuntime, now_secs};
use crate::channels::limits::Backoff;
use crate::channels::status::StatusCell;
use crate::core::Core;
use pryx_channels::webhook;
use pryx_config::Channel;
use pryx_store::{Outbound, now_ms};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Attempts before a callback is given up on.
const MAX_ATTEMPTS: u32 = 8;

pub(super) async fn run(
    core: &Core,
    id: &str,
    cfg: &Channel,
    status: &Arc<StatusCell>,
    runtime: &Arc<WebhookRuntime>,
    cancel: &CancellationToken,
) {
    let Some(url) = cfg.callback_url.clone() else {
        return;
    };
    let http = match pryx_http::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            status.down(&format!("cannot make an HTTP client: {e}"));
            return;
        }
    };
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        let wake = runtime.wake_callbacks.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let rows: Vec<Outbound<Callback>> =
            core.store().pending_outbound(id, 20).unwrap_or_default();
        if rows.is_empty() {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = wake => {}
            }
            continue;
        }
        for row in rows {
            let due = row.next_attempt_ms - now_ms();
            if due > 0 {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(u64::try_from(due).unwrap_or(0))) => {}
                }
            }
            let store = core.store();
            let _ = store.outbound_sending(row.id);
            let secret = runtime.secret();
            let body = serde_json::to_vec(&row.body).unwrap_or_default();
            let ts = now_secs();
            let mut req = http
                .post(&url)
                .header("content-type", "application/json")
                .header(webhook::TIMESTAMP_HEADER, ts.to_string())
                .header(webhook::REQUEST_ID_HEADER, format!("callback-{}", row.id));
            if let Some(s) = &secret {
                req = req.header(
                    webhook::SIGNATURE_HEADER,
                    webhook::sign(s.expose().as_bytes(), ts, &body),
                );
            }
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = req.body(body).send() => r,
            };
            let outcome = match result {
                Ok(r) if r.status().is_success() => {
                    backoff.reset();
                    status.ok("callbacks delivered");
                    store.outbound_sent(row.id, Some(&r.status().as_u16().to_string()))
                }
                Ok(r) => {
                    let s = r.status();
                    let why = format!("the callback URL answered {s}");
                    retry(
                        core,
                        status,
                        &row,
                        &why,
                        s.is_server_error() || s.as_u16() == 429,
                        &mut backoff,
                    )
                }
                Err(e) => {
                    let why = format!("the callback URL cannot be reached: {}", e.without_url());
                    retry(core, status, &row, &why, true, &mut backoff)
                }
            };
            if let Err(e) = outcome {
                tracing::warn!(channel = %id, error = %e, "cannot record a callback delivery");
            }
        }
    }
}

fn retry(
    core: &Core,
    status: &StatusCell,
    row: &Outbound<Callback>,
    why: &str,
    transient: bool,
    backoff: &mut Backoff,
) -> Result<(), pryx_store::StoreError> {
    if transient && row.attempts + 1 < MAX_ATTEMPTS {
        status.degraded(why);
        let at = now_ms() + i64::try_from(backoff.step().as_millis()).unwrap_or(i64::MAX);
        core.store().outbound_retry(row.id, at, why)
    } else {
        status.error(&format!("a callback was not delivered: {why}"));
        core.store().outbound_failed(row.id, why)
    }
}
