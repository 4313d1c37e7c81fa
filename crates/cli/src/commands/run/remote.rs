//! `pryx run` through a running core: the turn runs in `pryx serve` and its events come over the
//! WebSocket, printed exactly as in-process. Approvals are asked on the terminal and answered
//! through the API; without a terminal, any other surface may answer them.

use super::{Args, EXIT_CANCELLED, EXIT_LIMIT, UsageError, approve, output};
use anyhow::anyhow;
use pryx_agent::{TurnReport, TurnStop};
use pryx_catalog::TokenUsage;
use pryx_client::{Backoff, Client, ClientError, Connection, Filter};
use pryx_config::DataDir;
use pryx_protocol::api::PendingApproval;
use pryx_protocol::api::{CreateSession, Diagnostics, SessionSummary, UpdateSession};
use pryx_protocol::message::Role;
use pryx_protocol::{ErrorCode, EventPayload, Surface, TurnEnd};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// How long to keep reconnecting to a core that went away mid-turn.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// A running core that can serve this run.
pub(super) struct Remote {
    client: Client,
    diag: Diagnostics,
}

/// The running core of `dir`, when there is one and it can run this turn as asked. `None` means
/// run in-process (with a note on stderr when a core runs but differs from what was asked).
pub(super) async fn find(dir: &DataDir, args: &Args) -> Option<Remote> {
    let client = match Client::discover(dir).await {
        Ok(c) => c.with_surface(Surface::Cli),
        Err(ClientError::NotRunning { .. } | ClientError::Stale { .. }) => return None,
        Err(e) => {
            crate::term::say_err!(
                "note: running in-process: the core of this data dir cannot be used ({e})"
            );
            return None;
        }
    };
    let diag = match client.diagnostics().await {
        Ok(d) => d,
        Err(e) => {
            crate::term::say_err!(
                "note: running in-process: the running core does not answer ({e})"
            );
            return None;
        }
    };
    if let Some(why) = mismatch(args) {
        crate::term::say_err!("note: running in-process: {why} (pass --local to skip this check)");
        return None;
    }
    Some(Remote { client, diag })
}

/// Why the running core cannot run this turn as asked.
fn mismatch(args: &Args) -> Option<String> {
    args.max_steps
        .is_some()
        .then(|| "--max-steps applies to in-process runs only".into())
}

/// The session this run continues (changed to `--model`/`--policy` when given) or a new one
/// in the workspace. Returns it with its last event version and message number.
async fn session(
    client: &Client,
    args: &Args,
    workspace: &Path,
) -> anyhow::Result<(SessionSummary, u64, u64)> {
    let continued = match (&args.session, args.continue_latest) {
        (Some(id), _) => Some(id.clone()),
        (None, true) => {
            let here = workspace.display().to_string();
            client
                .list_sessions(Some(200), None)
                .await?
                .sessions
                .into_iter()
                .find(|s| s.workspace.as_deref() == Some(here.as_str()) && s.status != "archived")
                .map(|s| s.id)
        }
        (None, false) => None,
    };
    let Some(id) = continued else {
        let body = CreateSession {
            workspace: Some(workspace.display().to_string()),
            model: args.model.clone(),
            policy: args.policy.clone(),
            ..CreateSession::default()
        };
        return Ok((client.create_session(&body).await.map_err(usage_of)?, 0, 0));
    };
    let detail = match client.get_session(&id).await {
        Ok(d) => d,
        Err(e) if e.code() == Some(ErrorCode::NotFound) => {
            return Err(super::session_not_found(&id));
        }
        Err(e) => return Err(e.into()),
    };
    let last_seq = detail.messages.last().map_or(0, |m| m.seq);
    let mut summary = detail.session;
    if args.model.is_some() || args.policy.is_some() {
        let change = UpdateSession {
            title: None,
            model: args.model.clone(),
            policy: args.policy.clone(),
        };
        summary = client
            .update_session(&id, &change)
            .await
            .map_err(usage_of)?;
    }
    Ok((summary, detail.last_version, last_seq))
}

/// The core refusing a name or a setting is a usage error, as in-process.
fn usage_of(e: ClientError) -> anyhow::Error {
    match e.code() {
        Some(
            ErrorCode::NotFound | ErrorCode::ValidationFailed | ErrorCode::ProviderNotConfigured,
        ) => anyhow::Error::new(UsageError(e.to_string())),
        _ => e.into(),
    }
}

/// Runs the turn in the core and prints it; the exit code follows the in-process run's.
pub(super) async fn run(
    remote: Remote,
    args: &Args,
    workspace: &Path,
    prompt: &str,
) -> anyhow::Result<ExitCode> {
    let client = &remote.client;
    let (summary, last_version, last_seq) = session(client, args, workspace).await?;
    let session_id = summary.id.clone();
    let interactive = !args.json && std::io::stderr().is_terminal() && approve::tty_available();
    let printer = output::Printer::new(args.json, args.escape_answer());
    let sink = printer.sink();
    let backoff = Backoff {
        give_up_after: Some(GIVE_UP_AFTER),
        ..Backoff::default()
    };
    let filter = Filter::session(&session_id).since(&session_id, last_version);
    let mut events = client.subscribe_with(filter, backoff).await?;
    if !args.json {
        crate::term::say_err!(
            "session {session_id} · {} · policy {}",
            summary.model.as_deref().unwrap_or(&remote.diag.model),
            summary.policy.as_deref().unwrap_or(&remote.diag.policy)
        );
    }
    if args.compact {
        super::say_compaction(
            args,
            client.session_context(&session_id).await.ok().as_ref(),
        );
        match client.compact_session(&session_id).await {
            Ok(_) => {}
            Err(e) if e.code() == Some(ErrorCode::Conflict) => {
                if !args.json {
                    crate::term::say_err!("nothing compacted: {e}");
                }
            }
            Err(e) => return Err(anyhow!("compaction failed: {e}")),
        }
    }
    let turn = client
        .send_message(&session_id, prompt)
        .await
        .map_err(|e| match e.code() {
            Some(ErrorCode::Conflict) => anyhow!(
                "a turn is already running in session {session_id}; wait for it or cancel it"
            ),
            _ => usage_of(e),
        })?;
    let canceller = client.clone();
    let turn_id = turn.turn_id.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            crate::term::say_err!("\ncancelling…");
            if let Err(e) = canceller.cancel_turn(&turn_id).await {
                crate::term::say_err!("error: cannot cancel the turn: {e}");
            }
        }
    });
    let completed = loop {
        let Some(event) = events.next().await else {
            let why = match &*events.state().borrow() {
                Connection::Closed { error } => error.clone(),
                _ => "the subscription ended".to_string(),
            };
            return Err(anyhow!(
                "lost the connection to the core ({why}); the turn may go on there: see `pryx` or `pryx audit list`"
            ));
        };
        if event.version.is_some_and(|v| v <= turn.after_version) {
            continue;
        }
        sink(&event);
        match event.payload {
            EventPayload::ApprovalNeeded(request) => {
                on_approval(client, *request, interactive, args.json)
            }
            EventPayload::TurnCompleted(end) => break end,
            _ => {}
        }
    };
    finish(client, &printer, &session_id, last_seq, &completed).await
}

/// Asks on the terminal (answering through the API) or says who else may answer.
fn on_approval(client: &Client, request: PendingApproval, interactive: bool, json: bool) {
    if !interactive {
        if !json {
            crate::term::say_err!(
                "… {} needs approval ({}); waiting {} s for an answer from another surface (pryx, web UI or API), then the policy default applies",
                request.tool,
                request.reason,
                request.timeout_secs
            );
        }
        return;
    }
    let id = request.id.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A plain thread: a prompt left open (answered elsewhere) must not hold up the exit.
    std::thread::spawn(move || {
        let _ = tx.send(approve::ask(&request));
    });
    let client = client.clone();
    tokio::spawn(async move {
        let Ok(Some((decision, scope))) = rx.await else {
            return;
        };
        match client.answer_approval(&id, decision, scope).await {
            Ok(_) => {}
            Err(e) if e.code() == Some(ErrorCode::NotFound) => {
                crate::term::say_err!(
                    "(that approval was already answered elsewhere or timed out)"
                );
            }
            Err(e) => crate::term::say_err!("error: cannot send the answer: {e}"),
        }
    });
}

/// Prints the summary line and maps the end of the turn to the exit code.
async fn finish(
    client: &Client,
    printer: &output::Printer,
    session_id: &str,
    last_seq: u64,
    completed: &TurnEnd,
) -> anyhow::Result<ExitCode> {
    let mut stop_reason = None;
    let (stop, steps) = match completed {
        TurnEnd::Completed { steps, .. } => (TurnStop::Completed, *steps),
        TurnEnd::StepLimit { steps, .. } => (TurnStop::StepLimit, *steps),
        TurnEnd::BudgetExceeded { steps, message, .. } => {
            stop_reason = Some(message.clone()).filter(|m| !m.is_empty());
            (TurnStop::BudgetExceeded, *steps)
        }
        TurnEnd::Cancelled { steps, .. } => (TurnStop::Cancelled, *steps),
        // Already printed as `✗ CODE: message` from its `error.occurred`: once is enough.
        TurnEnd::Error { .. } if printer.shown_error() => return Ok(ExitCode::FAILURE),
        TurnEnd::Error { message, .. } => {
            let trace = completed
                .short_trace()
                .map(|t| format!(" (trace {t}: `pryx trace {t}`)"))
                .unwrap_or_default();
            return Err(anyhow!("{message}{trace}"));
        }
        TurnEnd::Interrupted => {
            return Err(anyhow!(
                "the turn was interrupted: the core stopped while it ran (the message is kept in session {session_id})"
            ));
        }
    };
    let mut report = TurnReport {
        session_id: session_id.to_string(),
        stop,
        answer: String::new(),
        steps,
        tool_calls: 0,
        usage: TokenUsage::default(),
        cost_usd: completed.cost_usd(),
        stop_reason,
    };
    // Token counts come from the messages this turn stored.
    if let Ok(detail) = client.get_session(session_id).await {
        for m in detail.messages.iter().filter(|m| m.seq > last_seq) {
            report.usage.input += m.tokens_in;
            report.usage.output += m.tokens_out;
            match m.role {
                Role::Tool => report.tool_calls += 1,
                Role::Assistant => report.answer.clone_from(&m.text),
                Role::User | Role::System => {}
            }
        }
    }
    printer.finish(&report);
    Ok(ExitCode::from(match stop {
        TurnStop::Completed => 0,
        TurnStop::StepLimit | TurnStop::BudgetExceeded => EXIT_LIMIT,
        TurnStop::Cancelled => EXIT_CANCELLED,
    }))
}
