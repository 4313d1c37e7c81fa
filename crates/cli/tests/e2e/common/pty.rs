//! `pryx` under a real pseudo-terminal (util-linux `script`), typed into through the pty and
//! read back as a terminal emulator (`vt100`) would show it. Waits are on the output itself:
//! each chunk the terminal receives wakes the waiter, no fixed sleeps.

use super::Env;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// What a terminal emulator was asked to do besides drawing text.
#[derive(Default, Debug)]
pub struct Effects {
    pub titles: Vec<String>,
    pub clipboard: Vec<String>,
    pub unhandled: Vec<String>,
}

impl vt100::Callbacks for Effects {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles
            .push(String::from_utf8_lossy(title).into_owned());
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.titles.push(String::from_utf8_lossy(name).into_owned());
    }
    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _: &[u8], data: &[u8]) {
        self.clipboard
            .push(String::from_utf8_lossy(data).into_owned());
    }
    fn unhandled_char(&mut self, _: &mut vt100::Screen, c: char) {
        self.unhandled.push(format!("char {c:?}"));
    }
    fn unhandled_control(&mut self, _: &mut vt100::Screen, b: u8) {
        self.unhandled.push(format!("control {b:#x}"));
    }
    fn unhandled_escape(&mut self, _: &mut vt100::Screen, i1: Option<u8>, i2: Option<u8>, b: u8) {
        self.unhandled.push(format!("escape {i1:?} {i2:?} {b:#x}"));
    }
    fn unhandled_csi(
        &mut self,
        _: &mut vt100::Screen,
        i1: Option<u8>,
        i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        self.unhandled
            .push(format!("csi {i1:?} {i2:?} {params:?} {c:?}"));
    }
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        self.unhandled.push(format!("osc {params:?}"));
    }
}

/// A running `pryx ARGS` on a pty.
pub struct Pty {
    child: Child,
    stdin: Option<ChildStdin>,
    chunks: Receiver<Vec<u8>>,
    /// Every byte the terminal received so far.
    pub bytes: Vec<u8>,
}

impl Pty {
    /// Starts `pryx` with `args` (each quoted for the shell `script` runs) in `cwd`.
    pub fn start(env: &Env, args: &[&str], cwd: &std::path::Path) -> Pty {
        let pryx = env!("CARGO_BIN_EXE_pryx");
        let line = std::iter::once(pryx)
            .chain(args.iter().copied())
            .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = Command::new("script")
            .args(["-qfec", &line, "/dev/null"])
            .env("PRYX_HOME", env.home.path())
            .env("PRYX_SECRET_BACKEND", "file")
            .env("TERM", "xterm-256color")
            .env_remove("OPENAI_API_KEY")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script(1) from util-linux must be installed");
        let mut out = child.stdout.take().unwrap();
        let (tx, chunks) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Pty {
            stdin: child.stdin.take(),
            child,
            chunks,
            bytes: Vec::new(),
        }
    }

    /// Waits until the terminal has received `needle`; false after `limit` or when the
    /// program ended without it.
    pub fn wait_for(&mut self, needle: &str, limit: Duration) -> bool {
        self.wait_for_nth(needle, 1, limit)
    }

    /// Waits until the terminal has received `needle` `n` times.
    pub fn wait_for_nth(&mut self, needle: &str, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.count(needle) >= n {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.bytes.extend(chunk),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Counts how often `needle` was received so far.
    pub fn count(&self, needle: &str) -> usize {
        String::from_utf8_lossy(&self.bytes).matches(needle).count()
    }

    /// Types a line.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the program to end; returns whether it succeeded, with everything it showed.
    pub fn finish(mut self) -> (bool, Vec<u8>) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        while let Ok(chunk) = self.chunks.recv() {
            self.bytes.extend(chunk);
        }
        (status.success(), self.bytes)
    }
}

/// The screen a terminal emulator shows for `bytes` (tall enough to keep every line), and
/// what else the bytes asked of it.
pub fn emulate(bytes: &[u8]) -> (String, Effects) {
    let mut term = vt100::Parser::new_with_callbacks(1000, 200, 0, Effects::default());
    term.process(bytes);
    let screen = term.screen().contents();
    (screen, std::mem::take(term.callbacks_mut()))
}

/// Nothing in `bytes` can act on a terminal: no ESC, no C1 control, no bidi override, and the
/// emulator was asked for nothing but text.
pub fn assert_inert(bytes: &[u8], effects: &Effects) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.contains('\x1b'),
        "a raw ESC reached the terminal: {text:?}"
    );
    for c in ['\u{9b}', '\u{9d}', '\u{202e}', '\u{200b}', '\u{7}'] {
        assert!(!text.contains(c), "{c:?} reached the terminal: {text:?}");
    }
    assert!(
        effects.titles.is_empty() && effects.clipboard.is_empty(),
        "{effects:?}"
    );
    assert!(effects.unhandled.is_empty(), "sequences acted: {effects:?}");
}
