//! `pryx api-keys create|list|revoke`: keys for editors and scripts on the OpenAI-compatible
//! `/v1`, each revocable on its own and optionally limited to some agents. Only a key's SHA-256
//! is stored; `create` prints the key once. Through the running core when there is one,
//! otherwise on the data dir's database directly; either way making and revoking are audited
//! (`api_key.created`, `api_key.revoked`) by `user:cli`.

use crate::setup;
use crate::term::{out_raw, say};
use anyhow::{Context, anyhow};
use pryx_client::{Client, ClientError};
use pryx_protocol::Surface;
use pryx_protocol::api::{ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyView};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Make a key and print it once (`pryx-sk-…`); give it to one editor or script as its
    /// OpenAI API key for `/v1`.
    Create {
        /// Who it is for (`editor`, `nightly-script`, …).
        #[arg(long)]
        name: String,
        /// An agent it may use (repeat for several); without any, every agent.
        #[arg(long = "agent", value_name = "ID")]
        agents: Vec<String>,
        /// Print `{"secret": "...", "key": {...}}` as the API returns it.
        #[arg(long)]
        json: bool,
    },
    /// List the keys, newest first: id, name, agents, when made and last used, revoked or not.
    /// The keys themselves are never shown again.
    List {
        /// Print the list as one JSON object (`{"keys": [...]}`).
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id: `/v1` refuses it from now on.
    Revoke {
        /// The key's id, as `pryx api-keys list` shows it.
        id: String,
        /// Print the revoked key as JSON (`{"revoked": {...}}`).
        #[arg(long)]
        json: bool,
    },
}

/// Where keys are kept: the running core, over its API, or the database itself.
enum Backend {
    Core(Client),
    Store(pryx_store::Store, Vec<String>),
}

fn actor() -> String {
    format!("user:{}", Surface::Cli.as_str())
}

impl Backend {
    async fn open() -> anyhow::Result<Backend> {
        let (dir, config) = setup::load_home()?;
        match Client::discover(&dir).await {
            Ok(c) => Ok(Backend::Core(c.with_surface(Surface::Cli))),
            Err(ClientError::NotRunning { .. } | ClientError::Stale { .. }) => Ok(Backend::Store(
                setup::open_store(&dir)?,
                pryx_core::profiles::ids(&config),
            )),
            Err(e) => Err(anyhow!(
                "the core of this data dir runs but cannot be reached ({e}); stop it or run `pryx doctor`"
            )),
        }
    }

    async fn list(&self) -> anyhow::Result<Vec<ApiKeyView>> {
        match self {
            Backend::Core(c) => Ok(c.api_keys().await?),
            Backend::Store(s, _) => {
                let s = s.clone();
                let keys = tokio::task::spawn_blocking(move || s.list_api_keys())
                    .await
                    .context("reading the API keys stopped early")??;
                Ok(keys.iter().map(pryx_store::ApiKey::view).collect())
            }
        }
    }

    async fn create(&self, body: ApiKeyCreate) -> anyhow::Result<ApiKeyCreated> {
        match self {
            Backend::Core(c) => Ok(c.create_api_key(&body).await?),
            Backend::Store(s, known) => {
                if let Some(a) = body.agents.iter().find(|a| !known.contains(a)) {
                    return Err(anyhow!(
                        "there is no agent `{a}`; the agents are {} (`pryx agents`)",
                        known.join(", ")
                    ));
                }
                let s = s.clone();
                let new = pryx_store::NewApiKey {
                    name: body.name,
                    agents: body.agents,
                };
                let (key, secret) =
                    tokio::task::spawn_blocking(move || s.create_api_key(&new, &actor()))
                        .await
                        .context("making the API key stopped early")??;
                Ok(ApiKeyCreated {
                    secret,
                    key: key.view(),
                })
            }
        }
    }

    async fn revoke(&self, id: &str) -> anyhow::Result<ApiKeyView> {
        let not_found = || anyhow!("no API key with id {id}; list them with `pryx api-keys list`");
        match self {
            Backend::Core(c) => match c.revoke_api_key(id).await {
                Ok(k) => Ok(k),
                Err(e) if e.code() == Some(pryx_protocol::ErrorCode::NotFound) => Err(not_found()),
                Err(e) => Err(e.into()),
            },
            Backend::Store(s, _) => {
                let (s, owned) = (s.clone(), id.to_string());
                let key = tokio::task::spawn_blocking(move || s.revoke_api_key(&owned, &actor()))
                    .await
                    .context("revoking the API key stopped early")??;
                key.map(|k| k.view()).ok_or_else(not_found)
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
            Sub::Create { name, agents, json } => {
                let created = backend.create(ApiKeyCreate { name, agents }).await?;
                if json {
                    out_raw(&serde_json::to_string(&created)?);
                } else {
                    out_raw(&created.secret);
                    say!(
                        "made API key {} ({}, {}); it is shown only now — send it as the OpenAI API key to /v1",
                        created.key.id,
                        created.key.name,
                        agents_of(&created.key)
                    );
                }
            }
            Sub::List { json } => {
                let keys = backend.list().await?;
                if json {
                    out_raw(&serde_json::to_string(&ApiKeyList { keys })?);
                } else if keys.is_empty() {
                    say!("no API keys; make one with `pryx api-keys create --name NAME`");
                } else {
                    for k in &keys {
                        let used = k.last_used_at.as_deref().unwrap_or("never");
                        let state = match &k.revoked_at {
                            Some(t) => format!("revoked {t}"),
                            None => "active".to_string(),
                        };
                        say!("{}  {}  {state}", k.id, k.name);
                        say!(
                            "    {} · made {} · last used {used}",
                            agents_of(k),
                            k.created_at
                        );
                    }
                }
            }
            Sub::Revoke { id, json } => {
                let k = backend.revoke(&id).await?;
                if json {
                    out_raw(&serde_json::json!({ "revoked": k }).to_string());
                } else {
                    say!("revoked {} ({}); /v1 refuses it from now on", k.id, k.name);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn agents_of(k: &ApiKeyView) -> String {
    if k.agents.is_empty() {
        "every agent".to_string()
    } else {
        format!("agents {}", k.agents.join(", "))
    }
}
