//! MCP (`/mcp`): the servers of `servers.json` with their live status (as the main agent's turns
//! see them), the tools each offers, on/off, remove, and adding a stdio or HTTP server — tested
//! first (connect and list its tools, as `pryx mcp test` does) and saved only when that works.

use crate::Web;
use crate::page::{Layout, Viewer, render, see_other};
use crate::pages::extensions::{self, Server};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use pryx_mcp::{McpManager, McpOptions, ServerConfig, ServersFile};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// How long the test of a new server may take.
const TEST_LIMIT: Duration = Duration::from_secs(20);

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/mcp-servers", get(show))
        .route("/mcp-servers/add", post(add))
        .route("/mcp-servers/remove", post(remove))
        .route("/mcp-servers/{name}/sign-in", post(sign_in))
        .route("/mcp-servers/{name}", get(super::mcp_server::show))
        .route(
            "/mcp-servers/{name}/tool",
            post(super::mcp_server::switch_tool),
        )
}

/// An OAuth sign-in started from the page.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// The person is to open this URL; the loopback listener waits for the redirect.
    Waiting(String),
    /// The tokens are stored under this reference.
    Done(String),
    Failed(String),
}

/// How long the page waits for the authorization URL before answering.
const URL_WAIT: Duration = Duration::from_secs(15);

struct Row {
    server: Server,
    /// HTTP servers can sign in with OAuth.
    http: bool,
    sign_in: Option<SignIn>,
    /// `connected`, `idle`, `failed`, `disabled`.
    status: String,
    tool_count: Option<usize>,
    last_error: Option<String>,
    tools: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "mcp.html")]
struct Page {
    layout: Layout,
    mcp_on: bool,
    rows: Vec<Row>,
    problems: Vec<String>,
    /// The add form, given back after a failed test.
    name: String,
    target: String,
    trusted: bool,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct Shown {
    added: Option<String>,
    removed: Option<String>,
    needs_sign_in: Option<String>,
}

async fn page(web: &Web, viewer: &Viewer) -> Page {
    let (servers, problems) = extensions::servers(web);
    let (status, tools) = web.core.mcp_status().await;
    let rows = servers
        .into_iter()
        .map(|server| {
            let live = status.iter().find(|s| s.name == server.name);
            let sign_in = web
                .sign_ins
                .lock()
                .ok()
                .and_then(|m| m.get(&server.name).cloned());
            let prefix = format!("{}.", server.name);
            Row {
                status: live.map_or_else(
                    || if server.enabled { "idle" } else { "disabled" }.to_string(),
                    |s| s.status.to_string(),
                ),
                tool_count: live.and_then(|s| s.tool_count),
                last_error: live.and_then(|s| s.last_error.clone()),
                tools: tools
                    .iter()
                    .filter(|t| t.name.starts_with(&prefix))
                    .map(|t| (t.name.clone(), t.description.clone()))
                    .collect(),
                http: server.transport != "stdio",
                sign_in,
                server,
            }
        })
        .collect();
    Page {
        layout: Layout::new(web, viewer, "MCP servers", "integrations"),
        mcp_on: web.core.settings().config.mcp.enabled,
        rows,
        problems,
        name: String::new(),
        target: String::new(),
        trusted: false,
        error: None,
        notice: None,
    }
}

async fn show(State(web): State<Arc<Web>>, viewer: Viewer, Query(q): Query<Shown>) -> Response {
    let mut p = page(&web, &viewer).await;
    p.notice = match (q.added, q.removed, q.needs_sign_in) {
        (Some(n), _, _) => Some(format!("Added {n}: it answered and listed its tools.")),
        (_, Some(n), _) => Some(format!("Removed {n} and the approvals given to its tools.")),
        (_, _, Some(n)) => Some(format!(
            "Added {n}: it asks for a sign-in before it lists its tools. Use Sign in below."
        )),
        _ => None,
    };
    render(StatusCode::OK, &p)
}

#[derive(Deserialize)]
struct AddForm {
    name: String,
    /// A command line (stdio) or an http(s) URL.
    target: String,
    #[serde(default)]
    trusted: Option<String>,
}

/// What the form describes, or why it describes nothing usable.
fn config_of(form: &AddForm) -> Result<ServerConfig, String> {
    let target = form.target.trim();
    let mut cfg = if target.starts_with("http://") || target.starts_with("https://") {
        ServerConfig::http(target)
    } else {
        ServerConfig::stdio(pryx_mcp::split_command(target)?)
    };
    cfg.trusted = form.trusted.is_some();
    Ok(cfg)
}

/// Why a new server's test did not list tools.
enum Tested {
    /// It answered that it needs an OAuth sign-in.
    NeedsSignIn,
    Failed(String),
}

/// Connects to the server described and lists its tools; nothing is saved.
async fn test(web: &Web, name: &str, cfg: &ServerConfig) -> Result<usize, Tested> {
    let scratch = web.core.dir().root().join(".mcp-test-never-written.json");
    let mut file = ServersFile::load(&scratch).map_err(|e| Tested::Failed(e.to_string()))?;
    file.upsert(name, cfg)
        .map_err(|e| Tested::Failed(e.to_string()))?;
    let roots = web
        .core
        .profile(None)
        .map(|p| vec![p.workspace])
        .unwrap_or_default();
    let mgr = McpManager::from_file(
        &file,
        McpOptions::new(web.core.dir().clone()).with_roots(roots),
    );
    let Some(conn) = mgr.server(name) else {
        let why = file
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        mgr.shutdown().await;
        return Err(Tested::Failed(why));
    };
    let outcome = tokio::time::timeout(TEST_LIMIT, async {
        conn.connect().await?;
        conn.list_tools().await
    })
    .await;
    mgr.shutdown().await;
    match outcome {
        Ok(Ok(tools)) => Ok(tools.len()),
        Ok(Err(pryx_mcp::McpError::AuthRequired(_))) => Err(Tested::NeedsSignIn),
        Ok(Err(e)) => Err(Tested::Failed(e.to_string())),
        Err(_) => Err(Tested::Failed(format!(
            "it did not answer within {} s",
            TEST_LIMIT.as_secs()
        ))),
    }
}

async fn add(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<AddForm>,
) -> Response {
    let name = form.name.trim().to_string();
    let refused = |why: String| {
        let (web, viewer, form) = (&web, &viewer, &form);
        async move {
            let mut p = page(web, viewer).await;
            p.name = form.name.clone();
            p.target = form.target.clone();
            p.trusted = form.trusted.is_some();
            p.error = Some(why);
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    };
    let path = web.core.dir().mcp_servers_file();
    let mut file = match ServersFile::load(&path) {
        Ok(f) => f,
        Err(e) => return refused(e.to_string()).await,
    };
    if file.contains(&name) {
        return refused(format!("a server named {name} exists; remove it first")).await;
    }
    let cfg = match config_of(&form) {
        Ok(c) => c,
        Err(e) => return refused(e).await,
    };
    // A server that answers "sign in first" is kept: signing in is the next step.
    let needs_sign_in = match test(&web, &name, &cfg).await {
        Ok(_) => false,
        Err(Tested::NeedsSignIn) => true,
        Err(Tested::Failed(e)) => {
            return refused(format!("Not saved: the test failed: {e}")).await;
        }
    };
    let saved = file.upsert(&name, &cfg).and_then(|_| file.save());
    match saved {
        Ok(()) => {
            tracing::info!(server = %name, by = %viewer.session.id, "an MCP server was added from the dashboard");
            if needs_sign_in {
                see_other(&format!("/mcp-servers?needs_sign_in={name}"))
            } else {
                see_other(&format!("/mcp-servers?added={name}"))
            }
        }
        Err(e) => refused(e.to_string()).await,
    }
}

#[derive(Deserialize)]
struct RemoveForm {
    name: String,
}

async fn remove(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<RemoveForm>,
) -> Response {
    let name = form.name.trim().to_string();
    let dir = web.core.dir().clone();
    let result = ServersFile::load(&dir.mcp_servers_file()).and_then(|mut file| {
        if !file.remove(&name)? {
            return Ok(false);
        }
        file.save()?;
        pryx_mcp::forget_server(&dir, &name)?;
        Ok(true)
    });
    let outcome = match result {
        Ok(true) => web
            .core
            .store()
            .revoke_grants_with_prefix(&format!("{name}."), &format!("web:{}", viewer.session.id))
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Ok(false) => Err(format!("there is no server named {name}")),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(()) => see_other(&format!("/mcp-servers?removed={name}")),
        Err(e) => {
            let mut p = page(&web, &viewer).await;
            p.error = Some(e);
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

/// Starts an OAuth sign-in to an HTTP server and answers with the page showing the URL to open;
/// the flow finishes in the background when the authorization server redirects back to this
/// machine, and the page shows the outcome.
async fn sign_in(
    State(web): State<Arc<Web>>,
    _viewer: Viewer,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let tx = std::sync::Mutex::new(Some(tx));
    let dir = web.core.dir().clone();
    let (task_web, task_name) = (web.clone(), name.clone());
    tokio::spawn(async move {
        let show = move |url: &str| {
            if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(url.to_string());
            }
        };
        let outcome = pryx_mcp::sign_in(
            &dir,
            &task_name,
            pryx_mcp::oauth::UserAgent::Browser { open: false },
            &show,
        )
        .await;
        let state = match outcome {
            Ok(token_ref) => {
                tracing::info!(server = %task_name, "signed in to an MCP server from the dashboard");
                SignIn::Done(token_ref)
            }
            Err(e) => SignIn::Failed(e.to_string()),
        };
        if let Ok(mut m) = task_web.sign_ins.lock() {
            m.insert(task_name, state);
        }
    });
    // Without a URL in time, the flow ended first (its outcome is recorded) or is slow to start.
    if let Ok(Ok(url)) = tokio::time::timeout(URL_WAIT, rx).await
        && let Ok(mut m) = web.sign_ins.lock()
    {
        m.insert(name.clone(), SignIn::Waiting(url));
    }
    see_other(&format!("/mcp-servers#s-{name}"))
}
