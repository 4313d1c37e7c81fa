//! Drives the real `pryx` TUI inside a private tmux server (`send-keys` / `capture-pane`) and
//! finds the processes of one data dir through /proc, so parallel tests never see each other.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux server with one 120×40 window running `pryx`.
pub struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts `pryx ARGS` with `PRYX_HOME=home` in `cwd`, plus `env` (NAME=VALUE).
    pub fn start(home: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        let mut line = format!(
            "cd {} && exec env -u OPENAI_API_KEY PRYX_HOME={} PRYX_SECRET_BACKEND=file",
            quote(cwd),
            quote(home)
        );
        for (k, v) in env {
            line.push_str(&format!(" {k}={}", quote(Path::new(v))));
        }
        line.push(' ');
        line.push_str(&quote(Path::new(env!("CARGO_BIN_EXE_pryx"))));
        for a in args {
            line.push(' ');
            line.push_str(a);
        }
        let t = Tmux { socket, _dir: dir };
        let out = t
            .cmd()
            .args(["new-session", "-d", "-x", "120", "-y", "40", "-s", "main"])
            .arg(line)
            .env("TERM", "xterm-256color")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).arg("-f").arg("/dev/null");
        c
    }

    /// The visible screen as text ("" once the window is gone).
    pub fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "main"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "main", "-l", text])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Presses keys by tmux name (`Enter`, `C-q`, `Escape`, `r`).
    pub fn keys(&self, keys: &[&str]) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "main"])
            .args(keys)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Whether the window (and so the program in it) still exists.
    pub fn alive(&self) -> bool {
        self.cmd()
            .args(["has-session", "-t", "main"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Waits until the window is gone (tmux notices its program's exit a moment after it);
    /// false if it is still open after `timeout`.
    pub async fn wait_closed(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while self.alive() {
            if Instant::now() > end {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Closes the window: the program gets SIGHUP as when a terminal is closed.
    pub fn close(&self) {
        let _ = self.cmd().args(["kill-session", "-t", "main"]).output();
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after `timeout`.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let end = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for `needle` on screen.
    pub async fn wait_text(&self, needle: &str, timeout: Duration) -> String {
        self.wait_for(needle, timeout, |s| s.contains(needle)).await
    }

    /// Waits until the status bar shows a live connection.
    pub async fn wait_connected(&self, timeout: Duration) -> String {
        self.wait_for("a connected status bar", timeout, connected)
            .await
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// The status bar shows the connected dot.
pub fn connected(screen: &str) -> bool {
    screen
        .lines()
        .any(|l| l.starts_with('●') || l.starts_with(" ●"))
        && !screen.contains("connecting")
        && !screen.contains("core down")
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// A process of the data dir under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    pub state: char,
    pub cmdline: String,
}

impl Proc {
    pub fn is_core(&self) -> bool {
        self.cmdline.split(' ').nth(1) == Some("serve")
    }
}

fn stat(pid: u32) -> Option<(char, u32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let mut f = rest.split(' ');
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Every live process whose environment has `PRYX_HOME=home` and whose program is pryx.
pub fn procs(home: &Path) -> Vec<Proc> {
    let needle = format!("PRYX_HOME={}", home.display());
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if !environ.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            continue;
        }
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline = cmd
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        if !cmdline
            .split(' ')
            .next()
            .is_some_and(|p| p.ends_with("/pryx"))
        {
            continue;
        }
        let Some((state, ppid)) = stat(pid) else {
            continue;
        };
        out.push(Proc {
            pid,
            ppid,
            state,
            cmdline,
        });
    }
    out
}

/// The state letter of `pid` (`Z` for a zombie), `None` when it is gone.
pub fn state_of(pid: u32) -> Option<char> {
    stat(pid).map(|(s, _)| s)
}

/// The core processes of `home`.
pub fn cores(home: &Path) -> Vec<Proc> {
    procs(home).into_iter().filter(Proc::is_core).collect()
}

/// The TUI process of `home`.
pub fn tui(home: &Path) -> Option<Proc> {
    procs(home).into_iter().find(|p| !p.is_core())
}

/// Waits until exactly one core runs and its pid differs from `not`; returns it.
pub async fn wait_core(home: &Path, not: Option<u32>, timeout: Duration) -> Proc {
    let end = Instant::now() + timeout;
    loop {
        let c = cores(home);
        if let [one] = c.as_slice()
            && Some(one.pid) != not
        {
            return one.clone();
        }
        if Instant::now() > end {
            panic!(
                "no new core within {timeout:?}; processes: {:?}",
                procs(home)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the core `pid` of `home` counts a WebSocket client: the TUI has switched to it
/// (its requests go there), which its screen cannot tell apart from the core before.
pub async fn wait_attached(home: &Path, pid: u32, timeout: Duration) {
    let dir = pryx_config::DataDir::at(home);
    let end = Instant::now() + timeout;
    loop {
        if let Ok(client) = pryx_client::Client::discover(&dir).await
            && let Ok(d) = client.diagnostics().await
            && d.pid == pid
            && d.ws_clients > 0
        {
            return;
        }
        assert!(
            Instant::now() < end,
            "the TUI did not attach to core {pid} within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until no pryx process of `home` is left; panics with the survivors after `timeout`.
pub async fn wait_none(home: &Path, timeout: Duration) {
    let end = Instant::now() + timeout;
    loop {
        let left = procs(home);
        if left.is_empty() {
            return;
        }
        if Instant::now() > end {
            panic!("pryx processes left after {timeout:?}: {left:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends a signal to one process.
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{sig} {pid}");
}

/// Whether `tmux` can be run (installed by the test setup script).
pub fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Waits until `pid` has exited (gone, or a zombie waiting for its reaper).
pub async fn wait_exited(pid: u32, timeout: Duration) {
    let end = Instant::now() + timeout;
    loop {
        let state = state_of(pid);
        if matches!(state, None | Some('Z' | 'X')) {
            return;
        }
        if Instant::now() > end {
            panic!("process {pid} still runs after {timeout:?} (state {state:?})");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
