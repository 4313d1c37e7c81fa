//! `pryx update`: check the channel's signed manifest, download and verify the release for this
//! machine, swap the binary in place (the old one kept as `pryx.previous`), restart a running
//! core on it and roll back when it does not come up. `--history` lists what happened.
//!
//! A core started after an update counts its own starts (`update/pending.json`): a new core
//! that keeps failing before it is ready puts the previous binary back at its fourth start,
//! so a service manager restarting it lands on the old version.

mod apply;
mod restart;

use crate::setup;
use anyhow::Context;
use pryx_config::DataDir;
use pryx_update::{Channel, State, UpdateOutcome};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only say whether an update is available (exit 0 either way).
    #[arg(long)]
    check: bool,
    /// Release channel for this run (default: config `updates.channel`); `pryx config set
    /// updates.channel beta` switches for good.
    #[arg(long, value_parser = ["stable", "beta", "alpha"])]
    channel: Option<String>,
    /// Install this version instead of the channel's newest (never an older one).
    #[arg(long, value_name = "VERSION", conflicts_with = "channel")]
    to: Option<String>,
    /// List past updates and rollbacks.
    #[arg(long, conflicts_with_all = ["check", "to", "channel"])]
    history: bool,
    /// Replace the binary but leave a running core on the old one until it restarts.
    #[arg(long)]
    no_restart: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (dir, config) = setup::load_home()?;
    if args.history {
        return Ok(history(&dir));
    }
    let channel_name = args.channel.as_deref().unwrap_or(&config.updates.channel);
    let channel = Channel::parse(channel_name).with_context(|| {
        format!("unknown update channel {channel_name:?}; use stable, beta or alpha")
    })?;
    let version = match &args.to {
        Some(v) => Some(
            semver::Version::parse(v.trim_start_matches('v'))
                .with_context(|| format!("{v:?} is not a version such as 0.2.0"))?,
        ),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(apply::run(apply::Plan {
        dir,
        base_url: config.updates.url.clone(),
        channel,
        version,
        check_only: args.check,
        restart: !args.no_restart,
    }))
}

fn history(dir: &DataDir) -> ExitCode {
    let entries = State::new(dir.root()).history();
    if entries.is_empty() {
        println!("No updates yet.");
    }
    for e in entries {
        let outcome = match e.outcome {
            UpdateOutcome::Installed => "installed",
            UpdateOutcome::RolledBack => "rolled back",
            UpdateOutcome::Failed => "failed",
        };
        let detail = if e.detail.is_empty() {
            String::new()
        } else {
            format!(" — {}", e.detail)
        };
        println!(
            "{}  {} → {}  ({})  {outcome}{detail}",
            e.at, e.from, e.to, e.channel
        );
    }
    ExitCode::SUCCESS
}

/// Called by `pryx serve` before it starts anything: counts the start of a core after an
/// update and, at the fourth start that never got ready, puts the previous binary back.
/// Returns true when it rolled back (the core must then exit so its supervisor starts the
/// previous binary).
pub fn on_core_start(dir: &DataDir) -> bool {
    let state = State::new(dir.root());
    let Some(mut pending) = state.pending() else {
        return false;
    };
    let binary = pryx_update::Binary::current().ok();
    if let (Some(expected), Some(binary)) = (pending.binary, &binary)
        && pryx_update::file_id(&binary.path) != Some(expected)
    {
        // Another binary than the update installed: the marker is stale.
        state.clear_pending();
        return false;
    }
    pending.starts += 1;
    if pending.starts <= pryx_update::MAX_STARTS {
        if let Err(e) = state.set_pending(&pending) {
            tracing::warn!(error = %e, "cannot count this start of an updated core");
        }
        return false;
    }
    let detail = format!(
        "the core of {} failed to start {} times",
        pending.to,
        pryx_update::MAX_STARTS
    );
    let restored = binary.is_some_and(|b| b.restore_previous().unwrap_or(false));
    state.clear_pending();
    let _ = state.record(&pryx_update::UpdateRecord {
        at: pryx_update::now(),
        from: pending.from.clone(),
        to: pending.to.clone(),
        channel: pending.channel.clone(),
        outcome: if restored {
            UpdateOutcome::RolledBack
        } else {
            UpdateOutcome::Failed
        },
        detail: detail.clone(),
        notes: String::new(),
    });
    crate::term::say_err!(
        "error: {detail}; {}",
        if restored {
            format!(
                "version {} is back in place — start Pryx again",
                pending.from
            )
        } else {
            "no previous binary to go back to".to_string()
        }
    );
    restored
}

/// How often a core with `updates.auto_check` on asks its release server.
const AUTO_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// With config `updates.auto_check` on (it is off by default: it contacts the network), checks
/// the channel in the background once the core is up and then daily, never delaying start-up.
/// A newer release is logged and remembered (`update/available.json`) for `pryx doctor`;
/// installing it stays `pryx update`'s job.
pub fn spawn_auto_check(dir: &DataDir, config: &pryx_config::Config) {
    if !config.updates.auto_check {
        return;
    }
    let Some(channel) = Channel::parse(&config.updates.channel) else {
        return;
    };
    let state = State::new(dir.root());
    let url = config.updates.url.clone();
    tokio::spawn(async move {
        loop {
            match check_once(&url, channel).await {
                Ok(Some(available)) => {
                    tracing::info!(version = %available.version, %channel, "an update is available: run `pryx update`");
                    if let Err(e) = state.set_available(Some(&available)) {
                        tracing::warn!(error = %e, "cannot remember the available update");
                    }
                }
                Ok(None) => {
                    let _ = state.set_available(None);
                }
                Err(e) => tracing::warn!(error = %e, "update check failed"),
            }
            tokio::time::sleep(AUTO_CHECK_EVERY).await;
        }
    });
}

async fn check_once(
    url: &str,
    channel: Channel,
) -> Result<Option<pryx_update::Available>, pryx_update::UpdateError> {
    let source = pryx_update::Source::new(url, pryx_update::TrustedKey::from_env()?)?;
    let manifest = source.channel_manifest(channel).await?;
    Ok(
        match manifest.offer(&pryx_update::current_version(), pryx_update::TARGET)? {
            pryx_update::Offer::UpToDate => None,
            pryx_update::Offer::Newer { version, .. } => Some(pryx_update::Available {
                version: version.to_string(),
                channel: channel.to_string(),
                checked_at: pryx_update::now(),
            }),
        },
    )
}

/// Called by `pryx serve` once it is ready: an update it started on has proved itself.
pub fn on_core_ready(dir: &DataDir) {
    State::new(dir.root()).clear_pending();
}
