//! What the emulator remembers: the update queue with its confirmation point, the files, the
//! faults to inject, and the journal of what the bot did that tests assert on.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

/// An inline keyboard button of a bot message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineButton {
    pub text: String,
    pub callback_data: Option<String>,
    pub url: Option<String>,
}

/// A file the bot sent (`sendDocument`, `sendPhoto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    /// `document` or `photo`.
    pub kind: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub file_id: String,
}

/// One `editMessageText` / `editMessageReplyMarkup` applied to a bot message.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub method: String,
    pub text: Option<String>,
    pub parse_mode: Option<String>,
    /// The keyboard after the edit (empty when the edit removed it).
    pub buttons: Vec<Vec<InlineButton>>,
    pub at: Instant,
}

/// A message the bot sent, as the user sees it now (edits applied) plus its history.
#[derive(Debug, Clone, PartialEq)]
pub struct BotMessage {
    pub chat_id: i64,
    pub message_id: i64,
    pub text: Option<String>,
    pub parse_mode: Option<String>,
    /// The current inline keyboard, row by row. Like the real API, an `editMessageText`
    /// without `reply_markup` removes it.
    pub buttons: Vec<Vec<InlineButton>>,
    pub reply_to_message_id: Option<i64>,
    pub file: Option<SentFile>,
    pub caption: Option<String>,
    pub edits: Vec<Edit>,
    pub deleted: bool,
    pub sent_at: Instant,
    /// The parameters of the sending call, as the shim parsed them.
    pub params: Value,
    /// The message as the emulator answered it, edits applied: what a button press carries.
    pub raw: Value,
}

impl BotMessage {
    /// Every `callback_data` of the current keyboard.
    pub fn callback_data(&self) -> Vec<&str> {
        self.buttons
            .iter()
            .flatten()
            .filter_map(|b| b.callback_data.as_deref())
            .collect()
    }
}

/// A `sendChatAction` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatAction {
    pub chat_id: i64,
    pub action: String,
    pub at: Instant,
}

/// An `answerCallbackQuery` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackAnswer {
    pub callback_query_id: String,
    pub text: Option<String>,
    pub show_alert: bool,
    pub at: Instant,
}

/// One Bot API call the shim answered (connections dropped by an outage never get here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    pub method: String,
    /// When the request arrived.
    pub at: Instant,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The `retry_after` of a 429 answer.
    pub retry_after: Option<u64>,
}

/// One attempt to POST an update to the webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub update_id: i64,
    /// The bot's HTTP status, or `None` when the request failed (connection refused...).
    pub status: Option<u16>,
    pub error: Option<String>,
    /// The `X-Telegram-Bot-Api-Secret-Token` header sent.
    pub secret_sent: Option<String>,
    pub at: Instant,
}

/// Whether a 429's `retry_after` was waited out before the next call of the same method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryAfterCheck {
    pub method: String,
    pub served_at: Instant,
    pub retry_after: Duration,
    /// When the next call of the method arrived, if one did.
    pub next_call_at: Option<Instant>,
}

impl RetryAfterCheck {
    /// `None` while no later call arrived.
    pub fn honoured(&self) -> Option<bool> {
        self.next_call_at
            .map(|next| next.duration_since(self.served_at) >= self.retry_after)
    }
}

/// Everything the bot did that the emulator saw, for assertions and for [`wait_for`]
/// predicates.
///
/// [`wait_for`]: super::TelegramEmulator::wait_for
#[derive(Debug, Clone, Default)]
pub struct Journal {
    pub bot_messages: Vec<BotMessage>,
    pub chat_actions: Vec<ChatAction>,
    pub callback_answers: Vec<CallbackAnswer>,
    pub calls: Vec<ApiCall>,
    /// The update ids the user side created, in order.
    pub updates_created: Vec<i64>,
    /// How many times each update was handed to the bot (a `getUpdates` answer or a webhook
    /// POST it accepted). More than 1 is legitimate after a restart that had not confirmed it.
    pub deliveries: BTreeMap<i64, u32>,
    /// Deliveries of an update after the bot had confirmed it (an `offset` above its id):
    /// must stay empty.
    pub delivered_after_confirmed: BTreeMap<i64, u32>,
    /// Whether a `getUpdates` is waiting at the shim now.
    pub poll_waiting: bool,
    /// 409s served because a `getUpdates` overlapped one still pending for the same token.
    pub overlap_conflicts: u32,
    /// 409s served on request of the test ("another host polls").
    pub injected_conflicts: u32,
    /// Every update with a smaller id is confirmed (the highest `offset` the bot sent, or one
    /// past the last update its webhook took).
    pub confirmed_below: i64,
    /// Connections reset during a [`Outage::DropConnections`].
    ///
    /// [`Outage::DropConnections`]: super::Outage::DropConnections
    pub dropped_connections: u32,
    pub webhook_deliveries: Vec<WebhookDelivery>,
}

impl Journal {
    /// The messages the bot sent to a chat, oldest first.
    pub fn messages_to(&self, chat_id: i64) -> Vec<&BotMessage> {
        self.bot_messages
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .collect()
    }

    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<&BotMessage> {
        self.bot_messages
            .iter()
            .find(|m| m.chat_id == chat_id && m.message_id == message_id)
    }

    pub fn calls_of(&self, method: &str) -> Vec<&ApiCall> {
        self.calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .collect()
    }

    /// One check per 429 the shim served for `method`.
    pub fn retry_after_checks(&self, method: &str) -> Vec<RetryAfterCheck> {
        let mut calls = self.calls_of(method);
        calls.sort_by_key(|c| c.at);
        calls
            .iter()
            .filter_map(|c| {
                let retry_after = c.retry_after.filter(|_| c.status == 429)?;
                Some(RetryAfterCheck {
                    method: c.method.clone(),
                    served_at: c.at,
                    retry_after: Duration::from_secs(retry_after),
                    next_call_at: calls.iter().map(|n| n.at).find(|at| *at > c.at),
                })
            })
            .collect()
    }
}

/// The `getUpdates` call currently waiting for updates.
#[derive(Debug)]
pub(crate) struct ActivePoll {
    pub id: u64,
}

/// Why a pending `getUpdates` was ended with a 409.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Termination {
    Overlap,
    Injected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Webhook {
    pub url: String,
    pub secret: Option<String>,
    /// Changes on every `setWebhook`, so a delivery in flight knows it went stale.
    pub generation: u64,
}

/// The secret header the shim sends with webhook deliveries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WebhookSecret {
    /// The `secret_token` the bot set (none if it set none).
    #[default]
    AsSet,
    /// A forged value, as from someone who is not Telegram.
    Wrong(String),
    /// No header at all.
    Missing,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_path: String,
    pub bytes: Vec<u8>,
}

/// 429s to serve: method (lower case) → (calls left, retry_after).
pub(crate) type RateLimits = HashMap<String, (u32, u64)>;

#[derive(Debug, Default)]
pub(crate) struct State {
    pub journal: Journal,
    /// Unconfirmed updates, by increasing id.
    pub queue: VecDeque<(i64, Value)>,
    pub active_poll: Option<ActivePoll>,
    pub next_poll_id: u64,
    pub terminated: HashMap<u64, Termination>,
    pub conflicts_to_inject: u32,
    pub rate_limits: RateLimits,
    pub webhook: Option<Webhook>,
    pub webhook_generation: u64,
    pub webhook_last_error: Option<(u64, String)>,
    pub webhook_secret: WebhookSecret,
    pub files: HashMap<String, StoredFile>,
    pub next_file: u64,
    pub callback_ids: HashSet<String>,
}

impl State {
    /// Drops every update below `offset` for good.
    pub fn confirm_below(&mut self, offset: i64) {
        self.journal.confirmed_below = self.journal.confirmed_below.max(offset);
        let below = self.journal.confirmed_below;
        self.queue.retain(|(id, _)| *id >= below);
    }

    pub fn store_file(&mut self, bytes: Vec<u8>, dir: &str, file_name: &str) -> StoredFile {
        self.next_file += 1;
        let n = self.next_file;
        let ext = file_name
            .rsplit_once('.')
            .map(|(_, e)| format!(".{e}"))
            .unwrap_or_default();
        let file = StoredFile {
            file_id: format!("BQACAgIAAxkBAAI-pryx-file-{n}"),
            file_unique_id: format!("AgAD-pryx-{n}"),
            file_path: format!("{dir}/file_{n}{ext}"),
            bytes,
        };
        self.files.insert(file.file_id.clone(), file.clone());
        file
    }
}

/// The shim's state with a version that changes on every mutation, so waiters wake on events.
#[derive(Debug)]
pub(crate) struct Shared {
    pub token: String,
    pub emulator_url: String,
    pub http: reqwest::Client,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    pub outage: Mutex<Option<(Instant, super::Outage)>>,
    /// Serialises the user side: a send and the pull of its update from the emulator.
    pub user_side: tokio::sync::Mutex<()>,
    pub wait_timeout: Mutex<Duration>,
}

impl Shared {
    pub fn new(token: String, emulator_url: String, http: reqwest::Client) -> Shared {
        Shared {
            token,
            emulator_url,
            http,
            state: Mutex::new(State::default()),
            changed: watch::Sender::new(0),
            outage: Mutex::new(None),
            user_side: tokio::sync::Mutex::new(()),
            wait_timeout: Mutex::new(Duration::from_secs(20)),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the state and wakes every waiter.
    pub fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.lock());
        self.notify();
        out
    }

    /// Wakes every waiter after a change made under [`Shared::lock`].
    pub fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The outage in force now, if any.
    pub fn outage_now(&self) -> Option<super::Outage> {
        let outage = self.outage.lock().unwrap_or_else(PoisonError::into_inner);
        outage
            .as_ref()
            .and_then(|(until, kind)| (Instant::now() < *until).then_some(*kind))
    }
}

/// The buttons of a `reply_markup` (none for other keyboards).
pub(crate) fn inline_buttons(markup: Option<&Value>) -> Vec<Vec<InlineButton>> {
    let Some(rows) = markup
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let field = |b: &Value, k: &str| b.get(k).and_then(Value::as_str).map(str::to_owned);
    rows.iter()
        .map(|row| {
            row.as_array()
                .map(|row| {
                    row.iter()
                        .map(|b| InlineButton {
                            text: field(b, "text").unwrap_or_default(),
                            callback_data: field(b, "callback_data"),
                            url: field(b, "url"),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}
