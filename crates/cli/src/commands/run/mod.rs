//! `pryx run "prompt"`: one turn through the agent, in the running core of the data dir when
//! there is one (see `remote`), otherwise hosted in this process.
//!
//! Exit codes: 0 the model answered; 1 the run failed (provider, store or tool error);
//! 2 bad usage or configuration; 3 the step limit or session budget stopped the turn;
//! 130 cancelled (Ctrl-C).

mod approve;
mod output;
mod remote;

use crate::setup::{self, UsageError, usage, workspace_root};
use anyhow::{Context, bail};
use pryx_agent::{AgentSettings, TurnStop};
use pryx_core::{Core, CoreError, Overrides, SessionChange, SessionRequest};
use pryx_protocol::Surface;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// Exit code when the step limit or the budget ended the turn.
const EXIT_LIMIT: u8 = 3;
/// Exit code after Ctrl-C.
const EXIT_CANCELLED: u8 = 130;
/// Exit code for bad usage or configuration.
const EXIT_USAGE: u8 = 2;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The prompt; `-` reads it from stdin.
    prompt: String,
    /// Emit NDJSON events (the pryx-protocol event shape) on stdout instead of text.
    #[arg(long)]
    json: bool,
    /// Continue this session.
    #[arg(long, conflicts_with = "continue_latest")]
    session: Option<String>,
    /// Continue the workspace's most recent session.
    #[arg(long = "continue", short = 'c')]
    continue_latest: bool,
    /// Workspace root (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// Model as PROVIDER/MODEL (a provider id from config `providers`).
    #[arg(long, short = 'm')]
    model: Option<String>,
    /// Policy: a built-in mode (workspace-only, read-only, network-allowlist) or a file in policies/.
    #[arg(long)]
    policy: Option<String>,
    /// Most model calls in this turn (default: config agent.max_steps).
    #[arg(long)]
    max_steps: Option<u32>,
    /// Confirm a workspace that is the root directory, your home directory or one holding the
    /// data dir (saved in config `agent.broad_workspaces`); tools then reach all of it except
    /// the data dir.
    #[arg(long)]
    allow_broad_workspace: bool,
    /// Before the turn, summarise the continued session's older messages (the cost is shown
    /// first; they stay stored). Nothing to compact is said and the turn runs anyway.
    #[arg(long)]
    compact: bool,
    /// Run in this process even when a core (`pryx serve`) is running.
    #[arg(long)]
    local: bool,
    /// Show terminal control characters in the answer escaped even when stdout is not a
    /// terminal (on a terminal they always are; `--json` is JSON-escaped anyway).
    #[arg(long)]
    sanitize: bool,
}

impl Args {
    /// Whether the streamed answer is shown with terminal controls escaped.
    fn escape_answer(&self) -> bool {
        self.sanitize || std::io::stdout().is_terminal()
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match runtime.block_on(run_async(args)) {
        Ok(code) => Ok(code),
        Err(e) => {
            crate::term::err(&format!("error: {e:#}"));
            Ok(ExitCode::from(if e.is::<UsageError>() {
                EXIT_USAGE
            } else {
                1
            }))
        }
    }
}

async fn run_async(mut args: Args) -> anyhow::Result<ExitCode> {
    let prompt = read_prompt(&args.prompt).map_err(usage)?;
    let (dir, config) = setup::load_home().map_err(usage)?;
    if let Some(id) = &args.session {
        args.session = Some(
            crate::commands::sessions::resolve_id(id)
                .await
                .map_err(usage)?,
        );
    }
    let workspace = workspace_root(args.workspace.as_deref()).map_err(usage)?;
    let config = setup::confirm_workspace(&dir, config, &workspace, args.allow_broad_workspace)
        .map_err(usage)?;
    if !args.local
        && let Some(core) = remote::find(&dir, &args).await
    {
        return remote::run(core, &args, &workspace, &prompt).await;
    }
    // Approvals are asked on the controlling terminal; NDJSON output is for scripts.
    let interactive = !args.json && std::io::stderr().is_terminal() && approve::tty_available();
    let printer = output::Printer::new(args.json, args.escape_answer());
    // The same core `pryx serve` hosts, without the HTTP layer, for this one run.
    let core = setup::build_core(
        &dir,
        &config,
        AgentSettings {
            surface: Surface::Cli,
            interactive,
            ..AgentSettings::default()
        },
        Overrides {
            workspace: Some(workspace.clone()),
            model: args.model.clone(),
            policy: args.policy.clone(),
            max_steps: args.max_steps,
        },
    )?;
    setup::auto_refresh_catalog(&dir, &config).await;
    let session = local_session(&core, &args, &workspace).map_err(setup_usage)?;
    let agent = core.agent_for(&session).await.map_err(setup_usage)?;
    core.set_observer(printer.sink());
    if interactive {
        approve::spawn_prompter(core.broker().clone());
    }
    let cancel = CancellationToken::new();
    let ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ncancelling…");
            ctrl_c.cancel();
        }
    });
    if !args.json {
        crate::term::say_err!(
            "session {} · {} · policy {}",
            session.id,
            agent.model_id(),
            session.policy.as_deref().unwrap_or("workspace-only")
        );
    }
    drop(agent);
    if args.compact {
        say_compaction(&args, core.session_context(&session.id).await.ok().as_ref());
        match core.compact_session(&session.id).await {
            // `context.compacted` reaches the printer like any event.
            Ok(_) => {}
            Err(CoreError::Turn(pryx_agent::AgentError::CannotCompact(why))) => {
                if !args.json {
                    crate::term::say_err!("nothing compacted: {why}");
                }
            }
            Err(e) => {
                core.shutdown(std::time::Duration::from_secs(2)).await;
                return Err(e.into());
            }
        }
    }
    let report = core.run_turn(&session.id, &prompt, cancel).await;
    core.shutdown(std::time::Duration::from_secs(2)).await;
    let report = match report {
        Ok(r) => r,
        // Already printed as `✗ CODE: message`: once is enough.
        Err(_) if printer.shown_error() => return Ok(ExitCode::FAILURE),
        Err(e) => return Err(setup_usage(e)),
    };
    printer.finish(&report);
    Ok(ExitCode::from(match report.stop {
        TurnStop::Completed => 0,
        TurnStop::StepLimit | TurnStop::BudgetExceeded => EXIT_LIMIT,
        TurnStop::Cancelled => EXIT_CANCELLED,
    }))
}

/// What `--compact` is about to summarise and what it may cost (on stderr; nothing with
/// `--json`, whose events say it).
fn say_compaction(args: &Args, ctx: Option<&pryx_protocol::SessionContext>) {
    if args.json {
        return;
    }
    if let Some(e) = ctx.and_then(|c| c.compaction.as_ref()) {
        crate::term::say_err!(
            "compacting {} earlier messages with {}: about {} tokens in, at most ${:.4}",
            e.messages,
            e.model,
            e.input_tokens,
            e.cost_usd
        );
    }
}

/// The session this run continues or starts. `--model`/`--policy` with a continued session
/// change that session's later turns.
fn local_session(
    core: &Core,
    args: &Args,
    workspace: &std::path::Path,
) -> Result<pryx_store::Session, CoreError> {
    let store = core.store();
    let existing = match (&args.session, args.continue_latest) {
        (Some(id), _) => Some(
            store
                .get_session(id)?
                .ok_or_else(|| CoreError::SessionNotFound(id.clone()))?,
        ),
        (None, true) => {
            let ws = store.upsert_workspace(workspace)?;
            store.latest_session(&ws.id)?
        }
        (None, false) => None,
    };
    match existing {
        Some(s) if args.model.is_some() || args.policy.is_some() => core.update_session(
            &s.id,
            &SessionChange {
                title: None,
                model: args.model.clone(),
                policy: args.policy.clone(),
            },
            "cli",
        ),
        Some(s) => Ok(s),
        None => core.create_session(&SessionRequest {
            workspace: Some(workspace.display().to_string()),
            ..SessionRequest::default()
        }),
    }
}

/// Settings the run cannot use (an unknown model, no provider yet, a missing session) are usage
/// errors; everything else is a failure of the run.
fn setup_usage(e: CoreError) -> anyhow::Error {
    match e {
        CoreError::SessionNotFound(id) => session_not_found(&id),
        CoreError::Setup(_) | CoreError::Invalid(_) => usage(e.into()),
        other => other.into(),
    }
}

/// `--session` names no session (in-process or through the core: the same words).
fn session_not_found(id: &str) -> anyhow::Error {
    anyhow::Error::new(UsageError(format!(
        "session {id} not found; list sessions with `pryx sessions list` or start without --session"
    )))
}

fn read_prompt(arg: &str) -> anyhow::Result<String> {
    let prompt = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the prompt from stdin")?;
        s
    } else {
        arg.to_string()
    };
    if prompt.trim().is_empty() {
        bail!("the prompt is empty");
    }
    Ok(prompt)
}
