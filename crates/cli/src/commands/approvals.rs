//! `pryx approvals list|revoke`: the standing grants that `session` and `always` answers left.
//! Each lets one exact call run without asking, in one workspace, under one policy. Through
//! the running core when there is one (it owns the database), otherwise on the data dir's
//! database directly; either way a revoke is audited as `grant.revoked` by `user:cli`.

use crate::setup;
use crate::term::{out_raw, say};
use anyhow::{Context, anyhow};
use pryx_client::{Client, ClientError};
use pryx_protocol::Surface;
use pryx_protocol::api::{GrantList, GrantScope, GrantView};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// List standing grants, newest first: what each lets run without asking, where, under
    /// which policy, how often it was used and when it expires.
    List {
        /// Print the list as one JSON object (`{"grants": [...]}`, as the API returns it).
        #[arg(long)]
        json: bool,
    },
    /// Revoke a standing grant by id: the next identical call asks again.
    Revoke {
        /// The grant's id, as `pryx approvals list` shows it.
        id: String,
        /// Print the revoked grant as JSON (`{"revoked": {...}}`).
        #[arg(long)]
        json: bool,
    },
}

/// Where grants are read and revoked.
enum Backend {
    /// The running core, over its API.
    Core(Client),
    /// The database itself (no core runs).
    Store(pryx_store::Store),
}

impl Backend {
    async fn open() -> anyhow::Result<Backend> {
        let (dir, _config) = setup::load_home()?;
        match Client::discover(&dir).await {
            Ok(c) => Ok(Backend::Core(c.with_surface(Surface::Cli))),
            Err(ClientError::NotRunning { .. } | ClientError::Stale { .. }) => {
                Ok(Backend::Store(setup::open_store(&dir)?))
            }
            Err(e) => Err(anyhow!(
                "the core of this data dir runs but cannot be reached ({e}); stop it or run `pryx doctor`"
            )),
        }
    }

    async fn list(&self) -> anyhow::Result<Vec<GrantView>> {
        match self {
            Backend::Core(c) => Ok(c.grants().await?),
            Backend::Store(s) => {
                let s = s.clone();
                let grants = tokio::task::spawn_blocking(move || s.list_grants())
                    .await
                    .context("reading the grants stopped early")??;
                Ok(grants.iter().map(pryx_store::ApprovalGrant::view).collect())
            }
        }
    }

    /// The revoked grant.
    async fn revoke(&self, id: &str) -> anyhow::Result<GrantView> {
        let not_found =
            || anyhow!("no standing grant with id {id}; list them with `pryx approvals list`");
        match self {
            Backend::Core(c) => {
                let before = self.list().await?.into_iter().find(|g| g.id == id);
                match c.revoke_grant(id).await {
                    Ok(()) => before.ok_or_else(not_found),
                    Err(e) if e.code() == Some(pryx_protocol::ErrorCode::NotFound) => {
                        Err(not_found())
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Backend::Store(s) => {
                let (s, owned) = (s.clone(), id.to_string());
                let removed = tokio::task::spawn_blocking(move || {
                    s.revoke_grant(&owned, &format!("user:{}", Surface::Cli.as_str()))
                })
                .await
                .context("revoking the grant stopped early")??;
                removed.map(|g| g.view()).ok_or_else(not_found)
            }
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let backend = Backend::open().await?;
        match args.command {
            Sub::List { json } => {
                let grants = backend.list().await?;
                if json {
                    out_raw(&serde_json::to_string(&GrantList { grants })?);
                } else if grants.is_empty() {
                    say!("no standing grants: every call the policy asks about is asked");
                } else {
                    for g in &grants {
                        print_grant(g);
                    }
                }
            }
            Sub::Revoke { id, json } => {
                let g = backend.revoke(&id).await?;
                if json {
                    out_raw(&serde_json::json!({ "revoked": g }).to_string());
                } else {
                    say!(
                        "revoked {} ({} {}); the next identical call asks again",
                        g.id,
                        g.tool,
                        summary(&g.arguments)
                    );
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_grant(g: &GrantView) {
    let scope = match g.scope {
        GrantScope::Session => format!(
            "session {}",
            g.session_id.as_deref().unwrap_or("(unknown session)")
        ),
        GrantScope::Always => "always".to_string(),
    };
    let state = if g.expired {
        "expired".to_string()
    } else {
        match &g.expires_at {
            Some(t) => format!("until {t}"),
            None => "until revoked".to_string(),
        }
    };
    say!("{}  {}  {scope}  {state}", g.id, g.tool);
    say!("    {}", summary(&g.arguments));
    let hash: String = g.policy_hash.chars().take(12).collect();
    say!(
        "    workspace {} · policy {} ({hash}…)",
        g.workspace,
        g.policy
    );
    let used = match &g.last_used_at {
        Some(t) => format!("used {} time(s), last {t}", g.uses),
        None => "not used yet".to_string(),
    };
    say!("    given {} · {used}", g.created_at);
}

/// The call in one line: `$ command`, the path or URL when there is one, else the arguments.
fn summary(args: &serde_json::Value) -> String {
    let get = |k: &str| args.get(k).and_then(serde_json::Value::as_str);
    match (get("command"), get("path"), get("url")) {
        (Some(c), _, _) => format!("$ {c}"),
        (None, Some(p), _) => p.to_string(),
        (None, None, Some(u)) => {
            format!(
                "{} {u}",
                get("method").unwrap_or("GET").to_ascii_uppercase()
            )
        }
        (None, None, None) => args.to_string(),
    }
}
