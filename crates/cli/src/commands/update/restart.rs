//! Restarting the running core on the new binary (and on the old one after a rollback):
//! through its service manager when it has one, else stopped with SIGTERM (turns finish or are
//! recorded cancelled) and started again with the command line and directory it recorded.

use pryx_client::{Client, read_metadata};
use pryx_config::DataDir;
use pryx_protocol::api::{CoreMetadata, CoreSupervisor};
use pryx_update::Binary;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a restarted core has to answer `/health/ready`.
const READY_WITHIN: Duration = Duration::from_secs(15);
/// How long a stopped core has to exit.
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// The core running on this data dir when the update started.
pub struct Running {
    pub metadata: CoreMetadata,
}

impl Running {
    pub async fn find(dir: &DataDir) -> Option<Self> {
        let found = Client::discover_with_metadata(dir).await.ok()?;
        Some(Self {
            metadata: found.metadata,
        })
    }
}

/// Stops the core and starts it on the binary now installed; what to tell the user, or why
/// the new core is not up.
/// True with the message when a core of the new version is up.
pub async fn restart(
    dir: &DataDir,
    binary: &Binary,
    core: &Running,
) -> Result<(String, bool), String> {
    let Some(launch) = &core.metadata.launch else {
        pryx_update::smoke_test(&binary.path)?;
        return Ok((
            format!(
                "The running core (pid {}) did not record how it was started; restart it to use the new version.",
                core.metadata.pid
            ),
            false,
        ));
    };
    match launch.supervisor {
        CoreSupervisor::Tui => {
            pryx_update::smoke_test(&binary.path)?;
            Ok((
                "The TUI's core keeps the old version until you restart the TUI.".to_string(),
                false,
            ))
        }
        CoreSupervisor::Systemd | CoreSupervisor::SystemdSystem | CoreSupervisor::Launchd => {
            crate::commands::service::restart(launch.supervisor).map_err(|e| e.to_string())?;
            wait_ready(dir, core.metadata.pid, None).await?;
            Ok((
                "The service's core restarted on the new version and is ready.".to_string(),
                true,
            ))
        }
        CoreSupervisor::None => {
            stop(dir, core.metadata.pid).await?;
            start(dir, binary, core).await?;
            Ok((
                "The core restarted on the new version and is ready.".to_string(),
                true,
            ))
        }
    }
}

/// After a rollback: the previous binary is back; start the core on it again.
pub async fn start_again(dir: &DataDir, binary: &Binary, core: &Running) -> anyhow::Result<String> {
    let Some(launch) = &core.metadata.launch else {
        return Ok(String::new());
    };
    match launch.supervisor {
        CoreSupervisor::Tui => Ok(String::new()),
        CoreSupervisor::Systemd | CoreSupervisor::SystemdSystem | CoreSupervisor::Launchd => {
            crate::commands::service::restart(launch.supervisor)?;
            wait_ready(dir, core.metadata.pid, None)
                .await
                .map_err(anyhow::Error::msg)?;
            Ok("The service's core is running the previous version again.".to_string())
        }
        CoreSupervisor::None => {
            // A failed new core may still hold the data dir.
            if let Ok(meta) = read_metadata(dir)
                && meta.pid != core.metadata.pid
            {
                let _ = stop(dir, meta.pid).await;
            }
            start(dir, binary, core).await.map_err(anyhow::Error::msg)?;
            Ok("The core is running the previous version again.".to_string())
        }
    }
}

/// SIGTERM, then waits until the core is gone: its process, or its hold on the data dir's core
/// lock (a parent that has not reaped it yet keeps the pid alive).
async fn stop(dir: &DataDir, pid: u32) -> Result<(), String> {
    let Some(target) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return Ok(());
    };
    if rustix::process::kill_process(target, rustix::process::Signal::TERM).is_err() {
        return Ok(()); // already gone
    }
    let deadline = Instant::now() + STOP_WITHIN;
    let stopped = || !pryx_client::pid_alive(pid) || pryx_config::try_lock(dir, "core").is_ok();
    while !stopped() {
        if Instant::now() > deadline {
            return Err(format!(
                "the running core (pid {pid}) did not stop within 30 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Starts `binary` with the core's recorded command line, detached in its own process group,
/// its output appended to `logs/core-restart.log`, and waits for it to be ready.
async fn start(dir: &DataDir, binary: &Binary, core: &Running) -> Result<(), String> {
    let Some(launch) = &core.metadata.launch else {
        return Ok(());
    };
    let logs = dir.logs_dir();
    let _ = pryx_config::create_private_dir(&logs);
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let log = options
        .open(logs.join("core-restart.log"))
        .map_err(|e| format!("cannot open the restart log: {e}"))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot open the restart log: {e}"))?;
    let mut command = Command::new(&binary.path);
    command
        .args(&launch.args)
        .current_dir(&launch.cwd)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.path.display()))?;
    wait_ready(dir, core.metadata.pid, Some(child)).await
}

/// Waits for a core other than `old_pid` to write its metadata and answer `/health/ready`.
async fn wait_ready(dir: &DataDir, old_pid: u32, mut child: Option<Child>) -> Result<(), String> {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if let Some(c) = child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            return Err(format!("the new core exited at start ({status})"));
        }
        if let Ok(found) = Client::discover_with_metadata(dir).await
            && found.metadata.pid != old_pid
            && found
                .client
                .ready()
                .await
                .is_ok_and(|h| h.status != "unavailable")
        {
            // The child is the core now, detached: it is not waited on here.
            drop(child);
            return Ok(());
        }
        if Instant::now() > deadline {
            if let Some(mut c) = child {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err("the new core was not ready within 15 s".to_string());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
