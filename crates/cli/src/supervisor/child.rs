//! One run of the sidecar: `pryx serve --port 0 --announce` in its own process group, its port
//! read from the first stdout line, its output kept as a short log tail, and a stop that always
//! ends in a reaped process (SIGTERM to the group, then SIGKILL).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// Exit code of `pryx serve` when another core holds the data dir.
pub const EXIT_LOCKED: i32 = 3;

/// Lines of the core's output kept for the error panel.
const TAIL_LINES: usize = 40;

/// Why a sidecar could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot start {exe}: {source}; check that the pryx binary is still in place")]
    Exec { exe: String, source: std::io::Error },
    #[error("the core exited before announcing its port ({status}); its log is below")]
    Exited { status: String, locked: bool },
    #[error("the core announced {line:?} instead of a port; client and core versions may differ")]
    BadAnnounce { line: String },
    #[error("the core did not announce its port within {0:?}; its log is below")]
    Timeout(Duration),
}

impl SpawnError {
    /// Another core holds the data dir (started meanwhile): attach to it instead.
    pub fn is_locked(&self) -> bool {
        matches!(self, SpawnError::Exited { locked: true, .. })
    }
}

/// The last lines the sidecars wrote, newest last, shared across restarts.
#[derive(Debug, Clone, Default)]
pub struct LogTail(Arc<Mutex<VecDeque<String>>>);

impl LogTail {
    pub fn push(&self, line: String) {
        if let Ok(mut q) = self.0.lock() {
            if q.len() == TAIL_LINES {
                q.pop_front();
            }
            q.push_back(line);
        }
    }

    /// The last `n` lines, newest last.
    pub fn last(&self, n: usize) -> Vec<String> {
        self.0
            .lock()
            .map(|q| q.iter().skip(q.len().saturating_sub(n)).cloned().collect())
            .unwrap_or_default()
    }
}

/// How to start a sidecar.
#[derive(Debug, Clone)]
pub struct SidecarCommand {
    pub exe: PathBuf,
    /// Arguments after `serve` (the supervisor adds `--port 0 --announce` and the parent pid).
    pub extra_args: Vec<OsString>,
    /// How long the core may take to announce its port.
    pub announce_timeout: Duration,
}

/// A running sidecar.
#[derive(Debug)]
pub struct Sidecar {
    child: Child,
    pid: u32,
    port: u16,
}

impl Sidecar {
    /// Starts the core and waits for its port. On failure the child is stopped and reaped.
    pub async fn spawn(cmd: &SidecarCommand, tail: &LogTail) -> Result<Sidecar, SpawnError> {
        let mut command = Command::new(&cmd.exe);
        command
            .arg("serve")
            .args(["--port", "0", "--announce", "--log-to", "both"])
            .arg("--sidecar-parent")
            .arg(std::process::id().to_string())
            .args(&cmd.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own group: terminal signals do not reach it, and stopping it stops what it started.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| SpawnError::Exec {
            exe: cmd.exe.display().to_string(),
            source,
        })?;
        let pid = child.id().unwrap_or(0);
        if let Some(err) = child.stderr.take() {
            tokio::spawn(collect(err, tail.clone()));
        }
        let Some(out) = child.stdout.take() else {
            stop_child(&mut child, pid, Duration::ZERO).await;
            return Err(SpawnError::Timeout(Duration::ZERO));
        };
        let mut lines = BufReader::new(out).lines();
        let first = tokio::select! {
            line = lines.next_line() => line,
            status = child.wait() => {
                let (status, locked) = describe(status);
                // Let the log reader catch the last words.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(SpawnError::Exited { status, locked });
            }
            () = tokio::time::sleep(cmd.announce_timeout) => {
                stop_child(&mut child, pid, Duration::from_secs(2)).await;
                return Err(SpawnError::Timeout(cmd.announce_timeout));
            }
        };
        let line = match first {
            Ok(Some(line)) => line,
            _ => {
                let status = child.wait().await;
                let (status, locked) = describe(status);
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(SpawnError::Exited { status, locked });
            }
        };
        let Ok(port) = line.trim().parse::<u16>() else {
            stop_child(&mut child, pid, Duration::from_secs(2)).await;
            return Err(SpawnError::BadAnnounce { line });
        };
        let rest = tail.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = lines.next_line().await {
                rest.push(l);
            }
        });
        Ok(Sidecar { child, pid, port })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits until the core exits (and reaps it); describes how it ended. Whatever it started in
    /// its group is killed too.
    pub async fn wait(&mut self) -> String {
        let status = self.child.wait().await;
        kill_group(self.pid, rustix::process::Signal::KILL);
        describe(status).0
    }

    /// SIGTERM to the group, up to `grace` for the core to finish, then SIGKILL; always reaped.
    pub async fn stop(mut self, grace: Duration) {
        stop_child(&mut self.child, self.pid, grace).await;
    }
}

async fn collect(r: impl AsyncRead + Unpin, tail: LogTail) {
    let mut lines = BufReader::new(r).lines();
    while let Ok(Some(l)) = lines.next_line().await {
        tail.push(l);
    }
}

fn describe(status: std::io::Result<std::process::ExitStatus>) -> (String, bool) {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => (format!("exit code {c}"), c == EXIT_LOCKED),
            (None, Some(sig)) => (format!("killed by signal {sig}"), false),
            _ => (s.to_string(), false),
        },
        Err(e) => (format!("cannot wait for it: {e}"), false),
    }
}

fn kill_group(pgid: u32, sig: rustix::process::Signal) {
    let pid = i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        // ESRCH: the group is already gone, which is the goal.
        let _ = rustix::process::kill_process_group(pid, sig);
    }
}

async fn stop_child(child: &mut Child, pgid: u32, grace: Duration) {
    use rustix::process::Signal;
    if let Ok(Some(_)) = child.try_wait() {
        kill_group(pgid, Signal::KILL);
        return;
    }
    kill_group(pgid, Signal::TERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        tracing::warn!(pid = pgid, "the core did not stop in time; killing it");
    }
    kill_group(pgid, Signal::KILL);
    let _ = child.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_newest_lines() {
        let t = LogTail::default();
        for i in 0..50 {
            t.push(format!("line {i}"));
        }
        assert_eq!(
            t.last(2),
            vec!["line 48".to_string(), "line 49".to_string()]
        );
        assert_eq!(t.last(100).len(), TAIL_LINES);
    }

    #[tokio::test]
    async fn a_child_that_dies_before_announcing_is_reported_with_its_output() {
        let tail = LogTail::default();
        let cmd = SidecarCommand {
            exe: PathBuf::from("/bin/sh"),
            extra_args: vec![],
            announce_timeout: Duration::from_secs(5),
        };
        // `sh serve ...` fails: there is no script named `serve`.
        let err = Sidecar::spawn(&cmd, &tail).await.unwrap_err();
        assert!(
            matches!(err, SpawnError::Exited { locked: false, .. }),
            "{err}"
        );
        assert!(
            tail.last(5).iter().any(|l| l.contains("serve")),
            "{:?}",
            tail.last(5)
        );
    }
}
