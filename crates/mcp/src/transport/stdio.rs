//! Stdio servers: a child process in its own process group, with a cleared environment and its
//! stderr appended to `logs/mcp-<server>.log`.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use process_wrap::tokio::{CommandWrap, KillOnDrop, ProcessGroup};

use super::capped::CappedChild;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Lines of stderr kept in memory to explain a failed start.
const TAIL_LINES: usize = 20;

/// The last lines a server wrote to stderr.
#[derive(Debug, Clone, Default)]
pub struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    fn push(&self, line: String) {
        let mut q = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if q.len() == TAIL_LINES {
            q.pop_front();
        }
        q.push_back(line);
    }

    /// The kept lines, oldest first, joined by newlines.
    pub fn text(&self) -> String {
        let q = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        q.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// Environment of the child: `allowed` variables copied from ours, then the configured ones.
pub fn child_env(
    allowed: &[String],
    configured: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for name in allowed {
        if let Ok(v) = std::env::var(name) {
            env.insert(name.clone(), v);
        }
    }
    for (k, v) in configured {
        env.insert(k.clone(), v.clone());
    }
    env
}

/// Starts the server. `env` is the complete environment (see [`child_env`]). Messages it
/// sends are capped at [`super::capped::MAX_MESSAGE_BYTES`].
pub(crate) fn spawn(
    server: &str,
    command: &[String],
    cwd: Option<&Path>,
    env: &BTreeMap<String, String>,
    log_dir: Option<&Path>,
) -> std::io::Result<(CappedChild, Option<u32>, StderrTail)> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).env_clear().envs(env);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut wrapped = CommandWrap::from(cmd);
    wrapped.wrap(ProcessGroup::leader());
    wrapped.wrap(KillOnDrop);
    let mut child = wrapped.spawn()?;
    let pid = child.id();
    let missing = |what: &str| std::io::Error::other(format!("the server's {what} is not a pipe"));
    let stdin = child
        .inner_mut()
        .stdin()
        .take()
        .ok_or_else(|| missing("stdin"))?;
    let stdout = child
        .inner_mut()
        .stdout()
        .take()
        .ok_or_else(|| missing("stdout"))?;
    let stderr = child.inner_mut().stderr().take();
    let proc = CappedChild::new(server, child, stdout, stdin);
    let tail = StderrTail::default();
    if let Some(stderr) = stderr {
        let log = log_dir.map(|d| d.join(format!("mcp-{server}.log")));
        tokio::spawn(copy_stderr(server.to_owned(), stderr, log, tail.clone()));
    }
    Ok((proc, pid, tail))
}

/// Largest size of a server's stderr log; past it the log is moved to `<log>.1` (replacing the
/// older one) and started afresh, so at most twice this is kept.
pub const LOG_CAP_BYTES: u64 = 1024 * 1024;

/// Longest stderr line kept in memory for the tail; the rest of a longer line is dropped there
/// (the log still gets it, within its cap).
const TAIL_LINE_BYTES: usize = 4096;

/// An append-only log that rotates once at [`LOG_CAP_BYTES`].
struct CappedLog {
    path: std::path::PathBuf,
    file: Option<tokio::fs::File>,
    size: u64,
    cap: u64,
}

impl CappedLog {
    async fn open(path: std::path::PathBuf, cap: u64) -> Self {
        let file = Self::open_file(&path).await;
        let size = match &file {
            Some(f) => f.metadata().await.map(|m| m.len()).unwrap_or(0),
            None => 0,
        };
        Self {
            path,
            file,
            size,
            cap,
        }
    }

    async fn open_file(path: &Path) -> Option<tokio::fs::File> {
        tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .await
            .ok()
    }

    async fn write(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.size >= self.cap {
                let mut old = self.path.clone().into_os_string();
                old.push(".1");
                self.file = None;
                let _ = tokio::fs::rename(&self.path, &old).await;
                self.file = Self::open_file(&self.path).await;
                self.size = 0;
            }
            let room = usize::try_from(self.cap - self.size).unwrap_or(usize::MAX);
            let (now, rest) = bytes.split_at(bytes.len().min(room));
            // tokio's File hands writes to a blocking thread: flush so the bytes are in the
            // file before it is renamed (and before a reader looks).
            if let Some(f) = self.file.as_mut()
                && (f.write_all(now).await.is_err() || f.flush().await.is_err())
            {
                self.file = None;
            }
            self.size += now.len() as u64;
            bytes = rest;
        }
    }
}

async fn copy_stderr(
    server: String,
    stderr: tokio::process::ChildStderr,
    log: Option<std::path::PathBuf>,
    tail: StderrTail,
) {
    let mut log = match log {
        Some(path) => Some(CappedLog::open(path, LOG_CAP_BYTES).await),
        None => None,
    };
    let mut reader = BufReader::new(stderr);
    let mut line: Vec<u8> = Vec::new();
    loop {
        let chunk = match reader.fill_buf().await {
            Ok(c) if !c.is_empty() => c.to_vec(),
            _ => break,
        };
        reader.consume(chunk.len());
        if let Some(log) = log.as_mut() {
            log.write(&chunk).await;
        }
        for piece in chunk.split_inclusive(|b| *b == b'\n') {
            let (body, ends) = match piece.strip_suffix(b"\n") {
                Some(b) => (b, true),
                None => (piece, false),
            };
            let room = TAIL_LINE_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&body[..body.len().min(room)]);
            if ends {
                let text = String::from_utf8_lossy(&line).into_owned();
                tracing::debug!(server = %server, "stderr: {text}");
                tail.push(text);
                line.clear();
            }
        }
    }
    if !line.is_empty() {
        tail.push(String::from_utf8_lossy(&line).into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_is_allow_list_plus_configured() {
        // PATH is set in any test environment; a variable outside the list must not pass.
        let allowed = vec!["PATH".to_owned(), "PRYX_SURELY_UNSET_VAR".to_owned()];
        let mut configured = BTreeMap::new();
        configured.insert("TOKEN".to_owned(), "x".to_owned());
        let env = child_env(&allowed, &configured);
        assert!(env.contains_key("PATH"));
        assert!(!env.contains_key("PRYX_SURELY_UNSET_VAR"));
        assert_eq!(env["TOKEN"], "x");
        assert_eq!(env.len(), 2);
    }

    #[tokio::test]
    async fn the_log_rotates_once_at_its_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("mcp-x.log");
        let mut log = CappedLog::open(path.clone(), 100).await;
        log.write(&[b'a'; 60]).await;
        log.write(&[b'b'; 60]).await;
        log.write(&[b'c'; 250]).await;
        let len = |p: &Path| std::fs::metadata(p).unwrap().len();
        let old = tmp.path().join("mcp-x.log.1");
        assert!(
            len(&path) <= 100 && len(&old) <= 100,
            "{} {}",
            len(&path),
            len(&old)
        );
        assert_eq!(std::fs::read(&path).unwrap(), vec![b'c'; 70]);
        assert_eq!(std::fs::read(&old).unwrap(), vec![b'c'; 100]);
        let n = std::fs::read_dir(tmp.path()).unwrap().count();
        assert_eq!(n, 2, "one rotation kept, no more");
    }

    #[test]
    fn tail_keeps_last_lines() {
        let t = StderrTail::default();
        for i in 0..30 {
            t.push(i.to_string());
        }
        let text = t.text();
        assert!(text.starts_with("10\n") && text.ends_with("29"), "{text}");
    }
}
