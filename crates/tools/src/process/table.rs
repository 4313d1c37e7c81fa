//! The background processes of every session: started by `shell.exec` with `background: true`,
//! each in its own process group (in the same sandbox as any command), read, waited for, fed
//! and killed by the `process.*` tools of the same session only. A session's processes die with
//! the session, all of them with the table (the core stopping), and a session runs a bounded
//! number at once.

use super::output::{Lines, Output};
use crate::ToolError;
use regex::Regex;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Background processes one session may run at once.
pub const PER_SESSION: usize = 4;
/// A process's watch patterns say so at most this often.
const MATCH_QUIET: Duration = Duration::from_secs(5);

/// Which output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// How a background process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    /// Ended by itself: its exit code, or the signal that ended it.
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// Killed by `process.kill`, the session's deletion or the core stopping.
    Killed,
}

impl Status {
    pub fn describe(self) -> String {
        match self {
            Status::Running => "running".into(),
            Status::Exited { code: Some(c), .. } => format!("exited with code {c}"),
            Status::Exited {
                signal: Some(s), ..
            } => format!("ended by signal {s}"),
            Status::Exited { .. } => "ended".into(),
            Status::Killed => "killed".into(),
        }
    }
}

/// A line that matched one of a process's watch patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessMatch {
    pub session_id: String,
    pub process_id: String,
    pub command: String,
    pub stream: Stream,
    pub pattern: String,
    pub line: String,
    /// Further matching lines in the quiet period before this one was said.
    pub more: u64,
}

/// Told of every watch match (the core turns it into an event and a turn).
pub type MatchSink = Arc<dyn Fn(ProcessMatch) + Send + Sync>;

/// What the tools and the API show of a process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessInfo {
    pub id: String,
    pub session_id: String,
    pub command: String,
    pub pid: Option<u32>,
    pub status: Status,
    pub started_at: String,
    pub stdout_lines: u64,
    pub stderr_lines: u64,
    /// The last lines of each stream.
    pub stdout_tail: Vec<String>,
    pub stderr_tail: Vec<String>,
}

struct Proc {
    id: String,
    session: String,
    command: String,
    pid: Option<u32>,
    started_at: String,
    stdout: Mutex<Output>,
    stderr: Mutex<Output>,
    status: tokio::sync::watch::Sender<Status>,
    killed: std::sync::atomic::AtomicBool,
    stdin: tokio::sync::Mutex<Option<tokio::process::ChildStdin>>,
    watch: Vec<Regex>,
    last_match: Mutex<Option<(std::time::Instant, u64)>>,
}

impl Proc {
    fn out(&self, stream: Stream) -> std::sync::MutexGuard<'_, Output> {
        let m = match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        };
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn info(&self, tail: usize) -> ProcessInfo {
        // One lock of each stream at a time (a second lock of the same one would wait forever).
        let (stdout_lines, stdout_tail) = {
            let o = self.out(Stream::Stdout);
            (o.total(), o.tail(tail))
        };
        let (stderr_lines, stderr_tail) = {
            let e = self.out(Stream::Stderr);
            (e.total(), e.tail(tail))
        };
        let status = *self.status.borrow();
        ProcessInfo {
            id: self.id.clone(),
            session_id: self.session.clone(),
            command: self.command.clone(),
            pid: self.pid,
            status,
            started_at: self.started_at.clone(),
            stdout_lines,
            stderr_lines,
            stdout_tail,
            stderr_tail,
        }
    }

    fn kill(&self) {
        if *self.status.borrow() == Status::Running {
            self.killed.store(true, Ordering::SeqCst);
            crate::shell::kill_group(self.pid);
        }
    }
}

struct Inner {
    procs: Mutex<BTreeMap<u64, Arc<Proc>>>,
    next: AtomicU64,
    /// Where each process's output is logged (`<dir>/<id>.stdout.log`); none: memory only.
    log_dir: Option<PathBuf>,
    on_match: Mutex<Option<MatchSink>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let procs = self
            .procs
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for p in procs.values() {
            p.kill();
        }
    }
}

/// Every background process of the core. Cheap to clone (shared).
#[derive(Clone)]
pub struct ProcessTable {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProcessTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessTable").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn not_found(id: &str) -> ToolError {
    ToolError::InvalidArguments {
        tool: "process".into(),
        message: format!(
            "no background process {id} in this session; process.list shows this session's processes"
        ),
    }
}

impl ProcessTable {
    /// A table logging output under `log_dir` (created private on first use).
    pub fn new(log_dir: Option<PathBuf>) -> ProcessTable {
        ProcessTable {
            inner: Arc::new(Inner {
                procs: Mutex::new(BTreeMap::new()),
                next: AtomicU64::new(1),
                log_dir,
                on_match: Mutex::new(None),
            }),
        }
    }

    /// Who is told of watch matches.
    pub fn set_match_sink(&self, sink: MatchSink) {
        *lock(&self.inner.on_match) = Some(sink);
    }

    fn get(&self, session: &str, id: &str) -> Result<Arc<Proc>, ToolError> {
        let n: u64 = id
            .trim_start_matches('p')
            .parse()
            .map_err(|_| not_found(id))?;
        lock(&self.inner.procs)
            .get(&n)
            .filter(|p| p.session == session)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    fn log_file(&self, id: &str, stream: Stream) -> Option<(std::fs::File, PathBuf)> {
        let dir = self.inner.log_dir.as_ref()?;
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).ok()?;
        let path = dir.join(format!("{id}.{}.log", stream.as_str()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode_private()
            .open(&path)
            .ok()?;
        Some((file, path))
    }

    /// Starts `cmd` in the background for `session` (stdin, stdout and stderr piped, a new
    /// process group). Refused past [`PER_SESSION`] running processes.
    pub fn spawn(
        &self,
        session: &str,
        command: &str,
        mut cmd: tokio::process::Command,
        watch: Vec<Regex>,
    ) -> Result<ProcessInfo, ToolError> {
        let running = lock(&self.inner.procs)
            .values()
            .filter(|p| p.session == session && *p.status.borrow() == Status::Running)
            .count();
        if running >= PER_SESSION {
            return Err(ToolError::InvalidArguments {
                tool: "shell.exec".into(),
                message: format!(
                    "{running} background processes already run in this session (the most allowed): stop one with process.kill or wait for one with process.wait first"
                ),
            });
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| ToolError::Internal(format!("cannot start the command: {e}")))?;
        let n = self.inner.next.fetch_add(1, Ordering::SeqCst);
        let id = format!("p{n}");
        let (status, _) = tokio::sync::watch::channel(Status::Running);
        let proc = Arc::new(Proc {
            id: id.clone(),
            session: session.to_string(),
            command: command.to_string(),
            pid: child.id(),
            started_at: time_now(),
            stdout: Mutex::new(Output::new(self.log_file(&id, Stream::Stdout))),
            stderr: Mutex::new(Output::new(self.log_file(&id, Stream::Stderr))),
            status,
            killed: Default::default(),
            stdin: tokio::sync::Mutex::new(child.stdin.take()),
            watch,
            last_match: Mutex::new(None),
        });
        let readers = [
            child
                .stdout
                .take()
                .map(|o| self.read(Arc::clone(&proc), Stream::Stdout, o)),
            child
                .stderr
                .take()
                .map(|e| self.read(Arc::clone(&proc), Stream::Stderr, e)),
        ];
        let waiter = Arc::clone(&proc);
        tokio::spawn(async move {
            let ended = child.wait().await;
            // Whatever the command left in its group goes with it.
            crate::shell::kill_group(waiter.pid);
            for r in readers.into_iter().flatten() {
                let _ = tokio::time::timeout(Duration::from_secs(2), r).await;
            }
            let status = if waiter.killed.load(Ordering::SeqCst) {
                Status::Killed
            } else {
                match ended {
                    Ok(s) => Status::Exited {
                        code: s.code(),
                        signal: std::os::unix::process::ExitStatusExt::signal(&s),
                    },
                    Err(_) => Status::Exited {
                        code: None,
                        signal: None,
                    },
                }
            };
            *waiter.stdin.lock().await = None;
            waiter.status.send_replace(status);
        });
        let info = proc.info(0);
        lock(&self.inner.procs).insert(n, proc);
        Ok(info)
    }

    fn read<R>(&self, proc: Arc<Proc>, stream: Stream, mut from: R) -> tokio::task::JoinHandle<()>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
    {
        let sink = lock(&self.inner.on_match).clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let lines = match from.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        let last = proc.out(stream).finish();
                        watch_lines(&proc, stream, last.into_iter().collect(), sink.as_ref());
                        break;
                    }
                    Ok(n) => proc.out(stream).push(&buf[..n]),
                };
                watch_lines(&proc, stream, lines, sink.as_ref());
            }
        })
    }

    /// The session's processes, oldest first, with their last `tail` lines.
    pub fn list(&self, session: &str, tail: usize) -> Vec<ProcessInfo> {
        lock(&self.inner.procs)
            .values()
            .filter(|p| p.session == session)
            .map(|p| p.info(tail))
            .collect()
    }

    pub fn info(&self, session: &str, id: &str, tail: usize) -> Result<ProcessInfo, ToolError> {
        Ok(self.get(session, id)?.info(tail))
    }

    /// Up to `max` lines of `stream` from line `offset`.
    pub fn output(
        &self,
        session: &str,
        id: &str,
        stream: Stream,
        offset: u64,
        max: usize,
    ) -> Result<Lines, ToolError> {
        let p = self.get(session, id)?;
        let out = p.out(stream);
        out.read(offset, max)
            .ok_or_else(|| ToolError::InvalidArguments {
                tool: "process.output".into(),
                message: format!(
                    "offset {offset} is past the end: {id} has printed {} lines on {} so far",
                    out.total(),
                    stream.as_str()
                ),
            })
    }

    /// Waits until the process ends or `timeout` passes; its status then.
    pub async fn wait(
        &self,
        session: &str,
        id: &str,
        timeout: Duration,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Status, ToolError> {
        let p = self.get(session, id)?;
        let mut rx = p.status.subscribe();
        let ended = async {
            let _ = rx.wait_for(|s| *s != Status::Running).await;
        };
        tokio::select! {
            () = ended => {}
            () = tokio::time::sleep(timeout) => {}
            () = cancel.cancelled() => return Err(ToolError::Cancelled),
        }
        Ok(*p.status.borrow())
    }

    /// Kills the process's group; its status then (killed, or how it had ended already).
    pub async fn kill(&self, session: &str, id: &str) -> Result<Status, ToolError> {
        let p = self.get(session, id)?;
        p.kill();
        let mut rx = p.status.subscribe();
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            rx.wait_for(|s| *s != Status::Running),
        )
        .await;
        Ok(*p.status.borrow())
    }

    /// Writes `input` to the process's stdin.
    pub async fn send(&self, session: &str, id: &str, input: &str) -> Result<usize, ToolError> {
        let p = self.get(session, id)?;
        let status = *p.status.borrow();
        let ended = || ToolError::InvalidArguments {
            tool: "process.send".into(),
            message: format!("{id} has {}; nothing was sent", status.describe()),
        };
        if status != Status::Running {
            return Err(ended());
        }
        let mut stdin = p.stdin.lock().await;
        let Some(pipe) = stdin.as_mut() else {
            return Err(ended());
        };
        match pipe.write_all(input.as_bytes()).await {
            Ok(()) => {
                let _ = pipe.flush().await;
                Ok(input.len())
            }
            Err(e) => Err(ToolError::InvalidArguments {
                tool: "process.send".into(),
                message: format!("{id} no longer reads its input ({e}); nothing more can be sent"),
            }),
        }
    }

    /// Kills every process of `session` (the session is being deleted) and forgets them.
    pub fn kill_session(&self, session: &str) -> usize {
        let mut procs = lock(&self.inner.procs);
        let ids: Vec<u64> = procs
            .iter()
            .filter(|(_, p)| p.session == session)
            .map(|(n, _)| *n)
            .collect();
        for n in &ids {
            if let Some(p) = procs.remove(n) {
                p.kill();
            }
        }
        ids.len()
    }

    /// Kills every process (the core is stopping).
    pub fn kill_all(&self) {
        for p in lock(&self.inner.procs).values() {
            p.kill();
        }
    }
}

/// Says the first matching line of a quiet period; later ones are counted into the next.
fn watch_lines(proc: &Proc, stream: Stream, lines: Vec<String>, sink: Option<&MatchSink>) {
    let Some(sink) = sink else { return };
    if proc.watch.is_empty() {
        return;
    }
    for line in lines {
        let Some(pattern) = proc.watch.iter().find(|r| r.is_match(&line)) else {
            continue;
        };
        let now = std::time::Instant::now();
        let more = {
            let mut last = lock(&proc.last_match);
            match *last {
                Some((at, ref mut skipped)) if now.duration_since(at) < MATCH_QUIET => {
                    *skipped += 1;
                    continue;
                }
                Some((_, skipped)) => {
                    *last = Some((now, 0));
                    skipped
                }
                None => {
                    *last = Some((now, 0));
                    0
                }
            }
        };
        sink(ProcessMatch {
            session_id: proc.session.clone(),
            process_id: proc.id.clone(),
            command: proc.command.clone(),
            stream,
            pattern: pattern.as_str().to_string(),
            line,
            more,
        });
    }
}

trait PrivateOpen {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateOpen for std::fs::OpenOptions {
    fn mode_private(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600)
    }
}

fn time_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
