//! `pryx sessions list|show|export|rm|search`: the conversations kept in the data dir. Through
//! the running core when there is one (it owns the database and refuses to delete a session
//! while a turn runs in it), otherwise on the database directly. Every command takes a session
//! id or any unique start of one.

mod backend;
pub(crate) mod render;

use crate::term::{out, out_raw, say, say_err};
use anyhow::{Context, bail};
use backend::Backend;
use pryx_protocol::api::SessionList;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Sessions listed or found when no `--limit` is given.
const DEFAULT_LIMIT: u32 = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Without a subcommand: `list`.
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// List sessions, most recently updated first: id (any unique start of it works), last
    /// update, cost, agent, model and title.
    List {
        /// How many sessions.
        #[arg(long, short = 'n', default_value_t = DEFAULT_LIMIT, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
        /// Only the sessions of this agent profile.
        #[arg(long)]
        agent: Option<String>,
        /// Print the list as one JSON object (`{"sessions": [...], "limit", "offset"}`, as the
        /// API returns it).
        #[arg(long)]
        json: bool,
    },
    /// Show a session's details and its transcript (tool calls and results in one line each).
    Show {
        /// Session id or a unique start of it.
        id: String,
        /// Print the session with every message as JSON (as `GET /api/v1/sessions/{id}`).
        #[arg(long)]
        json: bool,
    },
    /// Export a session's transcript as Markdown (default) or JSON, to stdout or a file.
    Export {
        /// Session id or a unique start of it.
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
        /// Write to this file instead of stdout (an existing file is kept unless --force).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// Replace the output file if it exists.
        #[arg(long, requires = "output")]
        force: bool,
    },
    /// Delete a session with its messages, tool calls and events (the audit log keeps its
    /// entries). Asks first on a terminal; refused while a turn runs in it.
    Rm {
        /// Session id or a unique start of it.
        id: String,
        /// Delete without asking (needed when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Print the deleted session as JSON (`{"deleted": {...}}`).
        #[arg(long)]
        json: bool,
    },
    /// Find sessions whose messages contain every word of QUERY (best match first); a
    /// trailing `*` matches a word's start.
    Search {
        query: String,
        /// How many sessions (at most 200).
        #[arg(long, short = 'n', default_value_t = DEFAULT_LIMIT, value_parser = clap::value_parser!(u32).range(1..=200))]
        limit: u32,
        /// Print the matches as one JSON object (`{"sessions": [...]}`, each with its `snippet`).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// A Markdown transcript.
    Md,
    /// The session with every message, as `pryx sessions show --json`.
    Json,
}

/// The full id of the one session whose id is or starts with `id`, through the running core
/// when there is one, otherwise the database: commands that take a session accept the short ids
/// `pryx sessions list` shows.
pub(crate) async fn resolve_id(id: &str) -> anyhow::Result<String> {
    // A whole id is the only one it can start: no need to list every session to find it (the
    // caller reports one that does not exist).
    if id.trim().len() >= FULL_ID_LEN {
        return Ok(id.trim().to_ascii_lowercase());
    }
    backend::Backend::open().await?.resolve(id).await
}

/// Length of a session id (a hyphenated UUID).
const FULL_ID_LEN: usize = 36;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let backend = Backend::open().await?;
        let command = args.command.unwrap_or(Sub::List {
            limit: DEFAULT_LIMIT,
            agent: None,
            json: false,
        });
        match command {
            Sub::List { limit, agent, json } => {
                let sessions = backend.list(limit as usize, agent.as_deref()).await?;
                if json {
                    let list = SessionList {
                        sessions,
                        limit,
                        offset: 0,
                    };
                    out_raw(&serde_json::to_string(&list)?);
                } else if sessions.is_empty() {
                    match agent {
                        Some(a) => say!("no sessions of agent {a}; `pryx sessions list` shows all"),
                        None => say!("no sessions yet; start one with `pryx run \"…\"` or `pryx`"),
                    }
                } else {
                    let short = render::short_ids(&backend.all_ids().await?);
                    render::list(&sessions, &short);
                }
            }
            Sub::Show { id, json } => {
                let detail = backend.detail(&backend.resolve(&id).await?).await?;
                if json {
                    out_raw(&serde_json::to_string(&detail)?);
                } else {
                    render::show(&detail);
                }
            }
            Sub::Export {
                id,
                format,
                output,
                force,
            } => {
                let detail = backend.detail(&backend.resolve(&id).await?).await?;
                let text = match format {
                    Format::Md => pryx_core::export::session_markdown(&detail),
                    Format::Json => pryx_core::export::session_json(&detail)?,
                };
                match output {
                    Some(path) => {
                        write_file(&path, &text, force)?;
                        say_err!(
                            "exported session {} ({} messages) to {}",
                            detail.session.id,
                            detail.messages.len(),
                            path.display()
                        );
                    }
                    // On a terminal the transcript's controls are shown escaped.
                    None if std::io::stdout().is_terminal() => out(text.trim_end_matches('\n')),
                    None => {
                        let _ = std::io::stdout().lock().write_all(text.as_bytes());
                    }
                }
            }
            Sub::Rm { id, yes, json } => {
                let detail = backend.detail(&backend.resolve(&id).await?).await?;
                let s = &detail.session;
                if s.busy {
                    bail!(
                        "session {} is running a turn; wait for it to end (or cancel it) and try again",
                        s.id
                    );
                }
                if !yes && !confirm(&s.id, &s.title, detail.messages.len())? {
                    say!("kept session {}", s.id);
                    return Ok(ExitCode::FAILURE);
                }
                backend.delete(&s.id).await?;
                if json {
                    out_raw(&serde_json::json!({ "deleted": s }).to_string());
                } else {
                    say!(
                        "deleted session {} ({} messages); the audit log keeps its entries",
                        s.id,
                        detail.messages.len()
                    );
                }
            }
            Sub::Search { query, limit, json } => {
                if pryx_store::fts_query(&query).is_none() {
                    bail!("{query:?} has no word to search for; give at least one word");
                }
                let sessions = backend.search(&query, limit).await?;
                if json {
                    out_raw(&serde_json::to_string(&SessionList {
                        sessions,
                        limit,
                        offset: 0,
                    })?);
                } else if sessions.is_empty() {
                    say!("no session has a message with every word of {query:?}");
                } else {
                    let short = render::short_ids(&backend.all_ids().await?);
                    render::list(&sessions, &short);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Writes an export, never over an existing file unless `force`.
fn write_file(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; choose another file or pass --force to replace it",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot write {}: {e}", path.display())
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Asks on the terminal; without one, refuses rather than assuming consent.
fn confirm(id: &str, title: &str, messages: usize) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "refusing to delete session {id} without confirmation: stdin is not a terminal; re-run with --yes to delete it"
        );
    }
    let question = format!("Delete session {id} {title:?} ({messages} messages)? [y/N] ");
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{}", pryx_protocol::safe_text::escape(&question));
    let _ = err.flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
