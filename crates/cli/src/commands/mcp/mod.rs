//! `pryx mcp`: manage MCP servers in `mcp/servers.json` and inspect what they offer.

mod args;
mod show;

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use pryx_config::DataDir;
use pryx_mcp::oauth::UserAgent;
use pryx_mcp::{McpManager, McpOptions, ServersFile};

pub use args::Args;
use args::Sub;
use show::say;

mod serve;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = DataDir::open().context("cannot prepare the data directory")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(dispatch(dir, args.command))
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn manager(dir: &DataDir) -> anyhow::Result<(ServersFile, McpManager)> {
    let file = ServersFile::load(&dir.mcp_servers_file())?;
    let roots = std::env::current_dir().map(|d| vec![d]).unwrap_or_default();
    let mgr = McpManager::from_file(&file, McpOptions::new(dir.clone()).with_roots(roots));
    Ok((file, mgr))
}

fn known(mgr: &McpManager, file: &ServersFile, name: &str) -> anyhow::Result<()> {
    if mgr.server(name).is_some() {
        return Ok(());
    }
    if let Some(p) = file
        .problems()
        .iter()
        .find(|p| p.server.as_deref() == Some(name))
    {
        bail!(
            "server `{name}` is not usable: {p}; fix it in {}",
            file.path().display()
        );
    }
    bail!("no MCP server named `{name}`; see `pryx mcp list`")
}

async fn dispatch(dir: DataDir, sub: Sub) -> anyhow::Result<ExitCode> {
    match sub {
        Sub::Serve => serve::run(dir).await,
        Sub::List { json } => {
            let (file, mgr) = manager(&dir)?;
            // Connecting is what tells whether a server works and how many tools it has.
            let _ = mgr.tools().await;
            let status = mgr.status();
            mgr.shutdown().await;
            show::list(&status, file.problems(), json)?;
            Ok(ExitCode::SUCCESS)
        }
        Sub::Add(add) => {
            let mut file = ServersFile::load(&dir.mcp_servers_file())?;
            if file.contains(&add.name) && !add.force {
                bail!(
                    "server `{}` already exists; remove it first or pass --force to replace it",
                    add.name
                );
            }
            let cfg = add.to_config()?;
            file.upsert(&add.name, &cfg)?;
            file.save()?;
            say!(
                "Added MCP server `{}` ({}{}). Check it with `pryx mcp test {}`.",
                add.name,
                cfg.transport_kind().as_str(),
                if cfg.trusted {
                    ", trusted: its read-only tools are judged like reads"
                } else {
                    ""
                },
                add.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Sub::Remove { name } => {
            let mut file = ServersFile::load(&dir.mcp_servers_file())?;
            if !file.remove(&name)? {
                bail!("no MCP server named `{name}`; see `pryx mcp list`");
            }
            file.save()?;
            // Approvals were given to this program; another one added later under the same
            // name starts with none.
            pryx_mcp::forget_server(&dir, &name)?;
            let revoked = if dir.database_file().exists() {
                crate::setup::open_store(&dir)?
                    .revoke_grants_with_prefix(&format!("{name}."), "user:cli")
                    .context("cannot revoke the server's approvals")?
            } else {
                0
            };
            say!(
                "Removed MCP server `{name}`; {revoked} remembered approval(s) of its tools revoked."
            );
            Ok(ExitCode::SUCCESS)
        }
        Sub::Test { name, json } => {
            let (file, mgr) = manager(&dir)?;
            known(&mgr, &file, &name)?;
            let conn = mgr.server(&name).context("server vanished")?;
            let t0 = Instant::now();
            let connected = conn.connect().await;
            let t_connect = t0.elapsed();
            let result = match connected {
                Ok(()) => {
                    let t1 = Instant::now();
                    conn.list_tools().await.map(|tools| (tools, t1.elapsed()))
                }
                Err(e) => Err(e),
            };
            mgr.shutdown().await;
            let report = match &result {
                Ok((tools, t_list)) => show::TestReport {
                    name: name.clone(),
                    ok: true,
                    wire: conn.status().wire.map(str::to_string),
                    connect_ms: millis(t_connect),
                    list_tools_ms: Some(millis(*t_list)),
                    tools: Some(tools.len()),
                    error: None,
                },
                Err(e) => show::TestReport {
                    name: name.clone(),
                    ok: false,
                    wire: None,
                    connect_ms: millis(t_connect),
                    list_tools_ms: None,
                    tools: None,
                    error: Some(e.to_string()),
                },
            };
            show::test(&report, json)?;
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Sub::Tools { name, json } => {
            let (file, mgr) = manager(&dir)?;
            known(&mgr, &file, &name)?;
            let tools = mgr.server_tools(&name).await;
            let refused = mgr.refused_tools(&name).await.unwrap_or_default();
            mgr.shutdown().await;
            show::tools(&tools?, json)?;
            for e in refused {
                crate::term::say_err!("error: {e}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Sub::Resources { name, read, json } => {
            let (file, mgr) = manager(&dir)?;
            known(&mgr, &file, &name)?;
            let conn = mgr.server(&name).context("server vanished")?;
            let out = match &read {
                Some(uri) => conn.read_resource(uri).await.map(show::Listing::Read),
                None => conn.list_resources().await.map(show::Listing::Resources),
            };
            mgr.shutdown().await;
            show::listing(out?, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Sub::Prompts {
            name,
            get,
            arg,
            json,
        } => {
            let (file, mgr) = manager(&dir)?;
            known(&mgr, &file, &name)?;
            let conn = mgr.server(&name).context("server vanished")?;
            let out = match &get {
                Some(prompt) => {
                    let args = args::pairs_to_map(&arg)?;
                    conn.get_prompt(prompt, args)
                        .await
                        .map(show::Listing::Prompt)
                }
                None => conn.list_prompts().await.map(show::Listing::Prompts),
            };
            mgr.shutdown().await;
            show::listing(out?, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Sub::Auth { name, no_browser } => auth(&dir, &name, !no_browser).await,
    }
}

/// Signs in to an HTTP server with OAuth and stores the tokens in the secret store.
async fn auth(dir: &DataDir, name: &str, open: bool) -> anyhow::Result<ExitCode> {
    let show = |u: &str| {
        eprintln!(
            "Open this URL to authorize Pryx for `{}`:\n\n  {u}\n",
            url_host(u)
        );
    };
    let token_ref = pryx_mcp::sign_in(dir, name, UserAgent::Browser { open }, &show)
        .await
        .map_err(|e| match e {
            pryx_mcp::McpError::UnknownServer(_) => {
                anyhow::anyhow!("no usable MCP server named `{name}`; see `pryx mcp list`")
            }
            other => anyhow::anyhow!("{other}"),
        })?;
    say!("Signed in to `{name}`; the token is kept in the secret store as `{token_ref}`.");
    Ok(ExitCode::SUCCESS)
}

fn url_host(u: &str) -> String {
    url_host_of(u).unwrap_or_else(|| "the server".into())
}

fn url_host_of(u: &str) -> Option<String> {
    let rest = u.split("://").nth(1)?;
    Some(rest.split(['/', '?']).next()?.to_owned())
}
