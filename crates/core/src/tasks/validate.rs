//! Checking a task before it is stored: every field, the trigger (cron, zone, time, interval,
//! file pattern), the agent and notification targets it names, and the prompt's variables.
//! Whatever is wrong is said with where; nothing is stored then.

use crate::core::Core;
use crate::error::CoreError;
use chrono::{DateTime, Utc};
use pryx_config::ChannelKind;
use pryx_protocol::api::{NotifyTarget, TaskSpec, TaskTrigger};
use pryx_scheduler::{Schedule, ScheduleError, templates};
use std::path::{Component, Path, PathBuf};

const MAX_VARS: usize = 50;
const MAX_PROMPT: usize = 20_000;
const MAX_VAR_VALUE: usize = 10_000;

fn unusable(msg: impl Into<String>) -> CoreError {
    CoreError::Unusable(msg.into())
}

impl From<ScheduleError> for CoreError {
    fn from(e: ScheduleError) -> Self {
        CoreError::Unusable(e.to_string())
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.is_empty()
        && name.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && chars.all(|c| c.is_ascii_alphanumeric() || " ._-".contains(c))
        && !name.ends_with(' ')
}

/// The literal directory a glob starts from (`logs/*.log` → `logs`), and whether it reaches into
/// subdirectories.
pub(super) fn glob_base(glob: &str) -> (PathBuf, bool) {
    let mut base = PathBuf::new();
    let mut parts = glob.split('/').peekable();
    while let Some(p) = parts.next() {
        if parts.peek().is_none() || p.contains(['*', '?', '[', '{']) {
            let deep = p.contains("**") || parts.peek().is_some();
            return (base, deep);
        }
        base.push(p);
    }
    (base, false)
}

impl Core {
    /// Checks `spec` and fills in what it leaves to defaults (a cron's zone: the machine's).
    /// Returns it with its schedule. `now` is when it would be stored.
    pub(super) fn check_task(
        &self,
        mut spec: TaskSpec,
        now: DateTime<Utc>,
        same_task: Option<&str>,
    ) -> Result<(TaskSpec, Schedule), CoreError> {
        spec.name = spec.name.trim().to_string();
        if !valid_name(&spec.name) {
            return Err(CoreError::Invalid(format!(
                "the task name {:?} is not usable: 1–64 letters, digits, spaces, `.`, `_` or `-`",
                spec.name
            )));
        }
        // A heartbeat's prompt only adds to its checklist: it may be empty.
        let empty = spec.prompt.trim().is_empty() && spec.heartbeat.is_none();
        if empty || spec.prompt.len() > MAX_PROMPT {
            return Err(CoreError::Invalid(format!(
                "the prompt must have 1–{MAX_PROMPT} characters"
            )));
        }
        if spec.vars.len() > MAX_VARS {
            return Err(unusable(format!("a task has at most {MAX_VARS} variables")));
        }
        for (k, v) in &spec.vars {
            if k.is_empty()
                || !k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
            {
                return Err(unusable(format!(
                    "variable name {k:?}: use letters, digits, `_` or `-`"
                )));
            }
            if v.len() > MAX_VAR_VALUE {
                return Err(unusable(format!(
                    "variable {k} is longer than {MAX_VAR_VALUE} characters"
                )));
            }
        }
        // A webhook's body fills `{{body}}` when it comes.
        let mut vars = spec.vars.clone();
        if spec.trigger == TaskTrigger::Webhook {
            vars.entry("body".into()).or_default();
        }
        templates::render(&spec.prompt, &vars).map_err(|e| unusable(e.to_string()))?;
        if !(10..=86_400).contains(&spec.timeout_secs) {
            return Err(unusable("timeout_secs must be from 10 to 86400"));
        }
        let r = &spec.retry;
        if r.max_retries > 20 || r.backoff_secs == 0 || r.max_backoff_secs < r.backoff_secs {
            return Err(unusable(
                "retry: at most 20 retries, a backoff of at least 1 s and a cap not below it",
            ));
        }
        let profile = match &spec.agent {
            Some(a) => self
                .profile(Some(a))
                .map_err(|e| unusable(format!("agent {a}: {e}")))?,
            None => self.profile(None)?,
        };
        match &mut spec.trigger {
            TaskTrigger::Cron { tz, .. } if tz.is_none() => {
                *tz = Some(pryx_scheduler::local_zone());
            }
            TaskTrigger::At { tz, .. } if tz.is_none() => {
                *tz = Some(pryx_scheduler::local_zone());
            }
            TaskTrigger::FileChange { glob, debounce_ms } => {
                *glob = glob.trim().to_string();
                self.check_watch(glob, &profile.workspace)?;
                if !(100..=3_600_000).contains(debounce_ms) {
                    return Err(unusable("debounce_ms must be from 100 to 3600000"));
                }
            }
            _ => {}
        }
        if let Some(hb) = &mut spec.heartbeat {
            if !matches!(
                spec.trigger,
                TaskTrigger::Every { .. } | TaskTrigger::Cron { .. } | TaskTrigger::Manual
            ) {
                return Err(unusable(
                    "a heartbeat beats on a schedule: give it an `every` or `cron` trigger",
                ));
            }
            super::heartbeat::check(hb)?;
            let agent = spec.agent.as_deref().unwrap_or(pryx_config::MAIN_AGENT);
            let other = self.store().tasks()?.into_iter().find(|t| {
                t.spec.heartbeat.is_some()
                    && t.spec.agent.as_deref().unwrap_or(pryx_config::MAIN_AGENT) == agent
                    && Some(t.id.as_str()) != same_task
            });
            if let Some(t) = other {
                return Err(CoreError::Conflict(format!(
                    "agent {agent} already has a heartbeat (task {:?}); change that one",
                    t.spec.name
                )));
            }
        }
        let schedule = Schedule::new(&spec.trigger, now)?;
        if let (TaskTrigger::At { at, .. }, Schedule::At(when)) = (&spec.trigger, &schedule)
            && *when <= now
        {
            return Err(ScheduleError::AtInPast {
                at: at.clone(),
                now: now.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            }
            .into());
        }
        for t in &spec.notify_targets {
            self.check_target(t)?;
        }
        if let Some(existing) = self.store().task(&spec.name)?
            && Some(existing.id.as_str()) != same_task
        {
            return Err(CoreError::Conflict(format!(
                "a task named {:?} already exists; pick another name or edit that one",
                spec.name
            )));
        }
        Ok((spec, schedule))
    }

    fn check_target(&self, t: &NotifyTarget) -> Result<(), CoreError> {
        match t {
            NotifyTarget::Channel { channel, chat } => {
                let cfg = self.settings().config.channels.get(channel).cloned();
                match cfg {
                    Some(c) if c.kind == ChannelKind::Telegram => {}
                    Some(_) => {
                        return Err(unusable(format!(
                            "channel {channel} is a webhook channel; notifications go to Telegram chats"
                        )));
                    }
                    None => {
                        return Err(unusable(format!(
                            "no channel {channel}; add it with `pryx channels add` first"
                        )));
                    }
                }
                if chat.parse::<i64>().is_err() {
                    return Err(unusable(format!(
                        "chat {chat:?}: give the Telegram chat id (a number)"
                    )));
                }
            }
            NotifyTarget::Webhook { url } => {
                let ok = reqwest::Url::parse(url)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
                if !ok {
                    return Err(unusable(format!(
                        "notification URL {url:?} is not an http(s) URL"
                    )));
                }
            }
        }
        Ok(())
    }

    /// A file watch must stay inside the agent's workspace and away from the data dir.
    fn check_watch(&self, glob: &str, workspace: &Path) -> Result<(), CoreError> {
        let bad = |why: &str| ScheduleError::Glob {
            glob: glob.to_string(),
            reason: why.to_string(),
        };
        if glob.is_empty() || glob.starts_with('/') || glob.starts_with('~') {
            return Err(bad(
                "give a pattern relative to the agent's workspace (e.g. `logs/*.log`)",
            )
            .into());
        }
        if Path::new(glob)
            .components()
            .any(|c| matches!(c, Component::ParentDir))
        {
            return Err(bad("`..` would leave the workspace").into());
        }
        globset::Glob::new(glob).map_err(|e| bad(&e.to_string()))?;
        let (base, _) = glob_base(glob);
        let dir = workspace.join(&base);
        let real = dir.canonicalize().map_err(|_| {
            bad(&format!(
                "its folder {} does not exist in the workspace {}",
                base.display(),
                workspace.display()
            ))
        })?;
        let ws = workspace
            .canonicalize()
            .unwrap_or_else(|_| workspace.to_path_buf());
        if !real.starts_with(&ws) {
            return Err(bad("its folder leads outside the workspace (a symbolic link?)").into());
        }
        let data = self.dir().root();
        let data = data.canonicalize().unwrap_or_else(|_| data.to_path_buf());
        if real.starts_with(&data) || data.starts_with(&real) && base_reaches(&real, &data, glob) {
            return Err(bad("it would watch Pryx's data dir, which no task may see").into());
        }
        Ok(())
    }
}

/// Whether a watch of `base` with `glob` would see files under `data`.
fn base_reaches(base: &Path, data: &Path, glob: &str) -> bool {
    let (_, deep) = glob_base(glob);
    deep || data.parent() == Some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_glob_bases() {
        assert!(valid_name("Stock watch") && valid_name("a.b-c_d"));
        assert!(!valid_name(" x") && !valid_name("x ") && !valid_name("a/b") && !valid_name(""));
        assert_eq!(glob_base("logs/*.log"), (PathBuf::from("logs"), false));
        assert_eq!(glob_base("src/**/*.rs"), (PathBuf::from("src"), true));
        assert_eq!(glob_base("*.md"), (PathBuf::new(), false));
        assert_eq!(glob_base("a/b/c.txt"), (PathBuf::from("a/b"), false));
        assert_eq!(glob_base("*/x.log"), (PathBuf::new(), true));
    }
}
