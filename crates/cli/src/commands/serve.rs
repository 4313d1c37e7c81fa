//! `pryx serve`: the core headless, with the HTTP + WebSocket API.
//!
//! Holds the data dir's single-instance lock, writes `metadata.json` (port, pid, version,
//! started_at) atomically, creates the API token (`token`, 0600) on first start, and with
//! `--announce` prints the port as the first stdout line. SIGTERM or SIGINT: stop accepting,
//! cancel running turns (recorded as cancelled), flush, remove `metadata.json`, exit within 3 s.

use crate::setup;
use anyhow::{Context, bail};
use pryx_agent::AgentSettings;
use pryx_config::{DataDir, LockError, SecretStore};
use pryx_core::Overrides;
use pryx_protocol::Surface;
use pryx_protocol::api::{CoreLaunch, CoreMetadata, CoreSupervisor};
use pryx_server::{Server, ServerConfig};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code when another core holds the data dir.
const EXIT_LOCKED: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogTo {
    Stderr,
    File,
    Both,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port to listen on (0 picks a free one; see metadata.json or --announce).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind. Anything but loopback also needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Allow binding beyond loopback (the API is then reachable from the network; keep the token safe).
    #[arg(long)]
    allow_remote: bool,
    /// Further host names clients use to reach a remote core (checked against the Host header).
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// Failed authentications one client address may make per minute before it gets 429 for
    /// the rest of that minute (the right token always passes).
    #[arg(long, default_value_t = 20, value_name = "N")]
    auth_failures_per_minute: u32,
    /// Print the port as the first line on stdout once listening (for a supervising parent).
    #[arg(long)]
    announce: bool,
    /// Log line format on stderr (the log file is always JSON lines).
    #[arg(long, value_enum, default_value = "pretty")]
    log_format: LogFormat,
    /// Where logs go: stderr, the data dir's logs/core.log (rotated at 10 MB, 5 kept, 14
    /// days at most; read with `pryx logs`), or both.
    #[arg(long, value_enum, default_value = "stderr")]
    log_to: LogTo,
    /// Workspace root of new sessions (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// Confirm a workspace that is the root directory, your home directory or one holding the
    /// data dir (saved in config `agent.broad_workspaces`).
    #[arg(long)]
    allow_broad_workspace: bool,
    /// Model as PROVIDER/MODEL (default: config defaults.model).
    #[arg(long, short = 'm')]
    model: Option<String>,
    /// Policy: a built-in mode or a file in policies/ (default: config defaults.policy).
    #[arg(long)]
    policy: Option<String>,
    /// Run as the supervised core of the TUI with this process id: stop when it dies.
    #[arg(long, hide = true, value_name = "PID")]
    sidecar_parent: Option<u32>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(parent) = args.sidecar_parent
        && !crate::supervisor::pdeath::arm(parent)
    {
        eprintln!("error: the supervising process {parent} is gone; not starting");
        return Ok(ExitCode::FAILURE);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<ExitCode> {
    if !args.bind.is_loopback() && !args.allow_remote {
        bail!(
            "refusing to bind {} without --allow-remote: the API would be reachable from the network",
            args.bind
        );
    }
    let (dir, config) = setup::load_home()?;
    let mask = crate::masked_log::LogMask::new(pryx_telemetry::Redactor::named(
        pryx_core::setup::stored_secrets(&dir),
    ));
    init_logging(&dir, args.log_format, args.log_to, &mask)?;
    let _lock = match pryx_config::try_lock(&dir, "core") {
        Ok(guard) => guard,
        Err(LockError::Held { holder_pid, .. }) => {
            let who = holder_pid
                .map_or_else(|| "another process".to_string(), |p| format!("process {p}"));
            eprintln!(
                "error: a Pryx core is already running on {} ({who}); stop it first or set PRYX_HOME to another data dir",
                dir.root().display()
            );
            return Ok(ExitCode::from(EXIT_LOCKED));
        }
        Err(e) => return Err(e).context("cannot take the core lock"),
    };
    // Watched from here on: a SIGTERM that arrives while the core starts (a TUI closed at once)
    // waits for the start to finish and then stops it cleanly, instead of killing it mid-way with
    // `metadata.json` left behind.
    let stop = StopSignal::watch();
    // A core that keeps failing after an update puts the previous binary back.
    if crate::commands::update::on_core_start(&dir) {
        return Ok(ExitCode::FAILURE);
    }
    let ws = setup::workspace_root(args.workspace.as_deref());
    let config = match &ws {
        Ok(ws) => setup::confirm_workspace(&dir, config, ws, args.allow_broad_workspace)?,
        Err(_) => config,
    };
    let core = setup::build_core(
        &dir,
        &config,
        AgentSettings {
            surface: Surface::Core,
            interactive: true,
            ..AgentSettings::default()
        },
        Overrides {
            // Only a directory given on the command line overrides the profiles' workspaces.
            workspace: match args.workspace {
                Some(_) => Some(ws.map_err(setup::usage)?),
                None => None,
            },
            model: args.model.clone(),
            policy: args.policy.clone(),
            max_steps: None,
        },
    )?;
    mask.follow(core.store().clone());
    match core.recover_interrupted() {
        Ok(_) => {}
        // A full disk or read-only data dir must not keep the API (and its readiness report)
        // down; what is left open is closed at a later start.
        Err(pryx_core::CoreError::Store(e @ pryx_store::StoreError::CannotWrite(_))) => {
            tracing::warn!(error = %e, "cannot close the turns a previous run left open");
        }
        Err(e) => return Err(e.into()),
    }
    // Channels run in the core that owns the data dir, from before the port is announced (a
    // webhook delivered at once finds its channel running).
    core.host_channels();
    // Scheduled tasks too: a run a previous process left going is marked interrupted first.
    core.host_tasks();
    // Telemetry export, when the config enables it (nothing connects anywhere otherwise).
    core.host_telemetry(pryx_otlp::Exporter::global().clone())
        .await;
    let token = pryx_server::token::load_or_create(&dir)?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.bind, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    let mut server_config = ServerConfig::new(token);
    server_config.extra_hosts = args.allow_hosts.clone();
    server_config.auth_failures_per_minute = args.auth_failures_per_minute;
    server_config.keychain = keychain_status(&dir);
    let server = Server::start(core.clone(), listener, server_config)?;
    let addr = server.local_addr();
    let metadata = CoreMetadata {
        port: addr.port(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: core.started_at().to_string(),
        bind: args.bind.to_string(),
        launch: Some(CoreLaunch {
            args: std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            supervisor: if args.sidecar_parent.is_some() {
                CoreSupervisor::Tui
            } else {
                crate::commands::service::supervisor_from_env()
            },
        }),
    };
    pryx_config::atomic_write(&dir.metadata_file(), &serde_json::to_vec_pretty(&metadata)?)?;
    crate::commands::update::on_core_ready(&dir);
    if args.announce {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", addr.port())
            .and_then(|()| out.flush())
            .context("cannot announce the port")?;
    }
    match core.profile(None) {
        Ok(main) => match &main.model {
            Some(model) => {
                tracing::info!(%addr, %model, policy = %main.policy, workspace = %main.workspace.display(), "core listening")
            }
            None => tracing::warn!(
                %addr,
                "core listening with no model configured: set up a provider in the TUI (`pryx`), with PUT /api/v1/providers/ID, or with `pryx config set`"
            ),
        },
        Err(e) => {
            tracing::warn!(%addr, error = %e, "core listening; its main agent profile is unusable")
        }
    }
    if !args.bind.is_loopback() {
        tracing::warn!(%addr, "the API is exposed beyond loopback");
    }
    // Hand edits of `config.json` apply to channels within a couple of seconds.
    let watcher = core.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tick.tick().await;
            if watcher.is_shutting_down() {
                return;
            }
            watcher.sync_channels();
            watcher.sync_telemetry().await;
        }
    });
    crate::commands::update::spawn_auto_check(&dir, &config);
    let refresh_dir = dir.clone();
    let refresh_config = config.clone();
    tokio::spawn(async move { setup::auto_refresh_catalog(&refresh_dir, &refresh_config).await });

    stop.wait().await;
    tracing::info!("shutting down");
    // Both together, inside the 3 s budget: sockets and streams close while turns are cancelled.
    tokio::join!(
        server.shutdown(Duration::from_millis(1500)),
        core.shutdown(Duration::from_secs(2)),
        core.stop_telemetry()
    );
    if let Err(e) = std::fs::remove_file(dir.metadata_file()) {
        tracing::warn!(error = %e, "cannot remove metadata.json");
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM or SIGINT, registered when made so none is missed during the start.
struct StopSignal {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl StopSignal {
    fn watch() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let watch = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch {name}; it stops the core without cleanup");
                None
            }
        };
        StopSignal {
            term: watch(SignalKind::terminate(), "SIGTERM"),
            int: watch(SignalKind::interrupt(), "SIGINT"),
        }
    }

    async fn wait(mut self) {
        async fn next(s: Option<&mut tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(self.term.as_mut()) => {}
            () = next(self.int.as_mut()) => {}
        }
    }
}

fn keychain_status(dir: &DataDir) -> String {
    match SecretStore::open(dir) {
        Ok(s) if s.backend_name() == "keychain" => "ok".to_string(),
        Ok(_) => "fallback".to_string(),
        Err(e) => e.to_string(),
    }
}

fn init_logging(
    dir: &DataDir,
    format: LogFormat,
    to: LogTo,
    mask: &crate::masked_log::LogMask,
) -> anyhow::Result<()> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    type Boxed = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;
    fn layer<W>(format: LogFormat, writer: W, ansi: bool) -> Boxed
    where
        W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
    {
        let base = tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(ansi);
        match format {
            LogFormat::Json => base.json().boxed(),
            LogFormat::Pretty => base.boxed(),
        }
    }
    let mut layers: Vec<Boxed> = Vec::new();
    if matches!(to, LogTo::Stderr | LogTo::Both) {
        // Log fields quote model text and server messages: on stderr they are shown escaped
        // (see crate::term), so no colour codes either.
        layers.push(layer(format, mask.wrap(|| crate::term::SafeStderr), false));
    }
    if matches!(to, LogTo::File | LogTo::Both) {
        // JSON lines, whatever the terminal's format: `pryx logs` reads them back.
        let path = dir.logs_dir().join(crate::commands::logs::CORE_LOG);
        let file = crate::rotating_log::RotatingFile::open(&path)
            .with_context(|| format!("cannot open the log file {}", path.display()))?;
        layers.push(layer(
            LogFormat::Json,
            mask.wrap_shared(std::sync::Mutex::new(file)),
            false,
        ));
    }
    // Exports nothing until telemetry is switched on (one atomic load per event until then).
    layers.push(Box::new(pryx_otlp::OtlpLogLayer::new(
        pryx_otlp::Exporter::global().clone(),
    )));
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRYX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init()
        .context("cannot start logging")?;
    Ok(())
}
