//! What `pryx tasks add` and `edit` are told about a task, turned into its spec: the trigger
//! in the forms people type (`--every 4h`, `--cron … --tz …`, `--on-change GLOB`), a template's
//! prompt and variables, retries, notification targets, and a heartbeat's hours and budget.

use anyhow::{Context, anyhow, bail};
use pryx_protocol::api::{
    CatchUp, HeartbeatSpec, NotifyTarget, NotifyWhen, OnFailure, RetryPolicy, TaskSpec, TaskTrigger,
};
use pryx_scheduler::parse_every;
use std::collections::BTreeMap;

/// What a task is; on `edit`, only what is given changes.
#[derive(Debug, Default, clap::Args)]
pub(super) struct SpecArgs {
    /// What the agent is asked (`{{name}}` is filled from --var name=VALUE).
    #[arg(long)]
    prompt: Option<String>,
    /// Start from a built-in template (`pryx tasks templates` lists them).
    #[arg(long, value_name = "ID")]
    template: Option<String>,
    /// A template variable, `name=value` (repeat for several).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Run every interval: `30m`, `4h`, `1d`, `1h30m`.
    #[arg(long, value_name = "INTERVAL", group = "trigger")]
    every: Option<String>,
    /// Run on a 5-field cron expression (or `@hourly`, `@daily`, …).
    #[arg(long, value_name = "EXPR", group = "trigger")]
    cron: Option<String>,
    /// Run once at a time: `2026-12-01T09:00` (in --tz) or RFC 3339.
    #[arg(long, value_name = "TIME", group = "trigger")]
    at: Option<String>,
    /// Run when files matching this pattern (relative to the workspace) change.
    #[arg(long, value_name = "GLOB", group = "trigger")]
    on_change: Option<String>,
    /// Run on a signed POST to /hooks/tasks/<id> (the signing key is shown once).
    #[arg(long, group = "trigger")]
    webhook: bool,
    /// Run only with `pryx tasks run`.
    #[arg(long, group = "trigger")]
    manual: bool,
    /// The time zone of --cron and --at (an IANA name; default: this machine's).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// With --on-change: how long changes must be quiet before it runs (default 2s).
    #[arg(long, value_name = "DURATION")]
    debounce: Option<String>,
    /// The agent profile that runs it (default `main`).
    #[arg(long)]
    agent: Option<String>,
    /// Runs missed while Pryx was down: `skip`, `run-once` (default) or `run-all`.
    #[arg(long, value_name = "POLICY")]
    catch_up: Option<String>,
    /// Retries of a failed run (default 3).
    #[arg(long)]
    retries: Option<u32>,
    /// The first retry's wait, doubled each time (default 1m).
    #[arg(long, value_name = "DURATION")]
    backoff: Option<String>,
    /// After the last retry fails: `notify` (default), `pause` or `disable`.
    #[arg(long, value_name = "ACTION")]
    on_failure: Option<String>,
    /// Which runs notify: `always` (default), `failure`, `success` or `never`.
    #[arg(long, value_name = "WHEN")]
    notify: Option<String>,
    /// Also notify a Telegram chat: `CHANNEL:CHAT_ID` (repeat for several).
    #[arg(
        long = "notify-telegram",
        value_name = "CHANNEL:CHAT",
        allow_hyphen_values = true
    )]
    notify_telegram: Vec<String>,
    /// Also POST notifications to this URL (repeat for several).
    #[arg(long = "notify-url", value_name = "URL")]
    notify_urls: Vec<String>,
    /// A run going longer is stopped and counts as failed (default 30m).
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Make it the agent's heartbeat: each beat follows the workspace's HEARTBEAT.md and calls
    /// the model only when an item is due or something happened (default every 30m).
    #[arg(long)]
    heartbeat: bool,
    /// Heartbeat: the local hours it beats in, `HH:MM-HH:MM` (in --tz).
    #[arg(long, value_name = "HH:MM-HH:MM")]
    active_hours: Option<String>,
    /// Heartbeat: the most its beats spend per day, in USD (default 0.50).
    #[arg(long, value_name = "USD")]
    daily_budget: Option<f64>,
}

/// A heartbeat's daily budget when none is given, in USD.
const HEARTBEAT_BUDGET: f64 = 0.5;

fn secs(what: &str, v: &str) -> anyhow::Result<u64> {
    parse_every(v).with_context(|| format!("--{what}"))
}

fn pick<T: Copy>(what: &str, v: &str, options: &[(&str, T)]) -> anyhow::Result<T> {
    options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(v))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            anyhow!("--{what} {v:?}: use {}", names.join(", "))
        })
}

impl SpecArgs {
    fn debounce_ms(&self) -> anyhow::Result<u64> {
        Ok(match &self.debounce {
            Some(d) => match d.trim().strip_suffix("ms") {
                Some(n) => n
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("--debounce {d:?}: write e.g. 500ms, 2s or 1m"))?,
                None => secs("debounce", d)? * 1000,
            },
            None => 2000,
        })
    }

    fn trigger(&self) -> anyhow::Result<Option<TaskTrigger>> {
        let debounce_ms = self.debounce_ms()?;
        Ok(if let Some(e) = &self.every {
            Some(TaskTrigger::Every {
                seconds: secs("every", e)?,
            })
        } else if let Some(expr) = &self.cron {
            Some(TaskTrigger::Cron {
                expr: expr.clone(),
                tz: self.tz.clone(),
            })
        } else if let Some(at) = &self.at {
            Some(TaskTrigger::At {
                at: at.clone(),
                tz: self.tz.clone(),
            })
        } else if let Some(glob) = &self.on_change {
            Some(TaskTrigger::FileChange {
                glob: glob.clone(),
                debounce_ms,
            })
        } else if self.webhook {
            Some(TaskTrigger::Webhook)
        } else if self.manual {
            Some(TaskTrigger::Manual)
        } else {
            None
        })
    }

    fn vars(&self) -> anyhow::Result<BTreeMap<String, String>> {
        self.vars
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                    .ok_or_else(|| anyhow!("--var {kv:?}: write it as name=value"))
            })
            .collect()
    }

    /// Applies what was given to `spec`.
    pub(super) fn apply(&self, spec: &mut TaskSpec) -> anyhow::Result<()> {
        if let Some(p) = &self.prompt {
            spec.prompt = p.clone();
        }
        spec.vars.extend(self.vars()?);
        if let Some(t) = self.trigger()? {
            spec.trigger = t;
        } else {
            // Without a new trigger, --tz and --debounce change the one it has (a template's).
            match (&mut spec.trigger, &self.tz, &self.debounce) {
                (TaskTrigger::Cron { tz, .. } | TaskTrigger::At { tz, .. }, Some(z), _) => {
                    *tz = Some(z.clone());
                }
                (TaskTrigger::FileChange { debounce_ms, .. }, _, Some(_)) => {
                    *debounce_ms = self.debounce_ms()?;
                }
                _ => {}
            }
        }
        if let Some(a) = &self.agent {
            spec.agent = Some(a.clone());
        }
        if let Some(c) = &self.catch_up {
            spec.catch_up = pick(
                "catch-up",
                c,
                &[
                    ("skip", CatchUp::Skip),
                    ("run-once", CatchUp::RunOnce),
                    ("run-all", CatchUp::RunAll),
                ],
            )?;
        }
        if let Some(r) = self.retries {
            spec.retry.max_retries = r;
        }
        if let Some(b) = &self.backoff {
            spec.retry.backoff_secs = secs("backoff", b)?;
            spec.retry.max_backoff_secs = spec.retry.max_backoff_secs.max(spec.retry.backoff_secs);
        }
        if let Some(f) = &self.on_failure {
            spec.on_failure = pick(
                "on-failure",
                f,
                &[
                    ("notify", OnFailure::Notify),
                    ("pause", OnFailure::Pause),
                    ("disable", OnFailure::Disable),
                ],
            )?;
        }
        if let Some(n) = &self.notify {
            spec.notify = pick(
                "notify",
                n,
                &[
                    ("always", NotifyWhen::Always),
                    ("failure", NotifyWhen::Failure),
                    ("success", NotifyWhen::Success),
                    ("never", NotifyWhen::Never),
                ],
            )?;
        }
        for t in &self.notify_telegram {
            let (channel, chat) = t
                .rsplit_once(':')
                .ok_or_else(|| anyhow!("--notify-telegram {t:?}: write it as CHANNEL:CHAT_ID"))?;
            spec.notify_targets.push(NotifyTarget::Channel {
                channel: channel.to_string(),
                chat: chat.to_string(),
            });
        }
        for url in &self.notify_urls {
            spec.notify_targets
                .push(NotifyTarget::Webhook { url: url.clone() });
        }
        if let Some(t) = &self.timeout {
            spec.timeout_secs = secs("timeout", t)?;
        }
        if self.heartbeat && spec.heartbeat.is_none() {
            spec.heartbeat = Some(HeartbeatSpec {
                active_hours: None,
                tz: None,
                daily_budget_usd: HEARTBEAT_BUDGET,
            });
        }
        if let Some(hb) = &mut spec.heartbeat {
            if let Some(h) = &self.active_hours {
                hb.active_hours = Some(h.clone()).filter(|h| !h.is_empty());
            }
            if let Some(z) = &self.tz {
                hb.tz = Some(z.clone());
            }
            if let Some(b) = self.daily_budget {
                hb.daily_budget_usd = b;
            }
        } else if self.active_hours.is_some() || self.daily_budget.is_some() {
            bail!("--active-hours and --daily-budget are a heartbeat's: add --heartbeat");
        }
        Ok(())
    }

    /// A new task's spec: the template's (when given) with what was given over it.
    pub(super) fn new_spec(&self, name: &str) -> anyhow::Result<TaskSpec> {
        let mut spec = TaskSpec {
            name: name.to_string(),
            prompt: String::new(),
            vars: BTreeMap::new(),
            agent: None,
            trigger: TaskTrigger::Manual,
            catch_up: CatchUp::default(),
            retry: RetryPolicy::default(),
            on_failure: OnFailure::default(),
            notify: NotifyWhen::default(),
            notify_targets: Vec::new(),
            timeout_secs: 1800,
            heartbeat: None,
        };
        let mut has_trigger = false;
        if let Some(id) = &self.template {
            let t = pryx_scheduler::templates::find(id)
                .ok_or_else(|| anyhow!("no template {id:?}; `pryx tasks templates` lists them"))?;
            spec.vars = pryx_scheduler::templates::vars_for(&t, &self.vars()?)?;
            spec.prompt = t.prompt;
            spec.trigger = t.trigger;
            has_trigger = true;
        }
        if self.heartbeat {
            // A beat that failed is looked at again by the next one; after downtime, one beat.
            spec.trigger = TaskTrigger::Every { seconds: 1800 };
            spec.retry.max_retries = 0;
            spec.catch_up = CatchUp::RunOnce;
            has_trigger = true;
        }
        self.apply(&mut spec)?;
        has_trigger |= self.trigger()?.is_some();
        if spec.prompt.trim().is_empty() && spec.heartbeat.is_none() {
            bail!("give the task's --prompt (or a --template)");
        }
        if !has_trigger {
            bail!(
                "say when it runs: --every 4h, --cron '0 9 * * *', --at 2026-12-01T09:00, \
                 --on-change 'logs/*.log', --webhook or --manual"
            );
        }
        Ok(spec)
    }
}
