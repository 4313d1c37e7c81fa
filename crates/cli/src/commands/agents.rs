//! `pryx agents`: the named profiles sessions are created from (workspace, model, fallbacks,
//! policy, limits). `main` always exists; others live under `agents.<id>` in config.json. A
//! running core sees every change from its next session or turn.

use crate::term::say;
use anyhow::bail;
use pryx_config::{Config, DataDir, Edit, MAIN_AGENT};
use pryx_core::Overrides;
use pryx_core::profiles::{self, Profile};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// List every agent profile with its workspace, model and policy.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one profile with every default filled in.
    Show {
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a profile (or change one): unset options keep their current value or the defaults.
    Add {
        /// Letters, digits, '.', '_' or '-'.
        id: String,
        /// Workspace directory (must exist).
        #[arg(long, short = 'w')]
        workspace: Option<PathBuf>,
        /// PROVIDER/MODEL.
        #[arg(long, short = 'm')]
        model: Option<String>,
        /// A model to try when the model fails (repeat for more, in order).
        #[arg(long = "fallback", value_name = "PROVIDER/MODEL")]
        fallbacks: Vec<String>,
        /// A built-in mode or a file in policies/.
        #[arg(long)]
        policy: Option<String>,
        /// A file in the workspace whose text joins the system prompt.
        #[arg(long)]
        instructions: Option<String>,
        /// Most model calls per turn.
        #[arg(long)]
        max_steps: Option<u32>,
        /// Spend cap per session in USD.
        #[arg(long)]
        budget: Option<f64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a profile; its sessions keep their settings. Removing `main` resets it to the
    /// defaults.
    Rm { id: String },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = DataDir::locate()?;
    match args.command {
        Sub::List { json } => {
            let config = Config::load(&dir)?;
            let rows: Vec<Result<Profile, String>> = profiles::ids(&config)
                .iter()
                .map(|id| resolve(&dir, &config, id).map_err(|e| format!("{id}: {e}")))
                .collect();
            if json {
                let out: Vec<Value> = rows
                    .iter()
                    .map(|r| match r {
                        Ok(p) => view(p),
                        Err(e) => json!({"error": e}),
                    })
                    .collect();
                crate::term::out_raw(&serde_json::to_string_pretty(&out)?);
            } else {
                for row in rows {
                    match row {
                        Ok(p) => say!(
                            "{:<16} {:<28} {:<16} {}",
                            p.id,
                            p.model.as_deref().unwrap_or("(no model)"),
                            p.policy,
                            p.workspace.display()
                        ),
                        Err(e) => say!("{e}"),
                    }
                }
            }
        }
        Sub::Show { id, json } => {
            let config = Config::load(&dir)?;
            let p = resolve(&dir, &config, &id)?;
            print(&p, json)?;
        }
        Sub::Add {
            id,
            workspace,
            model,
            fallbacks,
            policy,
            instructions,
            max_steps,
            budget,
            json,
        } => {
            if !pryx_config::is_name(&id) {
                bail!("agent id {id:?} is not valid; use 1–64 letters, digits, '.', '_' or '-'");
            }
            let key = |field: &str| format!("agents[\"{id}\"].{field}");
            let mut edits = Vec::new();
            if let Some(w) = workspace {
                let path = crate::setup::workspace_root(Some(&w))?;
                let confirmed = Config::load(&dir)?.agent.broad_workspaces;
                profiles::check_workspace(&dir, &path, &confirmed)?;
                edits.push(Edit::Set(
                    key("workspace"),
                    json!(path.display().to_string()),
                ));
            }
            if let Some(m) = model {
                edits.push(Edit::Set(key("model"), json!(m)));
            }
            if !fallbacks.is_empty() {
                edits.push(Edit::Set(key("fallbacks"), json!(fallbacks)));
            }
            if let Some(p) = policy {
                edits.push(Edit::Set(key("policy"), json!(p)));
            }
            if let Some(i) = instructions {
                edits.push(Edit::Set(key("instructions"), json!(i)));
            }
            if let Some(n) = max_steps {
                edits.push(Edit::Set(key("max_steps"), json!(n)));
            }
            if let Some(b) = budget {
                edits.push(Edit::Set(key("session_budget_usd"), json!(b)));
            }
            if edits.is_empty() {
                // An empty profile is a copy of `main`'s defaults under a new name.
                edits.push(Edit::Set(format!("agents[\"{id}\"]"), json!({})));
            }
            let config = Config::edit(&dir, None, &edits)?;
            let p = resolve(&dir, &config, &id)?;
            print(&p, json)?;
        }
        Sub::Rm { id } => {
            let config = Config::load(&dir)?;
            if !config.agents.contains_key(&id) {
                if id == MAIN_AGENT {
                    say!("main already uses the defaults");
                    return Ok(ExitCode::SUCCESS);
                }
                bail!(
                    "no agent {id:?}; agents: {}",
                    profiles::ids(&config).join(", ")
                );
            }
            Config::edit(&dir, None, &[Edit::Unset(format!("agents[\"{id}\"]"))])?;
            say!("removed agent {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn resolve(dir: &DataDir, config: &Config, id: &str) -> anyhow::Result<Profile> {
    Ok(profiles::resolve(dir, config, &Overrides::default(), id)?)
}

fn view(p: &Profile) -> Value {
    json!({
        "id": p.id,
        "workspace": p.workspace.display().to_string(),
        "model": p.model,
        "fallbacks": p.fallbacks,
        "policy": p.policy,
        "instructions": p.instructions,
        "skills": p.skills,
        "tools": p.tools,
        "max_steps": p.max_steps,
        "session_budget_usd": p.session_budget_usd,
    })
}

fn print(p: &Profile, json: bool) -> anyhow::Result<()> {
    if json {
        crate::term::out_raw(&serde_json::to_string_pretty(&view(p))?);
        return Ok(());
    }
    say!("agent:      {}", p.id);
    say!("workspace:  {}", p.workspace.display());
    say!("model:      {}", p.model.as_deref().unwrap_or("(none yet)"));
    if !p.fallbacks.is_empty() {
        say!("fallbacks:  {}", p.fallbacks.join(", "));
    }
    say!("policy:     {}", p.policy);
    if let Some(i) = &p.instructions {
        say!("instructions: {i}");
    }
    say!("max steps:  {}", p.max_steps);
    if let Some(b) = p.session_budget_usd {
        say!("budget:     ${b:.2} per session");
    }
    Ok(())
}
