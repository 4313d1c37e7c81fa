//! `pryx` with no arguments: the terminal UI over a supervised or attached core.
//!
//! The UI draws at once and never waits for the core: discovery, the sidecar start and every call
//! run in the background, and the connection state is shown until the core answers.

mod local;
mod pump;
mod remote;

use crate::supervisor::{RestartPolicy, SidecarCommand, Supervisor, SupervisorOptions};
use anyhow::Context;
use pryx_config::DataDir;
use pryx_tui::{ConnectionState, FrameProbe, RunOptions};
use remote::RemoteCore;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// Overrides the first restart delay in milliseconds (the schedule keeps its shape).
const BACKOFF_ENV: &str = "PRYX_SIDECAR_BACKOFF_MS";
/// How long a starting core may take to announce its port.
const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(15);

/// Options of the terminal UI (given to `pryx` without a subcommand).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Open this session on start.
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Capture the mouse: the wheel scrolls the chat (select text with Shift held).
    #[arg(long)]
    mouse: bool,
    /// Append start-up timings (milliseconds since start) to this file.
    #[arg(long, hide = true, value_name = "FILE")]
    timings: Option<PathBuf>,
    /// Quit after the first frame drawn while connected (start-up measurements).
    #[arg(long, hide = true)]
    exit_when_connected: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let t0 = (Instant::now(), SystemTime::now());
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the terminal UI needs an interactive terminal; in scripts use `pryx run \"…\"`, and `pryx serve` for a headless core (see `pryx --help`)"
        );
    }
    // One thread: the sidecar is forked from it, and its parent-death signal follows this thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(tui(args, t0))
}

/// When the first frames were drawn, after start.
#[derive(Debug)]
struct Timings {
    started: SystemTime,
    first_frame: Option<Duration>,
    connected_frame: Option<Duration>,
}

async fn tui(args: Args, (t0, started): (Instant, SystemTime)) -> anyhow::Result<ExitCode> {
    let dir = DataDir::open().context("cannot open the data directory")?;
    init_logging(&dir);
    let workspace = std::env::current_dir().context("cannot read the current directory")?;
    let exe = std::env::current_exe().context("cannot find the pryx executable")?;
    let restart = match std::env::var(BACKOFF_ENV).ok().and_then(|v| v.parse().ok()) {
        Some(ms) => RestartPolicy::with_base(Duration::from_millis(ms)),
        None => RestartPolicy::default(),
    };
    let opts = SupervisorOptions {
        dir: dir.clone(),
        sidecar: SidecarCommand {
            exe,
            extra_args: Vec::new(),
            announce_timeout: ANNOUNCE_TIMEOUT,
        },
        restart,
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let supervisor = Supervisor::start(opts, tx.clone());
    let pump = tokio::spawn(pump::run(supervisor.link.clone(), tx));
    let api = RemoteCore::new(
        supervisor.link.clone(),
        rx,
        supervisor.retry.clone(),
        dir,
        workspace,
    );

    let timings = Arc::new(Mutex::new(Timings {
        started,
        first_frame: None,
        connected_frame: None,
    }));
    let probe = {
        let timings = timings.clone();
        let exit = args.exit_when_connected;
        FrameProbe(Arc::new(move |state| {
            let Ok(mut t) = timings.lock() else {
                return false;
            };
            t.first_frame.get_or_insert_with(|| t0.elapsed());
            if state.connection == ConnectionState::Connected {
                t.connected_frame.get_or_insert_with(|| t0.elapsed());
                return exit;
            }
            false
        }))
    };
    let run_opts = RunOptions {
        session_id: args.session,
        mouse: args.mouse,
        probe: Some(probe),
        ..RunOptions::default()
    };
    let result = tokio::select! {
        r = pryx_tui::run(api, run_opts) => r,
        sig = stop_signal() => {
            tracing::info!(signal = sig, "stopping on a signal");
            Ok(())
        }
    };
    pump.abort();
    supervisor.shutdown().await;
    if let Some(path) = &args.timings {
        write_timings(path, &timings);
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM, SIGHUP (the terminal closed) or SIGINT: leave like a quit, stopping the sidecar.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot watch signals; the sidecar stops through its parent-death signal");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
        _ = int.recv() => "SIGINT",
    }
}

fn write_timings(path: &std::path::Path, timings: &Mutex<Timings>) {
    use std::io::Write;
    let Ok(t) = timings.lock() else { return };
    let ms = |d: Option<Duration>| {
        d.map_or_else(
            || "none".to_string(),
            |d| format!("{:.1}", d.as_secs_f64() * 1000.0),
        )
    };
    // Wall-clock time of the first frame, so a caller can count from before the exec.
    let epoch_ms = t
        .first_frame
        .and_then(|d| (t.started + d).duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let line = format!(
        "first_frame_ms={} connected_frame_ms={} first_frame_epoch_ms={epoch_ms}\n",
        ms(t.first_frame),
        ms(t.connected_frame)
    );
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("warning: cannot write timings to {}: {e}", path.display());
    }
}

/// The UI owns the terminal, so its log goes to `logs/tui.log` (level from `PRYX_LOG`),
/// rotated like the core's.
fn init_logging(dir: &DataDir) {
    let path = dir.logs_dir().join("tui.log");
    let file = std::fs::create_dir_all(dir.logs_dir())
        .and_then(|()| crate::rotating_log::RotatingFile::open(&path));
    let Ok(file) = file else { return };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRYX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Masked like the core's log: a line may quote a server's error or a tool argument.
    let mask = crate::masked_log::LogMask::new(pryx_telemetry::Redactor::named(
        pryx_core::setup::stored_secrets(dir),
    ));
    let _ = tracing_subscriber::fmt()
        .with_writer(mask.wrap_shared(Mutex::new(file)))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}
