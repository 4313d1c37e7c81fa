//! Running one command in its own process group with a deadline, cancellation and bounded
//! output; the whole group is killed when the call ends, so nothing outlives it.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use tokio_util::sync::CancellationToken;

use super::capture::Capture;
use crate::ToolError;

/// How a command ended.
pub(crate) enum Ending {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

pub(crate) struct Finished {
    pub ending: Ending,
    pub output: String,
    pub bytes: u64,
    pub truncated: bool,
}

/// How long to keep reading after the group is gone (a process that left the group may hold
/// the pipe open).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Spawns `cmd` (stdin null, stdout and stderr merged into one pipe, new process group) and
/// waits for it, the deadline or cancellation, whichever comes first.
pub(crate) async fn run(
    mut cmd: tokio::process::Command,
    timeout: Duration,
    cancel: &CancellationToken,
    output_cap: usize,
) -> Result<Finished, ToolError> {
    let (reader, writer) =
        std::io::pipe().map_err(|e| ToolError::Internal(format!("cannot create a pipe: {e}")))?;
    let writer2 = writer
        .try_clone()
        .map_err(|e| ToolError::Internal(format!("cannot duplicate a pipe: {e}")))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer2))
        .process_group(0)
        .kill_on_drop(true);
    let spawned = cmd.spawn();
    // Our copies of the write end must go, or the reader never sees end-of-file.
    drop(cmd);
    let mut child = spawned.map_err(|e| ToolError::Internal(format!("cannot start sh: {e}")))?;
    let pgid = child.id();

    let capture = Arc::new(Mutex::new(Capture::new(output_cap)));
    let receiver = tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())
        .map_err(|e| ToolError::Internal(format!("cannot read the pipe: {e}")))?;
    let reader_task = tokio::spawn(drain(receiver, Arc::clone(&capture)));

    let ending = tokio::select! {
        status = child.wait() => match status {
            Ok(s) => Ending::Exited(s),
            Err(e) => {
                kill_group(pgid);
                return Err(ToolError::Internal(format!("waiting for the command failed: {e}")));
            }
        },
        () = tokio::time::sleep(timeout) => Ending::TimedOut,
        () = cancel.cancelled() => Ending::Cancelled,
    };
    // Background jobs of the command die with it.
    kill_group(pgid);
    if !matches!(ending, Ending::Exited(_)) {
        let _ = child.wait().await;
    }
    if tokio::time::timeout(DRAIN_GRACE, reader_task)
        .await
        .is_err()
    {
        tracing::debug!("command output still open after its process group was killed");
    }
    let cap = capture
        .lock()
        .map_err(|_| ToolError::Internal("output buffer poisoned".into()))?;
    Ok(Finished {
        ending,
        output: cap.text(),
        bytes: cap.total(),
        truncated: cap.truncated(),
    })
}

async fn drain(mut rx: tokio::net::unix::pipe::Receiver, capture: Arc<Mutex<Capture>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match rx.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Ok(mut c) = capture.lock() {
                    c.push(&buf[..n]);
                }
            }
        }
    }
}

/// SIGKILL to every process in the group; a group that is already gone is fine.
pub(crate) fn kill_group(pgid: Option<u32>) {
    let Some(pid) = pgid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    if let Err(e) = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL)
        && e != rustix::io::Errno::SRCH
    {
        tracing::warn!(pgid = pid.as_raw_nonzero().get(), error = %e, "cannot kill process group");
    }
}
