//! `pryx install-service`, `pryx uninstall-service`, `pryx service status`: the core as a
//! systemd unit (Linux; user unit, or system unit with `--system`) or a launchd agent (macOS),
//! started with `pryx serve`, restarted on failure, logging to the journal and the data dir.

use crate::term::{say, say_err};
use anyhow::{Context, bail};
use pryx_protocol::api::CoreSupervisor;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Set in the unit's environment: `pryx serve` records which manager restarts it.
pub const SERVICE_ENV: &str = "PRYX_SERVICE";
const UNIT_NAME: &str = "pryx.service";
const LAUNCHD_LABEL: &str = "dev.pryx.core";

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// A system unit (in /etc/systemd/system, run as --user) instead of a user unit.
    #[arg(long)]
    system: bool,
    /// The account a system unit runs as (default: the one invoking sudo, else the current one).
    #[arg(long, requires = "system")]
    user: Option<String>,
    /// Workspace root of the service's sessions (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// Port of the API (default: a free one, written to metadata.json).
    #[arg(long)]
    port: Option<u16>,
    /// Write the unit somewhere else (and do not ask the service manager to load it).
    #[arg(long, value_name = "DIR")]
    unit_dir: Option<PathBuf>,
    /// Write and enable the unit without starting it now.
    #[arg(long)]
    no_start: bool,
}

#[derive(Debug, clap::Args)]
pub struct UninstallArgs {
    /// The system unit instead of the user unit.
    #[arg(long)]
    system: bool,
    /// Remove the unit from this directory (as given to install-service --unit-dir).
    #[arg(long, value_name = "DIR")]
    unit_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(subcommand)]
    command: StatusCommand,
}

#[derive(Debug, clap::Subcommand)]
enum StatusCommand {
    /// Whether the unit is installed and running, and the core it runs.
    Status {
        /// The system unit instead of the user unit.
        #[arg(long)]
        system: bool,
        /// The unit in this directory.
        #[arg(long, value_name = "DIR")]
        unit_dir: Option<PathBuf>,
    },
}

/// What restarts this core, from the unit's environment.
pub fn supervisor_from_env() -> CoreSupervisor {
    match std::env::var(SERVICE_ENV).as_deref() {
        Ok("systemd") => CoreSupervisor::Systemd,
        Ok("systemd-system") => CoreSupervisor::SystemdSystem,
        Ok("launchd") => CoreSupervisor::Launchd,
        _ => CoreSupervisor::None,
    }
}

/// Asks the service manager to restart the core (used by `pryx update`).
pub fn restart(supervisor: CoreSupervisor) -> anyhow::Result<()> {
    match supervisor {
        CoreSupervisor::Systemd => systemctl(false, &["restart", UNIT_NAME]),
        CoreSupervisor::SystemdSystem => systemctl(true, &["restart", UNIT_NAME])
            .context("restarting the system service needs root: run `sudo pryx update` with PRYX_HOME set to the service's data dir"),
        CoreSupervisor::Launchd => {
            let target = format!("gui/{}/{LAUNCHD_LABEL}", rustix::process::getuid().as_raw());
            run_tool("launchctl", &["kickstart", "-k", &target])
        }
        CoreSupervisor::None | CoreSupervisor::Tui => Ok(()),
    }
}

fn launchd() -> bool {
    cfg!(target_os = "macos")
}

fn unit_path(system: bool, unit_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = unit_dir {
        return Ok(dir.join(if launchd() {
            format!("{LAUNCHD_LABEL}.plist")
        } else {
            UNIT_NAME.to_string()
        }));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Ok(match (launchd(), system) {
        (true, _) => home
            .context("HOME is not set")?
            .join("Library/LaunchAgents")
            .join(format!("{LAUNCHD_LABEL}.plist")),
        (false, true) => PathBuf::from("/etc/systemd/system").join(UNIT_NAME),
        (false, false) => {
            let base = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join(".config")))
                .context("neither XDG_CONFIG_HOME nor HOME is set")?;
            base.join("systemd/user").join(UNIT_NAME)
        }
    })
}

pub fn install(args: InstallArgs) -> anyhow::Result<ExitCode> {
    if launchd() && args.system {
        bail!("--system is for systemd; on macOS the service is a launchd agent of your account");
    }
    let binary = pryx_update::Binary::current()?.path;
    let workspace = match &args.workspace {
        Some(w) => w.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let workspace = workspace
        .canonicalize()
        .with_context(|| format!("workspace {} does not exist", workspace.display()))?;
    let user = match (&args.user, args.system) {
        (Some(u), _) => Some(u.clone()),
        (None, true) => std::env::var("SUDO_USER")
            .ok()
            .or_else(|| std::env::var("USER").ok()),
        (None, false) => None,
    };
    let data = service_data_dir(user.as_deref(), args.system)?;
    let mut serve = vec![
        "serve".to_string(),
        "--log-to".into(),
        "both".into(),
        "--workspace".into(),
        workspace.display().to_string(),
    ];
    if let Some(port) = args.port {
        serve.extend(["--port".into(), port.to_string()]);
    }
    let text = if launchd() {
        plist(&binary, &serve, data.root())
    } else {
        unit(&binary, &serve, data.root(), args.system, user.as_deref())
    };
    let path = unit_path(args.system, args.unit_dir.as_deref())?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    pryx_config::atomic_write(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    say!("Wrote {}.", path.display());
    if args.unit_dir.is_some() {
        say!("Not loaded (--unit-dir): the service manager does not read that directory.");
        return Ok(ExitCode::SUCCESS);
    }
    let loaded = if launchd() {
        let target = format!("gui/{}", rustix::process::getuid().as_raw());
        run_tool(
            "launchctl",
            &["bootstrap", &target, &path.display().to_string()],
        )
    } else {
        systemctl(args.system, &["daemon-reload"]).and_then(|()| {
            let mut enable = vec!["enable"];
            if !args.no_start {
                enable.push("--now");
            }
            enable.push(UNIT_NAME);
            systemctl(args.system, &enable)
        })
    };
    match loaded {
        Ok(()) => say!(
            "The service is enabled{}. `pryx service status` shows it.",
            if args.no_start { "" } else { " and started" }
        ),
        Err(e) => say_err!(
            "warning: the unit is written but the service manager did not load it ({e:#}); \
             on a machine without systemd or launchd, run `pryx serve` another way"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let removed = remove_unit(args.system, args.unit_dir.as_deref())?;
    match removed {
        Some(path) => say!("Removed {}.", path.display()),
        None => say!("No Pryx service is installed."),
    }
    Ok(ExitCode::SUCCESS)
}

/// Stops, disables and deletes the unit; its path when there was one.
pub fn remove_unit(system: bool, unit_dir: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    let path = unit_path(system, unit_dir)?;
    if !path.exists() {
        return Ok(None);
    }
    if unit_dir.is_none() {
        let stopped = if launchd() {
            let target = format!("gui/{}/{LAUNCHD_LABEL}", rustix::process::getuid().as_raw());
            run_tool("launchctl", &["bootout", &target])
        } else {
            systemctl(system, &["disable", "--now", UNIT_NAME])
        };
        if let Err(e) = stopped {
            say_err!("note: the service manager did not stop the service ({e:#})");
        }
    }
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    if unit_dir.is_none() && !launchd() {
        let _ = systemctl(system, &["daemon-reload"]);
    }
    Ok(Some(path))
}

pub fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let StatusCommand::Status { system, unit_dir } = args.command;
    let path = unit_path(system, unit_dir.as_deref())?;
    if !path.exists() {
        say!(
            "No Pryx service is installed ({} does not exist).",
            path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    say!("unit     {}", path.display());
    if unit_dir.is_none() && !launchd() {
        let state = Command::new("systemctl")
            .args(scope(system))
            .args(["is-active", UNIT_NAME])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|e| format!("unknown (systemctl: {e})"));
        say!("state    {state}");
    }
    let dir = pryx_config::DataDir::open().context("cannot open the data directory")?;
    match pryx_client::read_metadata(&dir) {
        Ok(meta) if pryx_client::pid_alive(meta.pid) => say!(
            "core     pid {}, port {}, version {}, started {}",
            meta.pid,
            meta.port,
            meta.version,
            meta.started_at
        ),
        _ => say!("core     not running"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The data dir the service runs on: `PRYX_HOME` when set; for a system unit run as another
/// account (`sudo pryx install-service --system`), that account's `~/.pryx`, never root's.
/// Not created here: the service creates it as its own user on first start.
fn service_data_dir(user: Option<&str>, system: bool) -> anyhow::Result<pryx_config::DataDir> {
    let from_env = std::env::var_os(pryx_config::HOME_ENV).filter(|v| !v.is_empty());
    if let (true, Some(user), None) = (system, user, &from_env) {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let home = passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 7 && f[0] == user)
            .map(|f| PathBuf::from(f[5]))
            .with_context(|| {
                format!("no account {user:?} in /etc/passwd; name it with --user or set PRYX_HOME")
            })?;
        return Ok(pryx_config::DataDir::at(home.join(".pryx")));
    }
    pryx_config::DataDir::locate().context("cannot find the data directory; set PRYX_HOME")
}

fn scope(system: bool) -> &'static [&'static str] {
    if system { &[] } else { &["--user"] }
}

fn systemctl(system: bool, args: &[&str]) -> anyhow::Result<()> {
    let mut all: Vec<&str> = scope(system).to_vec();
    all.extend_from_slice(args);
    run_tool("systemctl", &all)
}

fn run_tool(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// systemd quotes: a word with spaces or quotes goes in double quotes, `\` and `"` escaped,
/// `%` doubled (a specifier otherwise) and `$` doubled (a variable otherwise).
fn systemd_word(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%")
        .replace('$', "$$");
    if escaped.is_empty() || escaped.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"')
    {
        format!("\"{escaped}\"")
    } else {
        escaped
    }
}

fn unit(binary: &Path, serve: &[String], data: &Path, system: bool, user: Option<&str>) -> String {
    let exec: Vec<String> = std::iter::once(binary.display().to_string())
        .chain(serve.iter().cloned())
        .map(|w| systemd_word(&w))
        .collect();
    let mut text = String::from(
        "# Written by `pryx install-service`; `pryx uninstall-service` removes it.\n\
         [Unit]\n\
         Description=Pryx core (local-first AI agent)\n\
         Documentation=https://github.com/pryx-dev/pryx/blob/main/docs/install.md\n\
         After=network-online.target\n\
         Wants=network-online.target\n\n\
         [Service]\n\
         Type=simple\n",
    );
    text.push_str(&format!("ExecStart={}\n", exec.join(" ")));
    text.push_str(&format!(
        "Environment={}\n",
        systemd_word(&format!("PRYX_HOME={}", data.display()))
    ));
    text.push_str(&format!(
        "Environment={SERVICE_ENV}={}\n",
        if system { "systemd-system" } else { "systemd" }
    ));
    if let Some(user) = user {
        text.push_str(&format!("User={}\n", systemd_word(user)));
    }
    // The whole control group goes on stop: nothing a tool started outlives the core.
    text.push_str(
        "Restart=on-failure\n\
         RestartSec=2\n\
         TimeoutStopSec=10\n\
         KillMode=control-group\n\n\
         [Install]\n",
    );
    text.push_str(if system {
        "WantedBy=multi-user.target\n"
    } else {
        "WantedBy=default.target\n"
    });
    text
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn plist(binary: &Path, serve: &[String], data: &Path) -> String {
    let args: String = std::iter::once(binary.display().to_string())
        .chain(serve.iter().cloned())
        .map(|a| format!("    <string>{}</string>\n", xml(&a)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         \x20 <key>Label</key><string>{LAUNCHD_LABEL}</string>\n\
         \x20 <key>ProgramArguments</key>\n  <array>\n{args}  </array>\n\
         \x20 <key>EnvironmentVariables</key>\n  <dict>\n\
         \x20   <key>PRYX_HOME</key><string>{}</string>\n\
         \x20   <key>{SERVICE_ENV}</key><string>launchd</string>\n  </dict>\n\
         \x20 <key>RunAtLoad</key><true/>\n\
         \x20 <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>\n\
         \x20 <key>StandardErrorPath</key><string>{}</string>\n\
         </dict>\n</plist>\n",
        xml(&data.display().to_string()),
        xml(&data.join("logs/launchd.log").display().to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_words_are_quoted_for_systemd() {
        assert_eq!(systemd_word("/usr/bin/pryx"), "/usr/bin/pryx");
        assert_eq!(systemd_word("/my dir/ws"), "\"/my dir/ws\"");
        assert_eq!(systemd_word("100%"), "100%%");
        assert_eq!(systemd_word("$HOME"), "$$HOME");
        assert_eq!(systemd_word("a\"b"), "\"a\\\"b\"");
        assert_eq!(systemd_word(""), "\"\"");
    }

    #[test]
    fn a_user_unit_runs_serve_with_the_service_marker() {
        let text = unit(
            Path::new("/home/u/.local/bin/pryx"),
            &["serve".into(), "--workspace".into(), "/home/u/my ws".into()],
            Path::new("/home/u/.pryx"),
            false,
            None,
        );
        assert!(
            text.contains(
                "ExecStart=/home/u/.local/bin/pryx serve --workspace \"/home/u/my ws\"\n"
            )
        );
        assert!(text.contains("Environment=PRYX_SERVICE=systemd\n"));
        assert!(text.contains("WantedBy=default.target"));
        assert!(!text.contains("User="));
        let system = unit(Path::new("/p"), &[], Path::new("/d"), true, Some("ann"));
        assert!(system.contains("User=ann\n") && system.contains("WantedBy=multi-user.target"));
    }

    #[test]
    fn plist_escapes_xml() {
        let text = plist(Path::new("/a&b/pryx"), &["serve".into()], Path::new("/d<"));
        assert!(text.contains("<string>/a&amp;b/pryx</string>"));
        assert!(text.contains("/d&lt;"));
    }
}
