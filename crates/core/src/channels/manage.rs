//! Channels for every surface: listing them with their live status, adding (a token or
//! signing secret goes to the secret store, never into `config.json`), pausing, removing,
//! checking a token, and the single-use pairing codes that let one new sender in.

use crate::core::Core;
use crate::error::CoreError;
use crate::setup::SetupError;
use pryx_channels::telegram::Bot;
use pryx_config::{Channel, ChannelKind, Edit, Secret, SecretStore};
use pryx_protocol::api::{
    ChannelCreate, ChannelCreated, ChannelOutbox, ChannelState, ChannelTestReport, ChannelView,
    PairedSenderView, PairingCode,
};
use serde_json::Value;

/// How long a pairing code works.
const PAIR_CODE_MINUTES: i64 = 10;
/// Pairing codes: no look-alike characters.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// `XXXX-XXXX` from [`CODE_ALPHABET`].
pub(crate) fn looks_like_pair_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 9
        && b[4] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || CODE_ALPHABET.contains(c))
}

fn new_code() -> Result<String, CoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| CoreError::Internal(format!("the system random source failed: {e}")))?;
    let mut code = String::with_capacity(9);
    for (i, b) in bytes.iter().enumerate() {
        if i == 4 {
            code.push('-');
        }
        code.push(char::from(
            CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()],
        ));
    }
    Ok(code)
}

fn random_secret() -> Result<String, CoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| CoreError::Internal(format!("the system random source failed: {e}")))?;
    Ok(hex::encode(bytes))
}

fn invalid(msg: impl Into<String>) -> CoreError {
    SetupError::Invalid(msg.into()).into()
}

fn one_of(field: &str, v: &Option<String>, allowed: &[&str]) -> Result<Option<Value>, CoreError> {
    match v {
        None => Ok(None),
        Some(s) if allowed.contains(&s.as_str()) => Ok(Some(Value::String(s.clone()))),
        Some(s) => Err(invalid(format!(
            "`{field}` is {s:?}; use one of {}",
            allowed.join(", ")
        ))),
    }
}

impl Core {
    /// Every configured channel with its live status.
    pub fn channels(&self) -> Vec<ChannelView> {
        let snap = self.settings();
        snap.config
            .channels
            .iter()
            .map(|(id, c)| self.view_of(id, c))
            .collect()
    }

    pub fn channel(&self, id: &str) -> Result<ChannelView, CoreError> {
        let snap = self.settings();
        let c = snap
            .config
            .channels
            .get(id)
            .ok_or_else(|| CoreError::ChannelNotFound(id.to_string()))?;
        Ok(self.view_of(id, c))
    }

    fn view_of(&self, id: &str, c: &Channel) -> ChannelView {
        let store = self.store();
        let outbox = store.outbox_counts(id).unwrap_or_default();
        let paired = store
            .paired_senders(id)
            .unwrap_or_default()
            .into_iter()
            .map(|p| PairedSenderView {
                sender_id: p.sender_id,
                display: p.display,
                paired_at: p.paired_at,
            })
            .collect();
        let telegram = c.kind == ChannelKind::Telegram;
        let (state, detail, bot, last_ok_at, last_error, last_filtered) = match self
            .channel_status(id)
        {
            Some(s) => (
                s.state,
                s.detail,
                s.bot,
                s.last_ok_at,
                s.last_error,
                s.last_filtered,
            ),
            None if !c.enabled => (
                ChannelState::Paused,
                "paused; `pryx channels resume` starts it again".into(),
                None,
                None,
                None,
                None,
            ),
            None => (
                ChannelState::Disconnected,
                "not running: channels run inside `pryx serve` (or the core the TUI starts)".into(),
                None,
                None,
                None,
                None,
            ),
        };
        ChannelView {
            id: id.to_string(),
            kind: c.kind.as_str().to_string(),
            enabled: c.enabled,
            agent: c.agent_id().to_string(),
            mode: telegram.then(|| c.mode.as_str().to_string()),
            dm_policy: telegram.then(|| c.dm_policy.as_str().to_string()),
            state,
            detail,
            bot,
            last_ok_at,
            last_error,
            last_filtered,
            outbox: ChannelOutbox {
                queued: outbox.queued,
                sent: outbox.sent,
                failed: outbox.failed,
                maybe_duplicate: outbox.maybe_duplicate,
            },
            paired,
        }
    }

    /// Adds or replaces a channel. For Telegram the token is checked with `getMe` first, so a
    /// typo is caught here rather than in the status later.
    pub async fn put_channel(
        &self,
        body: &ChannelCreate,
        actor: &str,
    ) -> Result<ChannelCreated, CoreError> {
        let id = body.id.trim();
        if !pryx_config::is_name(id) {
            return Err(invalid(format!(
                "channel id {id:?} is not valid; use 1–64 letters, digits, '.', '_' or '-'"
            )));
        }
        let kind = match body.kind.as_str() {
            "telegram" => ChannelKind::Telegram,
            "webhook" => ChannelKind::Webhook,
            other => {
                return Err(invalid(format!(
                    "`kind` is {other:?}; use telegram or webhook"
                )));
            }
        };
        if let Some(agent) = &body.agent {
            self.profile(Some(agent))?;
        }
        let secrets = || {
            SecretStore::open(self.dir())
                .map_err(|e| SetupError::Failed(format!("cannot open the secret store: {e}")))
        };
        let existing = self.settings().config.channels.get(id).cloned();
        let mut entry = serde_json::Map::new();
        entry.insert("kind".into(), Value::String(kind.as_str().into()));
        let mut set = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                entry.insert(k.into(), v);
            }
        };
        set("agent", body.agent.clone().map(Value::String));
        set("mode", one_of("mode", &body.mode, &["polling", "webhook"])?);
        set("webhook_url", body.webhook_url.clone().map(Value::String));
        set("api_base", body.api_base.clone().map(Value::String));
        set(
            "dm_policy",
            one_of(
                "dm_policy",
                &body.dm_policy,
                &["pairing", "allowlist", "open"],
            )?,
        );
        set(
            "group_policy",
            one_of(
                "group_policy",
                &body.group_policy,
                &["mention", "always", "off"],
            )?,
        );
        set(
            "signature",
            one_of("signature", &body.signature, &["pryx", "github", "stripe"])?,
        );
        set("template", body.template.clone().map(Value::String));
        set("callback_url", body.callback_url.clone().map(Value::String));
        set(
            "rate_limit_per_minute",
            body.rate_limit_per_minute.map(Value::from),
        );
        let ids =
            |v: &[String]| Value::Array(v.iter().map(|s| Value::String(s.trim().into())).collect());
        if !body.allow_users.is_empty() {
            set("allow_users", Some(ids(&body.allow_users)));
        }
        if !body.allow_groups.is_empty() {
            set("allow_groups", Some(ids(&body.allow_groups)));
        }
        let mut shown_secret = None;
        let mut bot = None;
        let mut warning = None;
        match kind {
            ChannelKind::Telegram => {
                let token = match (&body.token, &body.token_env) {
                    (Some(t), _) => Some(t.trim().to_string()),
                    (None, Some(var)) => Some(std::env::var(var).map_err(|_| {
                        CoreError::from(SetupError::Unknown(format!(
                            "the environment variable {var} is not set in the core's environment"
                        )))
                    })?),
                    (None, None) => None,
                };
                let reference = match (&token, &body.token_env) {
                    (Some(t), None) => {
                        match check_token(body.api_base.as_deref(), t).await? {
                            TokenCheck::Works(b) => bot = Some(b),
                            TokenCheck::Unchecked(w) => warning = Some(w),
                        }
                        let name = format!("channel.{id}.token");
                        secrets()?
                            .set(&name, &Secret::new(t.as_str()))
                            .map_err(|e| SetupError::Failed(format!("cannot store the token: {e}")))?;
                        self.store().add_secrets([pryx_telemetry::KnownSecret::new(name.clone(), t.as_str())]);
                        format!("secret:{name}")
                    }
                    (Some(t), Some(var)) => {
                        match check_token(body.api_base.as_deref(), t).await? {
                            TokenCheck::Works(b) => bot = Some(b),
                            TokenCheck::Unchecked(w) => warning = Some(w),
                        }
                        format!("env:{var}")
                    }
                    (None, _) => existing
                        .as_ref()
                        .and_then(|c| c.token.clone())
                        .ok_or_else(|| {
                            CoreError::from(SetupError::Unknown(format!(
                                "channel {id} has no bot token yet: give the one from @BotFather (`token` or `token_env`)"
                            )))
                        })?,
                };
                entry.insert("token".into(), Value::String(reference));
                if body.mode.as_deref() == Some("webhook") {
                    let reference = self
                        .channel_secret(id, body.secret.as_deref(), existing.as_ref())?
                        .0;
                    entry.insert("secret".into(), Value::String(reference));
                }
            }
            ChannelKind::Webhook => {
                let (reference, generated) =
                    self.channel_secret(id, body.secret.as_deref(), existing.as_ref())?;
                entry.insert("secret".into(), Value::String(reference));
                shown_secret = generated;
            }
        }
        self.write_config(&[Edit::Set(
            format!("channels[\"{id}\"]"),
            Value::Object(entry),
        )])?;
        self.audit_channel(actor, "channel.configured", id)?;
        self.restart_channel(id);
        let mut channel = self.channel(id)?;
        if channel.bot.is_none() {
            channel.bot = bot;
        }
        Ok(ChannelCreated {
            channel,
            secret: shown_secret,
            warning,
        })
    }

    /// The channel's signing secret: the given one, the one it has, or a new one (returned so
    /// it can be shown once).
    fn channel_secret(
        &self,
        id: &str,
        given: Option<&str>,
        existing: Option<&Channel>,
    ) -> Result<(String, Option<String>), CoreError> {
        if given.is_none()
            && let Some(r) = existing.and_then(|c| c.secret.clone())
        {
            return Ok((r, None));
        }
        let (value, generated) = match given {
            Some(s) if s.trim().len() >= 16 => (s.trim().to_string(), None),
            Some(_) => {
                return Err(invalid(
                    "the signing secret must have at least 16 characters",
                ));
            }
            None => {
                let s = random_secret()?;
                (s.clone(), Some(s))
            }
        };
        let name = format!("channel.{id}.secret");
        SecretStore::open(self.dir())
            .and_then(|s| s.set(&name, &Secret::new(value.as_str())))
            .map_err(|e| SetupError::Failed(format!("cannot store the secret: {e}")))?;
        self.store().add_secrets([pryx_telemetry::KnownSecret::new(
            name.clone(),
            value.as_str(),
        )]);
        Ok((format!("secret:{name}"), generated))
    }

    /// Removes a channel, its stored token and secret, and what it kept (sessions stay).
    pub fn delete_channel(&self, id: &str, actor: &str) -> Result<(), CoreError> {
        if !self.settings().config.channels.contains_key(id) {
            return Err(CoreError::ChannelNotFound(id.to_string()));
        }
        self.write_config(&[Edit::Unset(format!("channels[\"{id}\"]"))])?;
        self.sync_channels();
        if let Ok(store) = SecretStore::open(self.dir()) {
            let _ = store.remove(&format!("channel.{id}.token"));
            let _ = store.remove(&format!("channel.{id}.secret"));
        }
        self.store().forget_channel(id)?;
        self.audit_channel(actor, "channel.removed", id)
    }

    /// Pauses (nothing received or sent) or resumes a channel.
    pub fn set_channel_enabled(
        &self,
        id: &str,
        enabled: bool,
        actor: &str,
    ) -> Result<ChannelView, CoreError> {
        if !self.settings().config.channels.contains_key(id) {
            return Err(CoreError::ChannelNotFound(id.to_string()));
        }
        self.write_config(&[Edit::Set(
            format!("channels[\"{id}\"].enabled"),
            Value::Bool(enabled),
        )])?;
        self.sync_channels();
        self.audit_channel(
            actor,
            if enabled {
                "channel.resumed"
            } else {
                "channel.paused"
            },
            id,
        )?;
        self.channel(id)
    }

    /// A single-use code that pairs the next sender who sends it to the channel.
    pub fn pair_code(&self, id: &str, actor: &str) -> Result<PairingCode, CoreError> {
        let c = self
            .settings()
            .config
            .channels
            .get(id)
            .cloned()
            .ok_or_else(|| CoreError::ChannelNotFound(id.to_string()))?;
        if c.kind != ChannelKind::Telegram {
            return Err(CoreError::Conflict(format!(
                "channel {id} is a webhook; only chat channels pair senders"
            )));
        }
        let code = new_code()?;
        let expires = pryx_store::now_ms() + PAIR_CODE_MINUTES * 60_000;
        self.store().create_pair_code(id, &code, expires)?;
        self.audit_channel(actor, "channel.pair_code", id)?;
        let expires_at = time::OffsetDateTime::from_unix_timestamp(expires / 1000)
            .map(pryx_store::format_ts)
            .unwrap_or_default();
        let bot = self
            .channel_status(id)
            .and_then(|s| s.bot)
            .unwrap_or_else(|| "the bot".into());
        Ok(PairingCode {
            channel: id.to_string(),
            instructions: format!(
                "Send {code} to {bot} on Telegram within {PAIR_CODE_MINUTES} minutes (once; the code then stops working)."
            ),
            code,
            expires_at,
        })
    }

    /// Checks a Telegram channel's token with `getMe`.
    pub async fn test_channel(&self, id: &str) -> Result<ChannelTestReport, CoreError> {
        let c = self
            .settings()
            .config
            .channels
            .get(id)
            .cloned()
            .ok_or_else(|| CoreError::ChannelNotFound(id.to_string()))?;
        match c.kind {
            ChannelKind::Webhook => Ok(ChannelTestReport {
                ok: c.secret.is_some(),
                bot: None,
                message: if c.secret.is_some() {
                    format!("POST signed requests to /hooks/{id}")
                } else {
                    "no signing secret; add the channel again to make one".into()
                },
            }),
            ChannelKind::Telegram => {
                let token = c
                    .token
                    .as_deref()
                    .ok_or_else(|| invalid("no bot token"))
                    .and_then(|r| {
                        SecretStore::open(self.dir())
                            .and_then(|s| s.resolve(r))
                            .map_err(|e| invalid(format!("the bot token cannot be read: {e}")))
                    })?;
                match check_token(c.api_base.as_deref(), token.expose()).await {
                    Ok(TokenCheck::Works(bot)) => Ok(ChannelTestReport {
                        ok: true,
                        message: format!("the token works: {bot}"),
                        bot: Some(bot),
                    }),
                    Ok(TokenCheck::Unchecked(w)) => Ok(ChannelTestReport {
                        ok: false,
                        bot: None,
                        message: w,
                    }),
                    Err(e) => Ok(ChannelTestReport {
                        ok: false,
                        bot: None,
                        message: e.to_string(),
                    }),
                }
            }
        }
    }

    /// An update Telegram POSTed to `/hooks/<id>` (webhook mode): checked against the
    /// channel's `secret_token` in constant time, stored, acknowledged.
    pub fn telegram_webhook(
        &self,
        id: &str,
        secret: Option<&str>,
        body: &[u8],
    ) -> Result<(), CoreError> {
        let bridge = self
            .telegram_intake(id)
            .ok_or_else(|| CoreError::ChannelNotFound(id.to_string()))?;
        bridge.intake(secret, body)
    }

    fn audit_channel(&self, actor: &str, action: &str, id: &str) -> Result<(), CoreError> {
        self.store().append_audit(&pryx_store::AuditEntry {
            actor: actor.into(),
            action: action.into(),
            resource_type: "channel".into(),
            resource_id: Some(id.to_string()),
            session_id: None,
            details: Value::Null,
            outcome: "success".into(),
        })?;
        Ok(())
    }
}

/// `getMe` with `token`: the bot's `@username`, or why the token does not work.
/// What checking a token with `getMe` found.
enum TokenCheck {
    /// The bot's `@username`.
    Works(String),
    /// Telegram could not be reached: not the token's fault; the channel checks it again when
    /// it starts and says so in its status.
    Unchecked(String),
}

async fn check_token(api_base: Option<&str>, token: &str) -> Result<TokenCheck, CoreError> {
    let bot = Bot::new(api_base, token).map_err(|e| invalid(e.to_string()))?;
    match bot.get_me().await {
        Ok(me) => Ok(TokenCheck::Works(me.display())),
        Err(e) if e.is_transient() => Ok(TokenCheck::Unchecked(format!(
            "the bot token could not be checked now ({e}); the channel checks it when it starts — see `pryx channels show`"
        ))),
        Err(e) => Err(invalid(format!("the bot token does not work: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pairing_codes_have_their_shape() {
        for _ in 0..50 {
            let c = new_code().unwrap();
            assert!(looks_like_pair_code(&c), "{c}");
        }
        assert!(!looks_like_pair_code("ABCD1234"));
        assert!(!looks_like_pair_code("abcd-1234"));
        assert!(!looks_like_pair_code("ABCD-1O34"));
    }
}
