//! Everything an agent needs, resolved once from config, secrets, the catalog and the data dir.
//! `pryx run` (in-process) and `pryx serve` both start here, so they judge and run calls alike.

use super::{Extensions, ModelChoice};
use anyhow::Context;
use pryx_config::{Config, DataDir};
use pryx_llm::Provider;
use pryx_policy::Policy;
use pryx_store::Store;
use pryx_tools::{SandboxLauncher, ToolContext, ToolRegistry};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A problem with the command line or configuration, as opposed to a runtime failure. Commands
/// map it to their usage exit code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Wraps an error as a [`UsageError`].
pub fn usage(e: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(UsageError(format!("{e:#}")))
}

/// What the command line may choose; `None` falls back to config.
#[derive(Debug, Default, Clone, Copy)]
pub struct Choices<'a> {
    pub workspace: Option<&'a Path>,
    pub model: Option<&'a str>,
    pub policy: Option<&'a str>,
}

/// The resolved parts of an agent. Call [`Extensions::shutdown`] on `ext` when done.
pub struct Prepared {
    pub choice: ModelChoice,
    pub provider: Arc<dyn Provider>,
    /// The provider's API key, so recorded arguments and results can mask it.
    pub key: Option<String>,
    pub policy: Policy,
    pub policy_name: String,
    pub store: Store,
    pub tool_ctx: ToolContext,
    /// Built-ins, skills tools and MCP server tools.
    pub tools: ToolRegistry,
    /// Prompt sources and the MCP servers behind `tools`.
    pub ext: Extensions,
}

/// Resolves workspace, model, provider (with its key), policy, store, sandbox and tools.
/// Configuration problems come back as [`UsageError`]s.
pub async fn prepare(
    dir: &DataDir,
    config: &Config,
    choices: Choices<'_>,
) -> anyhow::Result<Prepared> {
    let workspace = workspace_root(choices.workspace).map_err(usage)?;
    super::auto_refresh_catalog(dir, config).await;
    let catalog = super::load_catalog(dir, config).map_err(usage)?;
    let choice = super::choose_model(config, &catalog, choices.model).map_err(usage)?;
    if let Some(w) = &choice.warning {
        eprintln!("warning: {w}");
    }
    let (provider, key) = super::build_provider(dir, &catalog, &choice).map_err(usage)?;
    let policy_name = choices
        .policy
        .map_or_else(|| config.defaults.policy.clone(), str::to_string);
    let mut policy = super::load_policy(dir, &policy_name).map_err(usage)?;
    // A policy file that sets its own timeout wins over the config's general one.
    if policy.approval.timeout_secs == pryx_policy::DEFAULT_APPROVAL_TIMEOUT_SECS {
        policy.approval.timeout_secs = config.agent.approval_timeout_secs;
    }
    let store = super::open_store(dir)?;
    let mut tool_ctx = ToolContext::new(&workspace)?;
    if pryx_tools::landlock_status().support != pryx_tools::LandlockSupport::Unsupported {
        tool_ctx.sandbox = Some(SandboxLauncher::current_exe(crate::SANDBOX_ARG)?);
    }
    let mut ext = super::extensions(dir, config, &workspace);
    ext.add_mcp(dir, config, &workspace).await;
    let mut tools = ToolRegistry::with_builtins();
    for tool in std::mem::take(&mut ext.tools) {
        tools.register(tool);
    }
    Ok(Prepared {
        choice,
        provider,
        key,
        policy,
        policy_name,
        store,
        tool_ctx,
        tools,
        ext,
    })
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
