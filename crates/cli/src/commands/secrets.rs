//! `pryx secrets`: store, list and remove secrets. Values are read from stdin or a no-echo
//! prompt, never from the command line, and never printed.

use anyhow::{Context, bail};
use pryx_config::{DataDir, Secret, SecretStore};
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Store a secret; the value comes from stdin (piped) or a hidden prompt.
    Set {
        /// Secret name (letters, digits, `_`, `.`, `-`); refer to it as `secret:NAME` in config.
        name: String,
    },
    /// List the names of stored secrets (never their values).
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Remove a stored secret.
    Rm {
        /// Secret name.
        name: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = DataDir::open().context("cannot prepare the data directory")?;
    let store = SecretStore::open(&dir)?;
    match args.command {
        Sub::Set { name } => {
            if !pryx_config::is_secret_name(&name) {
                bail!("invalid secret name: use 1-64 letters, digits, `_`, `.` or `-`");
            }
            let value = read_value(&name)?;
            let replaced = store.set(&name, &value)?;
            let verb = if replaced { "Replaced" } else { "Stored" };
            println!(
                "{verb} secret `{name}` in {}. Use it in config as `secret:{name}`.",
                where_(store.backend_name())
            );
        }
        Sub::List { json } => {
            let names = store.list()?;
            if json {
                println!("{}", serde_json::to_string(&names)?);
            } else if names.is_empty() {
                eprintln!("No secrets stored (backend: {}).", store.backend_name());
            } else {
                for name in names {
                    println!("{name}");
                }
            }
        }
        Sub::Rm { name } => {
            if !store.remove(&name)? {
                bail!("no secret named `{name}`; see `pryx secrets list`");
            }
            println!("Removed secret `{name}`.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn where_(backend: &str) -> &'static str {
    match backend {
        "keychain" => "the OS keychain",
        _ => "the encrypted secrets file",
    }
}

fn read_value(name: &str) -> anyhow::Result<Secret> {
    let stdin = std::io::stdin();
    let mut value = if stdin.is_terminal() {
        rpassword::prompt_password(format!("Value for {name} (input hidden): "))
            .context("cannot read the value from the terminal")?
    } else {
        let mut buf = String::new();
        stdin
            .lock()
            .read_to_string(&mut buf)
            .context("cannot read the value from stdin")?;
        buf
    };
    // Drop exactly one trailing line ending (from `echo` or a here-string).
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    if value.is_empty() {
        bail!(
            "empty value: pipe the secret on stdin (e.g. `pryx secrets set {name} < file`) or type it at the prompt"
        );
    }
    Ok(Secret::new(value))
}
