//! `pryx uninstall`: removes the service unit and the binary (with `pryx.previous`); with
//! `--purge` and a confirmation also the data dir and the keychain entries. Prints each thing
//! it removed.

use crate::term::say;
use anyhow::{Context, bail};
use pryx_protocol::api::CoreSupervisor;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also delete the data dir (sessions, config, audit log) and the keychain entries.
    #[arg(long)]
    purge: bool,
    /// Do not ask before purging.
    #[arg(long, short = 'y')]
    yes: bool,
    /// The service unit was installed with --system.
    #[arg(long)]
    system: bool,
    /// The service unit was written to this directory (install-service --unit-dir).
    #[arg(long, value_name = "DIR")]
    unit_dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = pryx_config::DataDir::locate().context("cannot find the data directory")?;
    if args.purge && !args.yes {
        confirm(&dir.root().display().to_string())?;
    }
    // A core started by hand is stopped by its user first; the service's own core goes with
    // its unit below.
    if let Ok(meta) = pryx_client::read_metadata(&dir)
        && pryx_client::pid_alive(meta.pid)
        && !meta.launch.as_ref().is_some_and(|l| {
            matches!(
                l.supervisor,
                CoreSupervisor::Systemd | CoreSupervisor::SystemdSystem | CoreSupervisor::Launchd
            )
        })
    {
        bail!(
            "a Pryx core is running (pid {}); stop it first (Ctrl-C, or `kill {}`), then run this again",
            meta.pid,
            meta.pid
        );
    }
    let purge_data = args.purge && dir.root().exists();
    if purge_data && !looks_like_data_dir(dir.root()) {
        bail!(
            "{} does not look like a Pryx data dir (no config.json, pryx.db or token); not deleting it",
            dir.root().display()
        );
    }
    let mut removed: Vec<String> = Vec::new();
    if let Some(unit) = super::service::remove_unit(args.system, args.unit_dir.as_deref())? {
        removed.push(format!("service unit {}", unit.display()));
    }
    let binary = pryx_update::Binary::current()?;
    for path in [binary.previous(), binary.path.clone()] {
        match std::fs::remove_file(&path) {
            Ok(()) => removed.push(format!("binary {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    if purge_data {
        if let Ok(store) = pryx_config::SecretStore::open(&dir) {
            for name in store
                .purge_keychain()
                .context("cannot remove the keychain entries")?
            {
                removed.push(format!("keychain entry {name}"));
            }
        }
        std::fs::remove_dir_all(dir.root())
            .with_context(|| format!("cannot remove {}", dir.root().display()))?;
        removed.push(format!("data dir {}", dir.root().display()));
    }
    if removed.is_empty() {
        say!("Nothing to remove.");
    }
    for line in &removed {
        say!("removed {line}");
    }
    if !args.purge {
        say!(
            "Your data stays in {} (sessions, config, audit log); `pryx uninstall --purge` removes it too.",
            dir.root().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Only a directory Pryx made is purged, whatever PRYX_HOME names.
fn looks_like_data_dir(root: &std::path::Path) -> bool {
    ["config.json", "pryx.db", "token", "metadata.json"]
        .iter()
        .any(|name| root.join(name).exists())
}

fn confirm(data: &str) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("--purge deletes {data} for good; confirm with --yes when not at a terminal");
    }
    print!(
        "This deletes {data} (sessions, config, audit log) and Pryx's keychain entries. Type `purge` to go on: "
    );
    std::io::stdout().flush().ok();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the answer")?;
    if line.trim() != "purge" {
        bail!("not confirmed; nothing was removed");
    }
    Ok(())
}
