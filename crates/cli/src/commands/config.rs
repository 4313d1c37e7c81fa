//! `pryx config`: show, read and change `config.json`. Every write is validated first; on error
//! nothing is written.

use anyhow::Context;
use pryx_config::{Config, DataDir};
use serde_json::Value;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Print the effective configuration (defaults filled in, credentials masked).
    Show {
        /// Print JSON instead of `key = value` lines.
        #[arg(long)]
        json: bool,
    },
    /// Print one value, e.g. `pryx config get telemetry.enabled`.
    Get {
        /// Dotted key; quote keys containing dots: `models.overrides["a/b.c"].context`.
        key: String,
    },
    /// Change one value (JSON if it parses, else a string) after validating the whole file.
    Set {
        /// Dotted key, e.g. `providers.openai.base_url`.
        key: String,
        /// New value, e.g. `true`, `8080`, `dark`, `secret:OPENAI_KEY`.
        value: String,
    },
    /// Remove a value so its default applies again.
    Unset {
        /// Dotted key.
        key: String,
    },
    /// Print the path of config.json.
    Path,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Path => {
            let dir = DataDir::locate()?;
            println!("{}", dir.config_file().display());
        }
        Sub::Show { json } => {
            let config = Config::load(&DataDir::locate()?)?;
            let masked = config.masked();
            if json {
                println!("{}", serde_json::to_string_pretty(&masked)?);
            } else {
                let mut lines = Vec::new();
                flatten(&masked, String::new(), &mut lines);
                for line in lines {
                    println!("{line}");
                }
            }
        }
        Sub::Get { key } => {
            let config = Config::load(&DataDir::locate()?)?;
            println!("{}", render(&config.get_path_masked(&key)?)?);
        }
        Sub::Set { key, value } => {
            let dir = DataDir::open().context("cannot prepare the data directory")?;
            let config = Config::set_path(&dir, &key, &value)?;
            let shown = render(&config.get_path_masked(&key)?)?;
            println!("{key} = {shown}");
        }
        Sub::Unset { key } => {
            let dir = DataDir::open().context("cannot prepare the data directory")?;
            let config = Config::unset_path(&dir, &key)?;
            let shown = render(&config.get_path_masked(&key)?)?;
            println!("{key} reset to its default: {shown}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Strings print bare; everything else as JSON.
fn render(v: &Value) -> anyhow::Result<String> {
    Ok(match v {
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => serde_json::to_string_pretty(v)?,
        other => other.to_string(),
    })
}

fn flatten(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                let key = if k.contains(['.', '[', ']', '"']) {
                    format!("{prefix}[\"{k}\"]")
                } else if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(child, key, out);
            }
        }
        other => out.push(format!("{prefix} = {other}")),
    }
}
