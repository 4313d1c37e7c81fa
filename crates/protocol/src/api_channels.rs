//! Chat channels and inbound webhooks (`GET|POST /channels`, `GET|DELETE /channels/{id}`,
//! `POST /channels/{id}/pause|resume|pair|test`): what each is connected to, whether it really
//! works (from its traffic, not from being started), and the pairing codes that let a new
//! sender in. Tokens and signing keys go in and never come back out.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How a channel is doing, judged from its traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelState {
    /// Starting up (checking the token, taking the poller lock).
    Starting,
    /// Its last poll or delivery worked recently.
    Connected,
    /// It runs but its polls or deliveries fail or are overdue; see `last_error`.
    Degraded,
    /// It cannot run (bad token, another poller, missing secret); see `last_error`.
    Disconnected,
    /// Paused by the user: nothing is received or sent.
    Paused,
}

/// Replies by delivery state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChannelOutbox {
    pub queued: u64,
    pub sent: u64,
    /// Given up on (the reason is in the log and the channel's `last_error`).
    pub failed: u64,
    /// Sent again after a restart interrupted their first sending: may have arrived twice.
    pub maybe_duplicate: u64,
}

/// A sender allowed through pairing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PairedSenderView {
    pub sender_id: String,
    pub display: String,
    pub paired_at: String,
}

/// One channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChannelView {
    pub id: String,
    /// `telegram` or `webhook`.
    pub kind: String,
    pub enabled: bool,
    /// The agent its conversations run as.
    pub agent: String,
    /// Telegram: `polling` or `webhook`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Telegram: who may talk (`pairing`, `allowlist`, `open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dm_policy: Option<String>,
    pub state: ChannelState,
    /// One sentence on the state, with what to do when it is not `connected`.
    pub detail: String,
    /// Telegram: the bot's `@username`, once its token was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<String>,
    /// Last successful poll or delivery (RFC 3339 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ok_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The last message not let through, and why (unknown sender, group not allowed, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_filtered: Option<String>,
    pub outbox: ChannelOutbox,
    #[serde(default)]
    pub paired: Vec<PairedSenderView>,
}

/// `GET /channels`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChannelList {
    pub channels: Vec<ChannelView>,
}

/// `POST /channels`: a channel to add (or replace). A token or secret given here goes to the
/// secret store; config keeps only a reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelCreate {
    /// 1–64 letters, digits, `.`, `_` or `-`.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")
    )]
    pub id: String,
    /// `telegram` or `webhook`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(telegram|webhook)$"))]
    pub kind: String,
    /// Telegram: the bot token from @BotFather (`<bot id>:<secret>`); write-only.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 256,
            pattern = "^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$",
            write_only
        )
    )]
    pub token: Option<String>,
    /// Telegram: read the token from this environment variable of the core instead.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 128, pattern = "^[A-Za-z_][A-Za-z0-9_]*$")
    )]
    pub token_env: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")
    )]
    pub agent: Option<String>,
    /// Telegram: `polling` (default) or `webhook`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^(polling|webhook)$"))]
    pub mode: Option<String>,
    /// Telegram webhook mode: the public HTTPS URL that reaches `/hooks/<id>` here.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2000,
            pattern = "^https?://(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?(/[A-Za-z0-9._~%/-]*)?$"
        )
    )]
    pub webhook_url: Option<String>,
    /// Telegram: another Bot API server.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2000,
            pattern = "^https?://(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?(/[A-Za-z0-9._~%/-]*)?$"
        )
    )]
    pub api_base: Option<String>,
    /// Telegram: `pairing` (default), `allowlist` or `open`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^(pairing|allowlist|open)$"))]
    pub dm_policy: Option<String>,
    /// Telegram user ids.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub allow_users: Vec<String>,
    /// Telegram: `mention` (default), `always` or `off`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^(mention|always|off)$"))]
    pub group_policy: Option<String>,
    /// Telegram group chat ids.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub allow_groups: Vec<String>,
    /// Webhook: the HMAC key (generated when absent); write-only.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 16,
            max_length = 1024,
            pattern = "^[\\x21-\\x7e]+$",
            write_only
        )
    )]
    pub secret: Option<String>,
    /// Webhook: `pryx` (default), `github` or `stripe`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^(pryx|github|stripe)$"))]
    pub signature: Option<String>,
    /// Webhook: the prompt, with `{{body}}` filled in.
    #[serde(default)]
    pub template: Option<String>,
    /// Webhook: where answers are POSTed.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2000,
            pattern = "^https?://(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?(/[A-Za-z0-9._~%/-]*)?$"
        )
    )]
    pub callback_url: Option<String>,
    /// Messages per sender per minute.
    #[serde(default, deserialize_with = "crate::whole::option_u32")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub rate_limit_per_minute: Option<u32>,
}

/// `POST /channels` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChannelCreated {
    pub channel: ChannelView,
    /// Webhook: the signing secret when Pryx generated it, shown this once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Saved, but something could not be checked yet (Telegram unreachable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// `POST /channels/{id}/pair` answer: a single-use code for one new sender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PairingCode {
    pub channel: String,
    pub code: String,
    /// RFC 3339 UTC; the code is refused after this.
    pub expires_at: String,
    /// What to tell the person who wants in.
    pub instructions: String,
}

/// `POST /channels/{id}/test` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChannelTestReport {
    pub ok: bool,
    /// Telegram: the bot's `@username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<String>,
    pub message: String,
}
