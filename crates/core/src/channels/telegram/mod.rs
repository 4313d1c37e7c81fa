//! A Telegram bot hosted by the core: the token is checked (`getMe`), one poller per bot token
//! on the machine (a lock, so Pryx never causes Telegram's 409 itself), updates stored before
//! they are confirmed, routed to one session per chat, answered through the outbox.

mod approvals;
mod dispatch;
mod files;
mod outbox;
mod poll;
mod stream;
mod turn;

use super::limits::{Backoff, RateLimiter};
use super::status::StatusCell;
use crate::core::Core;
use pryx_channels::telegram::{ApiError, Bot, types::User};
use pryx_config::{Channel, SecretStore, TelegramMode};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Everything a running bot's tasks share.
pub(crate) struct TelegramBridge {
    core: Core,
    id: String,
    cfg: Channel,
    bot: Bot,
    me: User,
    status: Arc<StatusCell>,
    /// New updates are stored.
    wake_dispatch: Notify,
    /// New replies are queued.
    wake_outbox: Notify,
    cancel: CancellationToken,
    limiter: Mutex<RateLimiter>,
    /// Senders told how to pair, and when (told again only after a while).
    told_to_pair: Mutex<HashMap<String, std::time::Instant>>,
    /// Updates being handled now.
    busy: Mutex<HashSet<i64>>,
    /// Approval prompts sent, by approval id: the outbox row that carries it.
    prompts: Mutex<HashMap<String, (i64, String)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl TelegramBridge {
    /// New replies were queued from outside the channel (a task's notification).
    pub(crate) fn wake_outbox(&self) {
        self.wake_outbox.notify_one();
    }

    fn store(&self) -> &pryx_store::Store {
        self.core.store()
    }

    /// An update Telegram POSTed in webhook mode: its `X-Telegram-Bot-Api-Secret-Token` must
    /// be the channel's secret (compared in constant time); then it is stored like a polled one.
    pub(crate) fn intake(&self, secret: Option<&str>, body: &[u8]) -> Result<(), crate::CoreError> {
        let refused = || {
            crate::CoreError::Unauthenticated("the webhook secret token is missing or wrong".into())
        };
        let want = webhook_secret(self).ok_or_else(refused)?;
        if !same_secret(secret.unwrap_or(""), &want) {
            tracing::warn!(channel = %self.id, "a webhook request with a wrong secret token was refused");
            return Err(refused());
        }
        let update: pryx_channels::telegram::types::Update = serde_json::from_slice(body)
            .map_err(|e| crate::CoreError::Invalid(format!("not a Telegram update: {e}")))?;
        poll::store_one(self, Ok(update))?;
        self.wake_dispatch.notify_one();
        self.status.ok("receiving by webhook");
        Ok(())
    }
}

/// Equal secrets, compared without an early exit (over their hashes, so lengths leak nothing).
fn same_secret(given: &str, want: &str) -> bool {
    use sha2::Digest;
    let (a, b) = (
        sha2::Sha256::digest(given.as_bytes()),
        sha2::Sha256::digest(want.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The file that makes one poller per bot token on this machine (for this user): named by a
/// hash of the token, in the runtime directory.
fn poller_lock_path(token: &str) -> std::path::PathBuf {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("pryx-telegram-{}.lock", &hash[..24]))
}

/// Runs the bot until `cancel`.
pub(crate) async fn run(
    core: Core,
    id: String,
    cfg: Channel,
    status: Arc<StatusCell>,
    bridge_slot: Arc<OnceLock<Arc<TelegramBridge>>>,
    cancel: CancellationToken,
) {
    let Some(reference) = cfg.token.clone() else {
        status.down(&format!(
            "no bot token; set one with `pryx channels add {id} --kind telegram --token-env VAR`"
        ));
        return;
    };
    let token = match SecretStore::open(core.dir()).and_then(|s| s.resolve(&reference)) {
        Ok(t) => t,
        Err(e) => {
            status.down(&format!(
                "the bot token ({reference}) cannot be read: {e}; set it again with `pryx channels add {id}`"
            ));
            return;
        }
    };
    let token = token.expose().to_string();
    core.store().add_secrets([pryx_telemetry::KnownSecret::new(
        format!("channel.{id}.token"),
        &token,
    )]);
    let bot = match Bot::new(cfg.api_base.as_deref(), &token) {
        Ok(b) => b,
        Err(e) => {
            status.down(&e.to_string());
            return;
        }
    };
    // One poller per token on this machine; webhook mode needs none (Telegram sends to one URL).
    let _lock = if cfg.mode == TelegramMode::Polling {
        match pryx_config::try_lock_path(&poller_lock_path(&token)) {
            Ok(l) => Some(l),
            Err(pryx_config::LockError::Held { holder_pid, .. }) => {
                let who = holder_pid.map_or_else(String::new, |p| format!(" (pid {p})"));
                status.down(&format!(
                    "another Pryx on this machine{who} already polls this bot; Telegram allows one poller per bot, so this one does not poll — remove the channel from one of them"
                ));
                tracing::warn!(channel = %id, "another process polls this bot token; not polling");
                return;
            }
            Err(e) => {
                status.down(&format!("cannot take the poller lock: {e}"));
                return;
            }
        }
    } else {
        None
    };
    let Some(me) = get_me(&bot, &status, &cancel).await else {
        return;
    };
    status.set_bot(me.display());
    let bridge = Arc::new(TelegramBridge {
        limiter: Mutex::new(RateLimiter::new(cfg.rate_limit_per_minute)),
        core,
        id,
        cfg,
        bot,
        me,
        status,
        wake_dispatch: Notify::new(),
        wake_outbox: Notify::new(),
        cancel: cancel.clone(),
        told_to_pair: Mutex::default(),
        busy: Mutex::default(),
        prompts: Mutex::default(),
    });
    if let Err(e) = bridge.store().requeue_in_flight(&bridge.id) {
        tracing::warn!(channel = %bridge.id, error = %e, "cannot requeue replies in flight");
    }
    if !set_mode(&bridge).await {
        return;
    }
    let _ = bridge_slot.set(bridge.clone());
    let tasks = [
        tokio::spawn(outbox::run(bridge.clone())),
        tokio::spawn(dispatch::run(bridge.clone())),
        tokio::spawn(approvals::run(bridge.clone())),
    ];
    if bridge.cfg.mode == TelegramMode::Polling {
        poll::run(bridge.clone()).await;
    } else {
        bridge
            .status
            .ok("waiting for Telegram to deliver updates to the webhook");
        cancel.cancelled().await;
    }
    cancel.cancel();
    for t in tasks {
        let _ = t.await;
    }
}

/// Checks the token, retrying while Telegram is unreachable; `None` when it is refused or the
/// channel stops.
async fn get_me(bot: &Bot, status: &StatusCell, cancel: &CancellationToken) -> Option<User> {
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(15));
    loop {
        let r = tokio::select! {
            _ = cancel.cancelled() => return None,
            r = bot.get_me() => r,
        };
        match r {
            Ok(me) => return Some(me),
            Err(e @ ApiError::Unauthorized(_)) => {
                status.down(&e.to_string());
                return None;
            }
            Err(e) => {
                status.degraded(&e.to_string());
                let wait = match e {
                    ApiError::RateLimited { retry_after } => Duration::from_secs(retry_after),
                    _ => backoff.step(),
                };
                tokio::select! {
                    _ = cancel.cancelled() => return None,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

/// Polling: remove a webhook a previous configuration set (else every poll is a 409).
/// Webhook: register the URL and secret with Telegram.
async fn set_mode(b: &TelegramBridge) -> bool {
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(15));
    loop {
        let r = match b.cfg.mode {
            TelegramMode::Polling => b.bot.delete_webhook().await,
            TelegramMode::Webhook => match (&b.cfg.webhook_url, webhook_secret(b)) {
                (Some(url), Some(secret)) => b.bot.set_webhook(url, &secret).await,
                (None, _) => {
                    b.status.down(&format!(
                        "webhook mode needs `webhook_url`: `pryx config set channels.{}.webhook_url https://…/hooks/{}`",
                        b.id, b.id
                    ));
                    return false;
                }
                (_, None) => {
                    b.status
                        .down("webhook mode needs a `secret`; add the channel again to make one");
                    return false;
                }
            },
        };
        match r {
            Ok(()) => return true,
            Err(e) if e.is_transient() => {
                b.status.degraded(&e.to_string());
                tokio::select! {
                    _ = b.cancel.cancelled() => return false,
                    _ = tokio::time::sleep(backoff.step()) => {}
                }
            }
            Err(e) => {
                b.status.down(&e.to_string());
                return false;
            }
        }
    }
}

/// The webhook mode's `secret_token`, resolved.
fn webhook_secret(b: &TelegramBridge) -> Option<String> {
    let reference = b.cfg.secret.as_ref()?;
    let s = SecretStore::open(b.core.dir())
        .ok()?
        .resolve(reference)
        .ok()?;
    Some(s.expose().to_string())
}
