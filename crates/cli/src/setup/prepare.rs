//! What `pryx run` (in-process) and `pryx serve` build their core from, resolved the same way
//! for both, so they judge and run calls alike.

use anyhow::Context;
use pryx_agent::AgentSettings;
use pryx_config::{Config, DataDir};
use pryx_core::{Core, CoreParts, Overrides};
use pryx_tools::SandboxLauncher;
use std::path::{Path, PathBuf};

/// A problem with the command line or configuration, as opposed to a runtime failure. Commands
/// map it to their usage exit code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Wraps an error as a [`UsageError`].
pub fn usage(e: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(UsageError(format!("{e:#}")))
}

/// A core on this data dir: nothing needs to be configured (a turn then says how to set a
/// provider up). `overrides` are the command line's choices for the `main` profile.
pub fn build_core(
    dir: &DataDir,
    config: &Config,
    settings: AgentSettings,
    overrides: Overrides,
) -> anyhow::Result<Core> {
    let store = super::open_store(dir)?;
    // Always through the helper on Linux: even without Landlock it adds namespaces, the
    // seccomp filter and the reaping of what a command leaves behind.
    let sandbox = if cfg!(target_os = "linux") {
        Some(SandboxLauncher::current_exe(crate::SANDBOX_ARG)?)
    } else {
        None
    };
    Ok(Core::new(CoreParts {
        dir: dir.clone(),
        config: config.clone(),
        store,
        settings,
        overrides,
        sandbox,
    })?)
}

/// The workspace root: the given directory or the current one, canonical.
pub fn workspace_root(arg: Option<&Path>) -> anyhow::Result<PathBuf> {
    let raw = match arg {
        Some(p) => p.to_path_buf(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    std::fs::canonicalize(&raw)
        .with_context(|| format!("workspace {} does not exist", raw.display()))
}

/// What `--allow-broad-workspace` and the warning about a confirmed broad workspace do for
/// `run` and `serve`: with `confirm`, a broad workspace (root, home, or one holding the data
/// dir) is saved in config `agent.broad_workspaces`; a confirmed one is named on stderr, since
/// every tool reaches all of it (except the data dir). Returns the config as it now is.
pub fn confirm_workspace(
    dir: &DataDir,
    config: Config,
    workspace: &Path,
    confirm: bool,
) -> anyhow::Result<Config> {
    let Some(reason) = pryx_core::profiles::broad_reason(dir, workspace) else {
        return Ok(config);
    };
    let shown = workspace.display().to_string();
    let known = pryx_core::profiles::is_confirmed(&config.agent.broad_workspaces, workspace);
    let config = if confirm && !known {
        let mut list = config.agent.broad_workspaces.clone();
        list.push(shown.clone());
        let edited = Config::edit(
            dir,
            None,
            &[pryx_config::Edit::Set(
                "agent.broad_workspaces".into(),
                serde_json::json!(list),
            )],
        )
        .context("cannot save the confirmation in config.json")?;
        crate::term::say_err!(
            "confirmed {shown} as a workspace (saved in config agent.broad_workspaces; remove it there to undo)"
        );
        edited
    } else {
        config
    };
    if confirm || known {
        crate::term::say_err!(
            "⚠ workspace {shown} is {reason}: tools reach everything in it except Pryx's data dir"
        );
    }
    Ok(config)
}
