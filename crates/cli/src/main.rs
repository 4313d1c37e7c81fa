//! `pryx`: the command-line entry point. Each subcommand lives in its own module under `commands/`.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Pryx: a sovereign, local-first AI agent.
#[derive(Debug, Parser)]
#[command(name = "pryx", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show, read and change config.json (validated before every write).
    Config(commands::config::Args),
    /// Store, list and remove secrets (OS keychain or the encrypted fallback file).
    Secrets(commands::secrets::Args),
    /// Check the data directory, config, database and secret store; exits non-zero on failure.
    Doctor(commands::doctor::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config(args) => commands::config::run(args),
        Command::Secrets(args) => commands::secrets::run(args),
        Command::Doctor(args) => commands::doctor::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
