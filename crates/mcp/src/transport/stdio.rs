//! Stdio servers: a child process in its own process group, with a cleared environment and its
//! stderr appended to `logs/mcp-<server>.log`.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use process_wrap::tokio::{CommandWrap, KillOnDrop, ProcessGroup};
use rmcp::transport::TokioChildProcess;
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

/// Starts the server. `env` is the complete environment (see [`child_env`]).
pub fn spawn(
    server: &str,
    command: &[String],
    cwd: Option<&Path>,
    env: &BTreeMap<String, String>,
    log_dir: Option<&Path>,
) -> std::io::Result<(TokioChildProcess, Option<u32>, StderrTail)> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).env_clear().envs(env);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let mut wrapped = CommandWrap::from(cmd);
    wrapped.wrap(ProcessGroup::leader());
    wrapped.wrap(KillOnDrop);
    let (proc, stderr) = TokioChildProcess::builder(wrapped)
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = proc.id();
    let tail = StderrTail::default();
    if let Some(stderr) = stderr {
        let log = log_dir.map(|d| d.join(format!("mcp-{server}.log")));
        tokio::spawn(copy_stderr(server.to_owned(), stderr, log, tail.clone()));
    }
    Ok((proc, pid, tail))
}

async fn copy_stderr(
    server: String,
    stderr: tokio::process::ChildStderr,
    log: Option<std::path::PathBuf>,
    tail: StderrTail,
) {
    let mut file = match &log {
        Some(path) => tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .await
            .ok(),
        None => None,
    };
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(server = %server, "stderr: {line}");
        if let Some(f) = file.as_mut() {
            let _ = f.write_all(format!("{line}\n").as_bytes()).await;
        }
        tail.push(line);
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
