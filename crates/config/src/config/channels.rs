//! `channels.<id>` in `config.json`: the chat channels (Telegram) and inbound webhooks the core
//! hosts, which agent each routes to and who may talk through it. Tokens and signing keys are
//! secret references, never literal values.

use super::schema::{Node, Str, f, opt, req, s};
use serde::{Deserialize, Serialize};

/// What a channel talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// A Telegram bot (Bot API), by long polling or webhook.
    Telegram,
    /// Generic signed webhooks: `POST /hooks/<id>` runs a turn, the answer goes back.
    Webhook,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "telegram",
            ChannelKind::Webhook => "webhook",
        }
    }
}

/// How a Telegram bot receives updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// `getUpdates` from this machine: nothing needs to reach it from outside (the default).
    #[default]
    Polling,
    /// Telegram POSTs updates to `webhook_url` (a tunnel or reverse proxy the user runs).
    Webhook,
}

impl TelegramMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TelegramMode::Polling => "polling",
            TelegramMode::Webhook => "webhook",
        }
    }
}

/// Who may start a conversation in a private chat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmPolicy {
    /// Unknown senders get only a pairing reply until they send a code from `pryx channels pair`.
    #[default]
    Pairing,
    /// Only the ids in `allow_users` (and paired senders).
    Allowlist,
    /// Anyone who finds the bot. Doctor warns about it.
    Open,
}

impl DmPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DmPolicy::Pairing => "pairing",
            DmPolicy::Allowlist => "allowlist",
            DmPolicy::Open => "open",
        }
    }
}

/// When the bot answers in a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupPolicy {
    /// Only when mentioned (`@bot`) or replied to (the default).
    #[default]
    Mention,
    /// Every message of an allowed group.
    Always,
    /// Never in groups.
    Off,
}

/// How an inbound webhook proves where it came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureStyle {
    /// `X-Pryx-Timestamp` + `X-Pryx-Signature: sha256=HMAC(secret, "<timestamp>.<body>")`.
    #[default]
    Pryx,
    /// GitHub's `X-Hub-Signature-256: sha256=HMAC(secret, body)`, replay by `X-GitHub-Delivery`.
    Github,
    /// Stripe's `Stripe-Signature: t=<ts>,v1=HMAC(secret, "<ts>.<body>")`.
    Stripe,
}

/// One channel. Fields that do not apply to its kind are ignored (and checked when it starts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub kind: ChannelKind,
    /// `false` pauses it: nothing is received or sent until it is resumed.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The agent profile its conversations run as; default `main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Telegram: the bot token, as a secret reference (`secret:NAME` or `env:VAR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Telegram: polling (default) or webhook.
    #[serde(default)]
    pub mode: TelegramMode,
    /// Telegram webhook mode: the public HTTPS URL that reaches `/hooks/<id>` here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Telegram: another Bot API server (a local `telegram-bot-api`); default the public one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// Telegram polling: how long one `getUpdates` waits for news.
    #[serde(default = "default_poll_timeout")]
    pub poll_timeout_secs: u64,
    /// Telegram: who may talk in private chats.
    #[serde(default)]
    pub dm_policy: DmPolicy,
    /// Telegram: user ids always allowed (besides paired senders).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_users: Vec<String>,
    /// Telegram: when to answer in groups.
    #[serde(default)]
    pub group_policy: GroupPolicy,
    /// Telegram: chat ids of the groups it answers in; none means no group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_groups: Vec<String>,
    /// Telegram: send an answer paragraph by paragraph while it is written (`false`: whole,
    /// when the turn ends).
    #[serde(default = "yes")]
    pub stream_blocks: bool,
    /// Messages one sender (or one webhook) may send per minute before being asked to slow down.
    #[serde(default = "default_rate")]
    pub rate_limit_per_minute: u32,
    /// Webhook: the HMAC key (Telegram webhook mode: the `secret_token`), a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Webhook: which signature headers to expect.
    #[serde(default)]
    pub signature: SignatureStyle,
    /// Webhook: the prompt, with `{{body}}` (and `{{header.NAME}}`) filled in from the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Webhook: where the answer is POSTed (signed like the request); none: only `?wait=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Webhook: the largest body accepted.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: u64,
}

fn yes() -> bool {
    true
}
fn default_poll_timeout() -> u64 {
    30
}
fn default_rate() -> u32 {
    10
}
fn default_max_body() -> u64 {
    1024 * 1024
}

impl Channel {
    /// A new channel of `kind` with every default.
    pub fn new(kind: ChannelKind) -> Channel {
        Channel {
            kind,
            enabled: true,
            agent: None,
            token: None,
            mode: TelegramMode::Polling,
            webhook_url: None,
            api_base: None,
            poll_timeout_secs: default_poll_timeout(),
            dm_policy: DmPolicy::Pairing,
            allow_users: Vec::new(),
            group_policy: GroupPolicy::Mention,
            allow_groups: Vec::new(),
            stream_blocks: true,
            rate_limit_per_minute: default_rate(),
            secret: None,
            signature: SignatureStyle::Pryx,
            template: None,
            callback_url: None,
            max_body_bytes: default_max_body(),
        }
    }

    /// The agent its conversations run as.
    pub fn agent_id(&self) -> &str {
        self.agent.as_deref().unwrap_or(super::MAIN_AGENT)
    }
}

/// The schema of one `channels.<id>` entry.
pub(crate) fn schema() -> Node {
    let ids = || Node::Array(Box::new(s(Str::Any)));
    Node::Object(vec![
        req("kind", s(Str::OneOf(&["telegram", "webhook"]))),
        f("enabled", Node::Bool),
        f("agent", opt(s(Str::Name))),
        f("token", opt(s(Str::SecretRef))),
        f("mode", s(Str::OneOf(&["polling", "webhook"]))),
        f("webhook_url", opt(s(Str::Url))),
        f("api_base", opt(s(Str::Url))),
        f("poll_timeout_secs", Node::Int { min: 1, max: 50 }),
        f(
            "dm_policy",
            s(Str::OneOf(&["pairing", "allowlist", "open"])),
        ),
        f("allow_users", ids()),
        f("group_policy", s(Str::OneOf(&["mention", "always", "off"]))),
        f("allow_groups", ids()),
        f("stream_blocks", Node::Bool),
        f(
            "rate_limit_per_minute",
            Node::Int {
                min: 1,
                max: 10_000,
            },
        ),
        f("secret", opt(s(Str::SecretRef))),
        f("signature", s(Str::OneOf(&["pryx", "github", "stripe"]))),
        f("template", opt(s(Str::Any))),
        f("callback_url", opt(s(Str::Url))),
        f(
            "max_body_bytes",
            Node::Int {
                min: 1,
                max: 2 * 1024 * 1024,
            },
        ),
    ])
}
