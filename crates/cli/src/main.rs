//! `pryx`: the command-line entry point. Each subcommand lives in its own module under `commands/`.

mod commands;
mod masked_log;
mod rotating_log;
mod setup;
mod supervisor;
mod term;

/// Hidden first argument that turns `pryx` into the sandbox helper of `shell.exec`.
pub const SANDBOX_ARG: &str = "__sandbox-exec";

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Pryx: a sovereign, local-first AI agent.
#[derive(Debug, Parser)]
#[command(name = "pryx", version, about, long_about = None, propagate_version = true)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    /// Without a subcommand: the terminal UI.
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    tui: commands::tui::Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show, read and change config.json (validated before every write).
    Config(commands::config::Args),
    /// Store, list and remove secrets (OS keychain or the encrypted fallback file).
    Secrets(commands::secrets::Args),
    /// Check the data directory, config, database and secret store; exits non-zero on failure.
    Doctor(commands::doctor::Args),
    /// Browse the model catalog (limits, prices, capabilities) and refresh it on demand.
    Models(commands::models::Args),
    /// Run one prompt through the agent and stream the answer.
    Run(commands::run::Args),
    /// Run the core headless with the HTTP and WebSocket API.
    Serve(commands::serve::Args),
    /// A turn's spans as a tree (model calls, tool calls, approval waits) from the trace id an
    /// error showed.
    Trace(commands::trace::Args),
    /// Read the core's log (logs/core.log and its rotated files): filter, follow, JSON.
    Logs(commands::logs::Args),
    /// Read and verify the hash-chained audit log.
    Audit(commands::audit::Args),
    /// What model calls cost, by day, agent, model and session, and how much of each budget is used.
    Costs(commands::costs::Args),
    /// Discover, check, enable and install SKILL.md skills.
    Skills(commands::skills::Args),
    /// Manage MCP servers whose tools the agent can use.
    Mcp(commands::mcp::Args),
    /// Agent profiles: named workspace + model + policy combinations for sessions.
    Agents(commands::agents::Args),
    /// List and revoke standing approvals (the grants `session` and `always` answers leave).
    Approvals(commands::approvals::Args),
    /// Make, list and revoke API keys for editors and scripts on the OpenAI-compatible /v1.
    ApiKeys(commands::api_keys::Args),
    /// Telegram bots and signed webhooks: add, list, show, test, pause, resume, remove, pair.
    Channels(commands::channels::Args),
    /// Scheduled tasks: prompts run on a schedule, on file changes, on a webhook or by hand.
    Tasks(commands::tasks::Args),
    /// List, show, export, search and delete sessions (ids or any unique start of one).
    Sessions(commands::sessions::Args),
    /// Print (or open) a one-time login link for the web dashboard of the running core.
    Dashboard(commands::dashboard::Args),
    /// Check for, download, verify and install a new release (signed; rolled back if it fails).
    Update(commands::update::Args),
    /// Run the core as a service (systemd user unit, or a launchd agent on macOS).
    InstallService(commands::service::InstallArgs),
    /// Stop and remove the service `install-service` made.
    UninstallService(commands::service::UninstallArgs),
    /// The service's state.
    Service(commands::service::StatusArgs),
    /// Remove Pryx: the service, the binary and, with --purge, the data dir and keychain entries.
    Uninstall(commands::uninstall::Args),
}

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|a| a == SANDBOX_ARG) {
        pryx_tools::sandbox_exec_main(args);
    }
    // Commands run by tools cannot read this process's memory or environment through /proc.
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    // Before any HTTP client exists (libraries such as rmcp build their own).
    pryx_http::install();
    let cli = Cli::parse();
    let result = match cli.command {
        None => commands::tui::run(cli.tui),
        Some(Command::Config(args)) => commands::config::run(args),
        Some(Command::Secrets(args)) => commands::secrets::run(args),
        Some(Command::Doctor(args)) => commands::doctor::run(args),
        Some(Command::Models(args)) => commands::models::run(args),
        Some(Command::Run(args)) => commands::run::run(args),
        Some(Command::Serve(args)) => commands::serve::run(args),
        Some(Command::Logs(args)) => commands::logs::run(args),
        Some(Command::Trace(args)) => commands::trace::run(args),
        Some(Command::Audit(args)) => commands::audit::run(args),
        Some(Command::Costs(args)) => commands::costs::run(args),
        Some(Command::Skills(args)) => commands::skills::run(args),
        Some(Command::Mcp(args)) => commands::mcp::run(args),
        Some(Command::Agents(args)) => commands::agents::run(args),
        Some(Command::Approvals(args)) => commands::approvals::run(args),
        Some(Command::ApiKeys(args)) => commands::api_keys::run(args),
        Some(Command::Channels(args)) => commands::channels::run(args),
        Some(Command::Tasks(args)) => commands::tasks::run(args),
        Some(Command::Sessions(args)) => commands::sessions::run(args),
        Some(Command::Dashboard(args)) => commands::dashboard::run(args),
        Some(Command::Update(args)) => commands::update::run(args),
        Some(Command::InstallService(args)) => commands::service::install(args),
        Some(Command::UninstallService(args)) => commands::service::uninstall(args),
        Some(Command::Service(args)) => commands::service::status(args),
        Some(Command::Uninstall(args)) => commands::uninstall::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            term::err(&format!("error: {err:#}"));
            ExitCode::FAILURE
        }
    }
}
