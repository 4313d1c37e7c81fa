//! One update run: manifest → offer → download → swap → restart → keep or roll back.

use super::restart::{self, Running};
use crate::term::{say, say_err};
use anyhow::Context;
use pryx_config::DataDir;
use pryx_update::{
    Binary, Channel, Manifest, Offer, Pending, Source, State, TrustedKey, UpdateError,
    UpdateOutcome, UpdateRecord,
};
use std::process::ExitCode;
use std::time::Instant;

pub struct Plan {
    pub dir: DataDir,
    pub base_url: String,
    pub channel: Channel,
    pub version: Option<semver::Version>,
    pub check_only: bool,
    pub restart: bool,
}

pub async fn run(plan: Plan) -> anyhow::Result<ExitCode> {
    let key = TrustedKey::from_env()?;
    if key.overridden {
        say_err!(
            "note: checking signatures with the release key from {} instead of the built-in one",
            pryx_update::PUBLIC_KEY_ENV
        );
    }
    let source = Source::new(&plan.base_url, key)?;
    let current = pryx_update::current_version();
    let state = State::new(plan.dir.root());
    let manifest = match &plan.version {
        Some(v) => source.version_manifest(v).await,
        None => source.channel_manifest(plan.channel).await,
    };
    // Refusals before anything is downloaded are said, not recorded: the history keeps what
    // happened to the binary.
    let (manifest, offer) = match manifest.and_then(|m| {
        let offer = m.offer(&current, pryx_update::TARGET)?;
        Ok((m, offer))
    }) {
        Ok(found) => found,
        Err(e @ UpdateError::Downgrade { .. }) if plan.check_only => {
            say!("No newer release: {e}.");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    let (version, artifact) = match offer {
        Offer::UpToDate => {
            say!(
                "Pryx {current} is up to date ({} channel).",
                manifest.channel
            );
            return Ok(ExitCode::SUCCESS);
        }
        Offer::Newer { version, artifact } => (version, artifact),
    };
    if plan.check_only {
        say!(
            "Update available: {current} → {version} ({} channel, {}). Run `pryx update` to install it.",
            manifest.channel,
            manifest.date
        );
        if !manifest.notes.trim().is_empty() {
            say!("\n{}", manifest.notes.trim());
        }
        return Ok(ExitCode::SUCCESS);
    }

    // One update at a time per data dir: two would race for the same binary and core.
    let _lock = match pryx_config::try_lock(&plan.dir, "update") {
        Ok(guard) => guard,
        Err(pryx_config::LockError::Held { .. }) => {
            anyhow::bail!("another `pryx update` is running on this data dir; let it finish")
        }
        Err(e) => return Err(e).context("cannot take the update lock"),
    };
    let binary = Binary::current()?;
    say!("Downloading Pryx {version} ({} KB)…", artifact.size / 1024);
    let mut last = 0u64;
    let mut report = |p: pryx_update::Progress| {
        let percent = p.done * 100 / p.total.max(1);
        if percent >= last + 10 || p.done == p.total {
            last = percent;
            say_err!("  {percent} %");
        }
    };
    let bytes = match source.download(&artifact, &mut report).await {
        Ok(b) => b,
        Err(e) => {
            record_failure(&state, &current, &version.to_string(), plan.channel, &e);
            return Err(e.into());
        }
    };
    let new_binary = match pryx_update::extract_binary(&bytes) {
        Ok(b) => b,
        Err(e) => {
            record_failure(&state, &current, &version.to_string(), plan.channel, &e);
            return Err(e.into());
        }
    };
    let running = Running::find(&plan.dir).await;
    let staged = binary.stage(&new_binary)?;
    if let Err(e) = binary.install(&staged) {
        binary.discard(&staged);
        record_failure(&state, &current, &version.to_string(), plan.channel, &e);
        return Err(e.into());
    }
    let pending = Pending {
        from: current.to_string(),
        to: version.to_string(),
        channel: manifest.channel.to_string(),
        notes: manifest.notes.clone(),
        starts: 0,
        binary: pryx_update::file_id(&binary.path),
    };
    state.set_pending(&pending)?;
    say!(
        "Installed Pryx {version} at {} (the previous binary is kept as {}).",
        binary.path.display(),
        binary.previous().display()
    );

    let proved = prove(&plan, &binary, running.as_ref()).await;
    // A service manager restarting a new core that kept failing: the core put the previous
    // binary back itself (and recorded it) before the old version came up ready.
    let proved = match proved {
        Ok(_) if !binary.previous().exists() => {
            say_err!(
                "error: Pryx {version} failed to start under the service manager; the previous version was put back and is running (`pryx update --history`)."
            );
            return Ok(ExitCode::FAILURE);
        }
        other => other,
    };
    match proved {
        Ok((how, core_ready)) => {
            // Until a core of the new version is seen ready, its starts are counted.
            if core_ready {
                state.clear_pending();
            }
            state.record(&entry(
                &pending,
                &manifest,
                UpdateOutcome::Installed,
                String::new(),
            ))?;
            say!("{how}");
            if !manifest.notes.trim().is_empty() {
                say!("\nWhat's new in {version}:\n{}", manifest.notes.trim());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            let started = Instant::now();
            // Whatever fails here, the old core is started again below.
            let restored = match binary.restore_previous() {
                Ok(restored) => restored,
                Err(e) => {
                    say_err!("error: {e}");
                    false
                }
            };
            state.clear_pending();
            // Recorded first: the core started again below tells its surfaces.
            if let Err(e) = state.record(&entry(
                &pending,
                &manifest,
                if restored {
                    UpdateOutcome::RolledBack
                } else {
                    UpdateOutcome::Failed
                },
                why.clone(),
            )) {
                say_err!("warning: {e}");
            }
            let back = match (&running, plan.restart) {
                (Some(core), true) => restart::start_again(&plan.dir, &binary, core).await,
                _ => Ok(String::new()),
            };
            if restored {
                say_err!(
                    "error: Pryx {version} did not work ({why}); rolled back to {current} in {:.1} s.",
                    started.elapsed().as_secs_f64()
                );
            } else {
                say_err!(
                    "error: Pryx {version} did not work ({why}) and the previous binary could not be put back; reinstall with install.sh"
                );
            }
            match back {
                Ok(line) if !line.is_empty() => say_err!("{line}"),
                Ok(_) => {}
                Err(e) => say_err!("error: the previous core did not come back either: {e:#}"),
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Shows the new binary works: the running core restarted on it and ready, or (with no core
/// to restart) its `--version` answering. True when a core of the new version is up.
async fn prove(
    plan: &Plan,
    binary: &Binary,
    running: Option<&Running>,
) -> Result<(String, bool), String> {
    match running {
        Some(core) if plan.restart => restart::restart(&plan.dir, binary, core).await,
        Some(core) => {
            pryx_update::smoke_test(&binary.path)?;
            Ok((
                format!(
                    "The running core (pid {}) stays on the old version until it restarts.",
                    core.metadata.pid
                ),
                false,
            ))
        }
        None => pryx_update::smoke_test(&binary.path).map(|v| (format!("{v} is ready."), false)),
    }
}

fn entry(
    pending: &Pending,
    manifest: &Manifest,
    outcome: UpdateOutcome,
    detail: String,
) -> UpdateRecord {
    UpdateRecord {
        at: pryx_update::now(),
        from: pending.from.clone(),
        to: pending.to.clone(),
        channel: pending.channel.clone(),
        outcome,
        detail,
        notes: manifest.notes.clone(),
    }
}

fn record_failure(
    state: &State,
    current: &semver::Version,
    to: &str,
    channel: Channel,
    e: &UpdateError,
) {
    let _ = state.record(&UpdateRecord {
        at: pryx_update::now(),
        from: current.to_string(),
        to: to.to_string(),
        channel: channel.to_string(),
        outcome: UpdateOutcome::Failed,
        detail: e.to_string(),
        notes: String::new(),
    });
}
