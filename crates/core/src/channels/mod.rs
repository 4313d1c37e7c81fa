//! The chat channels and inbound webhooks the core hosts (`channels.<id>` in `config.json`).
//! Each enabled channel runs as a set of tasks owned by the core: Telegram's poller (or its
//! webhook intake), a dispatcher that routes every stored update to its chat's session, and an
//! outbox sender that delivers replies stored before they are sent. [`Core::sync_channels`]
//! starts, restarts and stops them to match the configuration.

mod limits;
mod manage;
mod status;
mod telegram;
pub mod webhook;

use crate::core::Core;
use pryx_config::{Channel, ChannelKind};
use status::StatusCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) use telegram::TelegramBridge;

/// A channel's running tasks.
struct Running {
    config: Channel,
    cancel: CancellationToken,
    handle: JoinHandle<()>,
    status: Arc<StatusCell>,
    /// Telegram: where webhook updates go once the bot is known.
    intake: Arc<std::sync::OnceLock<Arc<TelegramBridge>>>,
    /// Webhook channels: the rate limit and the callback sender's wake-up.
    webhook: Option<Arc<webhook::WebhookRuntime>>,
}

/// The running channels, by id.
#[derive(Default)]
pub(crate) struct Channels {
    running: Mutex<HashMap<String, Running>>,
    /// Channels are started only by the core that owns the data dir.
    hosting: std::sync::atomic::AtomicBool,
}

impl Channels {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Core {
    /// Starts hosting the configured channels (`pryx serve`, which owns the data dir); from
    /// now on [`Core::sync_channels`] keeps them matching the configuration.
    pub fn host_channels(&self) {
        self.inner
            .channels
            .hosting
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.sync_channels();
    }

    /// Starts channels that were added or resumed, restarts changed ones and stops removed or
    /// paused ones. Cheap when nothing changed; called after every change made through the core
    /// and periodically, so hand edits of `config.json` apply too.
    pub fn sync_channels(&self) {
        if !self
            .inner
            .channels
            .hosting
            .load(std::sync::atomic::Ordering::SeqCst)
            || self.is_shutting_down()
        {
            return;
        }
        let wanted = self.settings().config.channels.clone();
        let mut running = self.inner.channels.lock();
        let stale: Vec<String> = running
            .iter()
            .filter(|(id, r)| wanted.get(*id) != Some(&r.config) || r.handle.is_finished())
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            if let Some(r) = running.remove(&id) {
                r.cancel.cancel();
            }
        }
        for (id, cfg) in wanted {
            if running.contains_key(&id) {
                continue;
            }
            let r = self.start_channel(&id, cfg);
            running.insert(id, r);
        }
    }

    /// Stops a channel so the next [`Core::sync_channels`] starts it afresh (its token or
    /// secret changed under the same reference).
    pub(crate) fn restart_channel(&self, id: &str) {
        if let Some(r) = self.inner.channels.lock().remove(id) {
            r.cancel.cancel();
        }
        self.sync_channels();
    }

    fn start_channel(&self, id: &str, cfg: Channel) -> Running {
        let cancel = CancellationToken::new();
        let poll_quiet = (cfg.kind == ChannelKind::Telegram
            && cfg.mode == pryx_config::TelegramMode::Polling)
            .then(|| std::time::Duration::from_secs(cfg.poll_timeout_secs * 2 + 10));
        let status = Arc::new(StatusCell::new(poll_quiet));
        let intake: Arc<std::sync::OnceLock<Arc<TelegramBridge>>> = Arc::default();
        let mut hook = None;
        let handle = if !cfg.enabled {
            status.paused();
            tokio::spawn(async {})
        } else {
            match cfg.kind {
                ChannelKind::Telegram => tokio::spawn(telegram::run(
                    self.clone(),
                    id.to_string(),
                    cfg.clone(),
                    status.clone(),
                    intake.clone(),
                    cancel.clone(),
                )),
                ChannelKind::Webhook => {
                    let rt = Arc::new(webhook::WebhookRuntime::new(&cfg, self.dir()));
                    hook = Some(rt.clone());
                    tokio::spawn(webhook::run(
                        self.clone(),
                        id.to_string(),
                        cfg.clone(),
                        status.clone(),
                        rt,
                        cancel.clone(),
                    ))
                }
            }
        };
        Running {
            config: cfg,
            cancel,
            handle,
            status,
            intake,
            webhook: hook,
        }
    }

    /// Stops every channel (at shutdown), waiting for their tasks a little.
    pub(crate) async fn stop_channels(&self) {
        let handles: Vec<JoinHandle<()>> = {
            let mut running = self.inner.channels.lock();
            running
                .drain()
                .map(|(_, r)| {
                    r.cancel.cancel();
                    r.handle
                })
                .collect()
        };
        for h in handles {
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), h).await;
        }
    }

    fn channel_status(&self, id: &str) -> Option<status::StatusNow> {
        self.inner.channels.lock().get(id).map(|r| r.status.now())
    }

    fn webhook_runtime(&self, id: &str) -> Option<(Arc<webhook::WebhookRuntime>, Arc<StatusCell>)> {
        let running = self.inner.channels.lock();
        let r = running.get(id)?;
        Some((r.webhook.clone()?, r.status.clone()))
    }

    /// Queues a message to a chat of a Telegram channel (a task's notification); returns its
    /// outbox row, whose state says when it was sent. A paused channel keeps it queued.
    pub(crate) fn queue_channel_message(
        &self,
        channel: &str,
        chat: &str,
        text: &str,
    ) -> Result<i64, crate::CoreError> {
        match self.settings().config.channels.get(channel) {
            Some(c) if c.kind == ChannelKind::Telegram => {}
            Some(_) => {
                return Err(crate::CoreError::Unusable(format!(
                    "channel {channel} is not a Telegram channel"
                )));
            }
            None => return Err(crate::CoreError::ChannelNotFound(channel.to_string())),
        }
        let row = self.store().enqueue_outbound(
            channel,
            chat,
            &pryx_channels::Outgoing::markdown(text),
        )?;
        if let Some(b) = self.telegram_intake(channel) {
            b.wake_outbox();
        }
        Ok(row)
    }

    fn telegram_intake(&self, id: &str) -> Option<Arc<TelegramBridge>> {
        self.inner
            .channels
            .lock()
            .get(id)
            .and_then(|r| r.intake.get().cloned())
    }
}
