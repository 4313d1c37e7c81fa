//! `pryx channels add|list|show|test|pause|resume|rm|pair`: Telegram bots and signed webhooks
//! the core hosts. Through the running core when there is one (its live status included),
//! otherwise on the data dir directly (the channel starts with the next `pryx serve`).

use super::backend::{Backend, local};
use crate::term::{out_raw, say};
use anyhow::{Context, anyhow};
use pryx_protocol::api::{
    ChannelCreate, ChannelCreated, ChannelList, ChannelState, ChannelTestReport, ChannelView,
    PairingCode,
};
use std::process::ExitCode;

const ACTOR: &str = "user:cli";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

// Parsed once per run: the size of the `add` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Add (or replace) a channel. Telegram: the bot token from @BotFather is read hidden from
    /// the terminal, from stdin, or from `--token-env`; it is checked with Telegram and kept in
    /// the secret store.
    Add {
        /// The channel's id (`tg`, `github`, …).
        id: String,
        /// `telegram` or `webhook`.
        #[arg(long, default_value = "telegram")]
        kind: String,
        /// Read the token from this environment variable (and keep reading it there).
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
        /// The agent its conversations run as (default `main`).
        #[arg(long)]
        agent: Option<String>,
        /// Telegram: `polling` (default, nothing needs to reach this machine) or `webhook`.
        #[arg(long)]
        mode: Option<String>,
        /// Telegram webhook mode: the public HTTPS URL that reaches `/hooks/<id>` here.
        #[arg(long)]
        webhook_url: Option<String>,
        /// Telegram: another Bot API server (a self-hosted one).
        #[arg(long, value_name = "URL")]
        api_base: Option<String>,
        /// Telegram: `pairing` (default), `allowlist` or `open`.
        #[arg(long)]
        dm_policy: Option<String>,
        /// Telegram: a user id always allowed (repeat for several).
        #[arg(long = "allow-user", value_name = "ID", allow_hyphen_values = true)]
        allow_users: Vec<String>,
        /// Telegram: `mention` (default), `always` or `off`.
        #[arg(long)]
        group_policy: Option<String>,
        /// Telegram: a group chat id it answers in (repeat for several).
        #[arg(long = "allow-group", value_name = "ID", allow_hyphen_values = true)]
        allow_groups: Vec<String>,
        /// Webhook: `pryx` (default), `github` or `stripe` signature headers.
        #[arg(long)]
        signature: Option<String>,
        /// Webhook: the prompt, with `{{body}}` filled in from the request.
        #[arg(long)]
        template: Option<String>,
        /// Webhook: where answers are POSTed (signed).
        #[arg(long, value_name = "URL")]
        callback_url: Option<String>,
        /// Messages per sender per minute.
        #[arg(long)]
        rate_limit: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// List the channels with their status.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One channel in full: status, last error, filtered senders, outbox, paired senders.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Check the channel's credentials (Telegram: `getMe`).
    Test {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop receiving and sending until resumed.
    Pause { id: String },
    /// Start a paused channel again.
    Resume { id: String },
    /// Remove a channel, its token and what it kept (its conversations stay as sessions).
    Rm { id: String },
    /// Make a single-use code (10 minutes) that lets one new person talk to the agent: they
    /// send it to the bot.
    Pair {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

fn token_from_terminal_or_stdin(
    kind: &str,
    token_env: &Option<String>,
    existing: bool,
) -> anyhow::Result<Option<String>> {
    if kind != "telegram" || token_env.is_some() || existing {
        return Ok(None);
    }
    use std::io::{IsTerminal as _, Read as _};
    let stdin = std::io::stdin();
    let token = if stdin.is_terminal() {
        rpassword::prompt_password("Bot token from @BotFather (input hidden): ")
            .context("cannot read the token from the terminal")?
    } else {
        let mut buf = String::new();
        stdin
            .lock()
            .read_to_string(&mut buf)
            .context("cannot read the token from stdin")?;
        buf
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(anyhow!(
            "no bot token given: type it at the prompt, pipe it on stdin, or name a variable with --token-env VAR (BotFather gives the token when the bot is made)"
        ));
    }
    Ok(Some(token))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let backend = Backend::open().await?;
        match args.command {
            Sub::Add {
                id, kind, token_env, agent, mode, webhook_url, api_base, dm_policy, allow_users,
                group_policy, allow_groups, signature, template, callback_url, rate_limit, json,
            } => {
                let existing = match &backend {
                    Backend::Remote(c) => c.channel(&id).await.is_ok(),
                    Backend::Local(core) => core.channel(&id).is_ok(),
                };
                let token = token_from_terminal_or_stdin(&kind, &token_env, existing)?;
                let body = ChannelCreate {
                    id, kind, token, token_env, agent, mode, webhook_url, api_base, dm_policy,
                    allow_users, group_policy, allow_groups, secret: None, signature, template,
                    callback_url, rate_limit_per_minute: rate_limit,
                };
                let created: ChannelCreated = match &backend {
                    Backend::Remote(c) => c.create_channel(&body).await?,
                    Backend::Local(core) => core.put_channel(&body, ACTOR).await?,
                };
                if json {
                    out_raw(&serde_json::to_string(&created)?);
                } else {
                    let c = &created.channel;
                    say!("added {} ({}{})", c.id, c.kind, c.bot.as_deref().map(|b| format!(", {b}")).unwrap_or_default());
                    if let Some(w) = &created.warning {
                        say!("warning: {w}");
                    }
                    if let Some(secret) = &created.secret {
                        out_raw(secret);
                        say!("the signing secret above is shown only now; sign requests to /hooks/{} with it", c.id);
                    }
                    if c.kind == "telegram" && c.dm_policy.as_deref() == Some("pairing") {
                        say!("to let someone talk to it: `pryx channels pair {}` and have them send the code to the bot", c.id);
                    }
                    if matches!(backend, Backend::Local(_)) {
                        say!("it starts with `pryx serve` (or the core `pryx` starts)");
                    }
                }
            }
            Sub::List { json } => {
                let channels = match &backend {
                    Backend::Remote(c) => c.channels().await?,
                    Backend::Local(core) => local(core, |c| Ok(c.channels())).await?,
                };
                if json {
                    out_raw(&serde_json::to_string(&ChannelList { channels })?);
                } else if channels.is_empty() {
                    say!("no channels; add a Telegram bot with `pryx channels add tg`");
                } else {
                    for c in &channels {
                        say!("{}  {}  {}  agent {}  {}", c.id, c.kind, state_name(c.state), c.agent, c.bot.clone().unwrap_or_default());
                        say!("    {}", c.detail);
                    }
                }
            }
            Sub::Show { id, json } => {
                let c = get(&backend, &id).await?;
                if json {
                    out_raw(&serde_json::to_string(&c)?);
                } else {
                    show(&c);
                }
            }
            Sub::Test { id, json } => {
                let r: ChannelTestReport = match &backend {
                    Backend::Remote(c) => c.test_channel(&id).await?,
                    Backend::Local(core) => core.test_channel(&id).await?,
                };
                if json {
                    out_raw(&serde_json::to_string(&r)?);
                } else {
                    say!("{}: {}", if r.ok { "ok" } else { "failed" }, r.message);
                }
                return Ok(if r.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE });
            }
            Sub::Pause { id } => {
                let c = set_enabled(&backend, &id, false).await?;
                say!("paused {}; `pryx channels resume {}` starts it again", c.id, c.id);
            }
            Sub::Resume { id } => {
                let c = set_enabled(&backend, &id, true).await?;
                say!("resumed {} ({})", c.id, state_name(c.state));
            }
            Sub::Rm { id } => {
                match &backend {
                    Backend::Remote(c) => c.delete_channel(&id).await?,
                    Backend::Local(core) => {
                        let owned = id.clone();
                        local(core, move |c| c.delete_channel(&owned, ACTOR)).await?
                    }
                }
                say!("removed {id}; its conversations stay as sessions");
            }
            Sub::Pair { id, json } => {
                let code: PairingCode = match &backend {
                    Backend::Remote(c) => c.pair_channel(&id).await?,
                    Backend::Local(core) => {
                        let owned = id.clone();
                        local(core, move |c| c.pair_code(&owned, ACTOR)).await?
                    }
                };
                if json {
                    out_raw(&serde_json::to_string(&code)?);
                } else {
                    out_raw(&code.code);
                    say!("{}", code.instructions);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn get(backend: &Backend, id: &str) -> anyhow::Result<ChannelView> {
    Ok(match backend {
        Backend::Remote(c) => c.channel(id).await?,
        Backend::Local(core) => {
            let owned = id.to_string();
            local(core, move |c| c.channel(&owned)).await?
        }
    })
}

async fn set_enabled(backend: &Backend, id: &str, enabled: bool) -> anyhow::Result<ChannelView> {
    Ok(match backend {
        Backend::Remote(c) => c.set_channel_enabled(id, enabled).await?,
        Backend::Local(core) => {
            let owned = id.to_string();
            local(core, move |c| c.set_channel_enabled(&owned, enabled, ACTOR)).await?
        }
    })
}

fn state_name(s: ChannelState) -> &'static str {
    match s {
        ChannelState::Starting => "starting",
        ChannelState::Connected => "connected",
        ChannelState::Degraded => "degraded",
        ChannelState::Disconnected => "disconnected",
        ChannelState::Paused => "paused",
    }
}

fn show(c: &ChannelView) {
    say!("{} ({}) — {}", c.id, c.kind, state_name(c.state));
    say!("  {}", c.detail);
    if let Some(b) = &c.bot {
        say!("  bot: {b}");
    }
    say!("  agent: {}", c.agent);
    if let Some(m) = &c.mode {
        say!("  mode: {m}");
    }
    if let Some(p) = &c.dm_policy {
        say!("  who may talk: {p}");
    }
    say!(
        "  last success: {}",
        c.last_ok_at.as_deref().unwrap_or("never")
    );
    if let Some(e) = &c.last_error {
        say!("  last error: {e}");
    }
    if let Some(f) = &c.last_filtered {
        say!("  last filtered: {f}");
    }
    let o = &c.outbox;
    say!(
        "  replies: {} queued, {} sent, {} failed, {} possibly duplicated",
        o.queued,
        o.sent,
        o.failed,
        o.maybe_duplicate
    );
    if c.paired.is_empty() {
        say!("  paired: nobody yet");
    } else {
        for p in &c.paired {
            say!(
                "  paired: {} ({}) since {}",
                p.display,
                p.sender_id,
                p.paired_at
            );
        }
    }
}
