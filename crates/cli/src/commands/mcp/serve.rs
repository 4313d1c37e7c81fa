//! `pryx mcp serve`: Pryx as an MCP server on stdio. The MCP client's messages are relayed to
//! the `/mcp` endpoint of the data dir's running core, so approvals appear on the user's
//! surfaces and sessions live in the core. Without a running core, one is started as a
//! supervised sidecar (as the TUI does) and stopped when the client disconnects.
//!
//! Stdout carries the protocol only; logs go to stderr.

use crate::supervisor::{RestartPolicy, SidecarCommand, Supervisor, SupervisorOptions};
use anyhow::{Context, bail};
use pryx_config::DataDir;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a core may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) async fn run(dir: DataDir) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the pryx executable")?;
    let opts = SupervisorOptions {
        dir: dir.clone(),
        sidecar: SidecarCommand {
            exe,
            extra_args: Vec::new(),
            announce_timeout: START_TIMEOUT,
        },
        restart: RestartPolicy::default(),
    };
    // Connection states are for the TUI's status bar; here the link is all that matters.
    let (updates, _ignored) = mpsc::unbounded_channel();
    let supervisor = Supervisor::start(opts, updates);
    let mut link = supervisor.link.clone();
    let client = tokio::time::timeout(START_TIMEOUT, async {
        loop {
            if let Some(l) = link.borrow_and_update().clone() {
                return Some(l.client);
            }
            if link.changed().await.is_err() {
                return None;
            }
        }
    })
    .await;
    let Ok(Some(client)) = client else {
        supervisor.shutdown().await;
        bail!(
            "no Pryx core came up within {}s; run `pryx doctor`, or start one with `pryx serve`",
            START_TIMEOUT.as_secs()
        );
    };
    let token = pryx_client::read_token(&dir).context("cannot read the core's API token")?;
    let url = format!("{}/mcp", client.base_url());
    tracing::info!(%url, "relaying MCP on stdio");
    let result = pryx_mcp::serve::bridge_stdio(&url, &token).await;
    supervisor.shutdown().await;
    result?;
    Ok(ExitCode::SUCCESS)
}
