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
use pryx_core::{Core, CoreParts};
use pryx_protocol::Surface;
use pryx_store::NewSession;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
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

async fn run_async(args: Args) -> anyhow::Result<ExitCode> {
    let prompt = read_prompt(&args.prompt).map_err(usage)?;
    let (dir, config) = setup::load_home().map_err(usage)?;
    let workspace = workspace_root(args.workspace.as_deref()).map_err(usage)?;
    if !args.local
        && let Some(core) = remote::find(&dir, &args, &workspace).await
    {
        return remote::run(core, &args, &prompt).await;
    }
    let choices = setup::Choices {
        workspace: Some(&workspace),
        model: args.model.as_deref(),
        policy: args.policy.as_deref(),
    };
    let setup::Prepared {
        choice,
        provider,
        key,
        policy,
        policy_name,
        store,
        tool_ctx,
        tools,
        mut ext,
        ..
    } = setup::prepare(&dir, &config, choices).await?;
    let ws = store.upsert_workspace(&workspace)?;
    let session = match (&args.session, args.continue_latest) {
        (Some(id), _) => store.get_session(id)?.ok_or_else(|| {
            usage(anyhow::anyhow!(
                "session {id} not found; see `pryx audit list` or start without --session"
            ))
        })?,
        (None, true) => match store.latest_session(&ws.id)? {
            Some(s) => s,
            None => new_session(&store, &ws.id, &choice.info.full_id())?,
        },
        (None, false) => new_session(&store, &ws.id, &choice.info.full_id())?,
    };
    // Approvals are asked on the controlling terminal; NDJSON output is for scripts.
    let interactive = !args.json && std::io::stderr().is_terminal() && approve::tty_available();
    let printer = output::Printer::new(args.json, args.escape_answer());
    // The same core `pryx serve` hosts, without the HTTP layer, for this one run.
    let core = Core::new(CoreParts {
        store,
        provider,
        model: choice.info.clone(),
        tools: Arc::new(tools),
        policy: Arc::new(policy),
        policy_name: policy_name.clone(),
        tool_ctx,
        settings: AgentSettings {
            max_steps: args.max_steps.unwrap_or(config.agent.max_steps),
            session_budget_usd: config.agent.session_budget_usd,
            surface: Surface::Cli,
            known_secrets: key.into_iter().collect(),
            interactive,
            ..AgentSettings::default()
        },
        prompt_sources: std::mem::take(&mut ext.prompt_sources),
        policy_loader: None,
        model_loader: None,
    })?;
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
        eprintln!(
            "session {} · {} · policy {policy_name}",
            session.id,
            choice.info.full_id()
        );
    }
    let report = core.run_turn(&session.id, &prompt, cancel).await;
    ext.shutdown().await;
    let report = report?;
    printer.finish(&report);
    Ok(ExitCode::from(match report.stop {
        TurnStop::Completed => 0,
        TurnStop::StepLimit | TurnStop::BudgetExceeded => EXIT_LIMIT,
        TurnStop::Cancelled => EXIT_CANCELLED,
    }))
}

fn new_session(
    store: &pryx_store::Store,
    workspace_id: &str,
    model: &str,
) -> anyhow::Result<pryx_store::Session> {
    Ok(store.create_session(&NewSession {
        workspace_id: Some(workspace_id.to_string()),
        title: String::new(),
        model: Some(model.to_string()),
    })?)
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
