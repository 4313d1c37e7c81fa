//! `pryx skills`: list, inspect, validate, switch on/off, add, and install the dependencies of
//! SKILL.md skills from the workspace, the data directory, the binary and extra directories.

mod add;
mod install;
mod show;

use anyhow::Context;
use pryx_config::{Config, DataDir};
use pryx_skills::{Catalog, SkillIndex};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Workspace whose `.pryx/skills` is searched first (default: the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    workspace: Option<PathBuf>,
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// List every skill with its source and whether it can be used.
    List {
        /// Only skills that can be used now.
        #[arg(long)]
        eligible: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one skill: requirements, installers, files, and why it cannot be used.
    Info {
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate every skill; exits non-zero if any is invalid.
    Check {
        /// Print one JSON object: the counts, every invalid skill with file, line and reason,
        /// every warning and note.
        #[arg(long)]
        json: bool,
    },
    /// Allow a skill to be used (`skills.entries.<name>.enabled = true`).
    Enable { name: String },
    /// Stop a skill from being used (`skills.entries.<name>.enabled = false`).
    Disable { name: String },
    /// Add skills from a folder, an archive (.zip, .tar.gz, .tgz, .tar.bz2; a path or an
    /// http(s) URL) or a git repository to the data directory's `skills/`. Links and special
    /// files are refused, every SKILL.md must load, and nothing of the source runs.
    Add {
        /// A folder, an archive, or a git URL (`https://…`, `git@host:path`, `ssh://`, `file://`).
        source: String,
        /// Only this skill of a source that holds several (repeatable; default: all).
        #[arg(long = "skill", value_name = "NAME")]
        skills: Vec<String>,
        /// The branch or tag of a git source.
        #[arg(long = "ref", value_name = "REF")]
        git_ref: Option<String>,
        /// Replace skills of the same name added before instead of refusing.
        #[arg(long)]
        replace: bool,
    },
    /// Install a skill's dependencies after showing the exact commands.
    Install {
        name: String,
        /// Installer id to use (default: the first one whose tool is available).
        #[arg(long)]
        id: Option<String>,
        /// Run without asking for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Replace the skill's existing tools folder (`tools/<skillKey>`) instead of refusing.
        #[arg(long)]
        replace: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let workspace = match args.workspace {
        Some(w) => w,
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    if !workspace.is_dir() {
        anyhow::bail!(
            "workspace {} is not a directory; pass an existing one with --workspace",
            workspace.display()
        );
    }
    match args.command {
        Sub::List { eligible, json } => {
            let (_, catalog) = load(&workspace, DataDir::locate()?);
            show::list(&catalog, eligible, json)
        }
        Sub::Info { name, json } => {
            let (_, catalog) = load(&workspace, DataDir::locate()?);
            show::info(&catalog, &name, json)
        }
        Sub::Check { json } => {
            let (_, catalog) = load(&workspace, DataDir::locate()?);
            show::check(&catalog, json)
        }
        Sub::Enable { name } => switch(&workspace, &name, true),
        Sub::Disable { name } => switch(&workspace, &name, false),
        Sub::Add {
            source,
            skills,
            git_ref,
            replace,
        } => {
            let dir = DataDir::open().context("cannot prepare the data directory")?;
            let opts = pryx_skills::add::AddOptions {
                skills,
                git_ref,
                replace,
            };
            add::run(&dir, &source, opts)
        }
        Sub::Install {
            name,
            id,
            yes,
            replace,
        } => {
            let dir = DataDir::open().context("cannot prepare the data directory")?;
            install::run(&workspace, dir, &name, id.as_deref(), yes, replace)
        }
    }
}

fn load(workspace: &std::path::Path, dir: DataDir) -> (SkillIndex, std::sync::Arc<Catalog>) {
    let index = SkillIndex::open(workspace, dir);
    let catalog = index.catalog();
    (index, catalog)
}

fn switch(workspace: &std::path::Path, name: &str, on: bool) -> anyhow::Result<ExitCode> {
    let dir = DataDir::open().context("cannot prepare the data directory")?;
    let (_, catalog) = load(workspace, dir.clone());
    let skill = catalog
        .get(name)
        .with_context(|| format!("no skill named `{name}`; see `pryx skills list`"))?;
    let key = skill.switch_path();
    Config::set_path(&dir, &key, if on { "true" } else { "false" })?;
    let word = if on { "enabled" } else { "disabled" };
    println!("skill `{name}` {word} ({key} = {on})");
    if on {
        let (_, catalog) = load(workspace, dir);
        if let Some(s) = catalog.get(name)
            && !s.eligibility.is_eligible()
        {
            println!("it still cannot be used:");
            for r in &s.eligibility.reasons {
                println!("  - {r}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
