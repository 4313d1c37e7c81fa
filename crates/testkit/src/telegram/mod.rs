//! A Telegram Bot API for the channel tests: the npm `telegram-test-api` emulator (from
//! `testdeps/`) behind a shim that gives it the real API's behaviour where the tests depend on
//! it: `getUpdates` with `offset` confirmation, `limit` and `timeout` long polls, a 409 for an
//! overlapping poll, webhooks with the secret header, `sendChatAction`, `answerCallbackQuery`,
//! files (`sendDocument`/`sendPhoto` uploads, `getFile`, downloads), and injected faults (429
//! with `retry_after`, a 409 from another host, 5xx or reset connections for a while).
//!
//! A bot under test uses [`TelegramEmulator::api_base`] as its Telegram server. Tests act as
//! users ([`TelegramEmulator::send_private_text`], [`TelegramEmulator::press_button`]...) and
//! wait on the [`Journal`] of what the bot did ([`TelegramEmulator::wait_for`]).
//!
//! Answers the shim passes on from the emulator unchanged, which differ from the real API (a
//! bot client must parse them leniently):
//! - `sendMessage`'s message echoes its parameters (`chat_id` as sent, a number or a string,
//!   `parse_mode`, `reply_markup` but only an inline keyboard), has no `from`, its `date` is in
//!   milliseconds, and its `chat` is `{"id", "first_name": "Bot", "type": "private"}` whatever
//!   the chat. It accepts a message without `text`.
//! - `editMessageText` and `editMessageReplyMarkup` answer `"result": null` (the real API: the
//!   edited message, or `true`), and never "message is not modified" or "message to edit not
//!   found".
//! - `getMe` answers `{"id": 666, "username": "TestNameBot", "first_name": ...}` without
//!   `is_bot` or the `can_*` fields.
//! - Updates' messages carry an extra `botToken` field; callback queries have no
//!   `chat_instance`; update ids are shared with the bot's message counter, so they increase
//!   with gaps.
//! - An unknown method, or an error, answers HTTP 500 `{"message": "..."}` without `ok`.
//! - `deleteMessage` works; `sendDocument`/`sendPhoto` here take their message id from an
//!   emulator text message whose `text` is the caption (the shim replaces it with the file).
//!
//! The shim never polls the emulator: every update enters through the user-side methods, which
//! pull it from the emulator's `getUpdates` right after sending it (the emulator marks it read,
//! so nothing else sees it there), and waiters wake on the shim's own change notifications.
//!
//! Simplifications of the shim: one bot token per emulator (others get 401); webhook URLs may
//! be plain `http://`; webhook deliveries go one at a time; a 409 for an overlapping poll is
//! counted when the earlier request was still pending at the shim (a client that went away
//! unnoticed by the server in the same instant would be counted too).

mod faults;
mod files;
mod messages;
mod node;
mod params;
mod shim;
mod state;
mod updates;
mod user;
mod waits;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

pub use faults::Outage;
pub use node::{TESTDEPS_ENV, testdeps};
pub use state::{
    ApiCall, BotMessage, CallbackAnswer, ChatAction, Edit, InlineButton, Journal, RetryAfterCheck,
    SentFile, WebhookDelivery, WebhookSecret,
};
pub use user::{ChatKind, TgChat, TgUser};

use state::{Shared, Termination};

/// The token [`TelegramEmulator::start`] serves.
pub const DEFAULT_TOKEN: &str = "7000000001:AAEpryx-emulator-token_000000000000";

/// The bot's username as the emulator's `getMe` reports it.
pub const BOT_USERNAME: &str = "TestNameBot";

/// Why the emulator could not start or act.
#[derive(Debug)]
pub enum TelegramError {
    /// `node` or `telegram-test-api` is not under this `testdeps/node_modules`.
    NotInstalled(PathBuf),
    Emulator(String),
    Io(std::io::Error),
    NoSuchMessage(i64, i64),
    NoSuchButton(String),
}

impl std::fmt::Display for TelegramError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TelegramError::NotInstalled(dir) => write!(
                f,
                "telegram-test-api is not installed under {}; scripts/test.sh installs it (or `npm ci` in testdeps/)",
                dir.display()
            ),
            TelegramError::Emulator(e) => write!(f, "Telegram emulator: {e}"),
            TelegramError::Io(e) => write!(f, "Telegram emulator: {e}"),
            TelegramError::NoSuchMessage(chat, id) => {
                write!(f, "the bot sent no message {id} to chat {chat}")
            }
            TelegramError::NoSuchButton(data) => {
                write!(f, "the message has no button with callback_data {data:?}")
            }
        }
    }
}

impl std::error::Error for TelegramError {}

/// The emulator and its shim; both stop when this is dropped.
#[derive(Debug)]
pub struct TelegramEmulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    node: node::NodeEmulator,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for TelegramEmulator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl TelegramEmulator {
    /// Starts the emulator and the shim for [`DEFAULT_TOKEN`] on free loopback ports.
    pub async fn start() -> Result<TelegramEmulator, TelegramError> {
        Self::start_with_token(DEFAULT_TOKEN).await
    }

    pub async fn start_with_token(token: &str) -> Result<TelegramEmulator, TelegramError> {
        let node = node::NodeEmulator::start().await?;
        let http = pryx_http::builder()
            .no_proxy()
            .build()
            .map_err(|e| TelegramError::Emulator(e.to_string()))?;
        let emulator_url = format!("http://127.0.0.1:{}", node.port);
        let shared = Arc::new(Shared::new(token.to_owned(), emulator_url, http));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(TelegramError::Io)?;
        let addr = listener.local_addr().map_err(TelegramError::Io)?;
        let listener = faults::ShimListener {
            inner: listener,
            shared: shared.clone(),
        };
        let app = shim::router(shared.clone());
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let webhooks = tokio::spawn(updates::webhook_loop(shared.clone()));
        Ok(TelegramEmulator {
            shared,
            addr,
            node,
            tasks: vec![serve, webhooks],
        })
    }

    /// Starts the emulator, or reports the test as skipped (`SKIPPED: ...` on stderr) and
    /// returns `None` when the package is not installed and [`TESTDEPS_ENV`] is unset. With
    /// [`TESTDEPS_ENV`] set (as `scripts/test.sh` does) a missing package fails the test, so
    /// the suite cannot pass without running these tests.
    pub async fn start_or_skip(test: &str) -> Option<TelegramEmulator> {
        Self::start_with_token_or_skip(test, DEFAULT_TOKEN).await
    }

    /// As [`TelegramEmulator::start_or_skip`], serving `token` (bots under test that must not
    /// share a token — one poller per token on a machine — each get their own).
    pub async fn start_with_token_or_skip(test: &str, token: &str) -> Option<TelegramEmulator> {
        match Self::start_with_token(token).await {
            Ok(emulator) => Some(emulator),
            Err(e @ TelegramError::NotInstalled(_)) if std::env::var_os(TESTDEPS_ENV).is_none() => {
                eprintln!("SKIPPED: {test}: {e}");
                None
            }
            Err(e) => panic!("{test}: {e}"),
        }
    }

    /// What a bot uses as Telegram's server: `{base}/bot<token>/<method>` and
    /// `{base}/file/bot<token>/<file_path>`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The emulator itself, behind the shim (its client API, for cross-checks).
    pub fn emulator_url(&self) -> &str {
        &self.shared.emulator_url
    }

    /// The emulator process's id (gone once this is dropped).
    pub fn emulator_pid(&self) -> Option<u32> {
        self.node.pid
    }

    /// What the emulator process printed.
    pub fn emulator_log(&self) -> String {
        self.node
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A copy of everything recorded so far.
    pub fn journal(&self) -> Journal {
        self.shared.lock().journal.clone()
    }

    /// The messages the bot sent to `chat_id`, oldest first, edits applied.
    pub fn bot_messages(&self, chat_id: i64) -> Vec<BotMessage> {
        self.journal()
            .messages_to(chat_id)
            .into_iter()
            .cloned()
            .collect()
    }

    pub fn chat_actions(&self, chat_id: i64) -> Vec<ChatAction> {
        let s = self.shared.lock();
        s.journal
            .chat_actions
            .iter()
            .filter(|a| a.chat_id == chat_id)
            .cloned()
            .collect()
    }

    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.shared.lock().journal.callback_answers.clone()
    }

    /// How many messages (files included) the bot sent to `chat_id`, per the journal.
    pub fn messages_sent(&self, chat_id: i64) -> usize {
        self.shared.lock().journal.messages_to(chat_id).len()
    }

    /// The ids of the updates not confirmed yet (in the queue).
    pub fn pending_updates(&self) -> Vec<i64> {
        self.shared.lock().queue.iter().map(|(id, _)| *id).collect()
    }

    /// Whether a `getUpdates` is waiting at the shim now.
    pub fn poll_pending(&self) -> bool {
        self.shared.lock().journal.poll_waiting
    }

    /// How many messages the emulator stored from the bot for `chat_id`: a count independent
    /// of the shim's journal.
    pub async fn emulator_message_count(&self, chat_id: i64) -> Result<usize, TelegramError> {
        let history: serde_json::Value = self
            .shared
            .http
            .post(format!("{}/getUpdatesHistory", self.shared.emulator_url))
            .json(&serde_json::json!({"token": self.shared.token}))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| TelegramError::Emulator(e.to_string()))?
            .json()
            .await
            .map_err(|e| TelegramError::Emulator(e.to_string()))?;
        let entries = history.get("result").and_then(|r| r.as_array());
        Ok(entries
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| {
                        e.pointer("/message/chat_id")
                            .and_then(|c| c.as_i64().or_else(|| c.as_str()?.parse().ok()))
                            == Some(chat_id)
                    })
                    .count()
            })
            .unwrap_or_default())
    }

    /// The next `n` calls of `method` answer 429 with this `retry_after` (seconds).
    pub fn rate_limit_next(&self, method: &str, n: u32, retry_after: u64) {
        self.shared.update(|s| {
            s.rate_limits
                .insert(method.to_ascii_lowercase(), (n, retry_after))
        });
    }

    /// Another host polls with the same token: the pending `getUpdates`, if any, and the next
    /// ones up to `n` in all, answer 409.
    pub fn conflict_next(&self, n: u32) {
        self.shared.update(|s| {
            let mut left = n;
            if left > 0 && updates::terminate_active_poll(s, Termination::Injected) {
                s.journal.injected_conflicts += 1;
                left -= 1;
            }
            s.conflicts_to_inject = left;
        });
    }

    /// Which secret header the next webhook deliveries carry (a refused delivery is retried
    /// with whatever is chosen by then).
    pub fn send_webhook_secret(&self, secret: WebhookSecret) {
        self.shared.update(|s| s.webhook_secret = secret);
    }

    /// For `duration` from now, every call fails as `kind` says (pending polls included).
    pub fn outage(&self, kind: Outage, duration: Duration) {
        *self
            .shared
            .outage
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((Instant::now() + duration, kind));
        self.shared.notify();
    }

    /// Ends the outage now.
    pub fn end_outage(&self) {
        *self
            .shared
            .outage
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.shared.notify();
    }
}
