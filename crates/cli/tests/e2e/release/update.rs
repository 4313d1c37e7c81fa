//! `pryx update` against a local release server, with a `pryx serve` running from an installed
//! copy: the core restarts on the new release with its sessions; a release that cannot start
//! is rolled back within 30 s and the rollback reported; a downgrade, another key's signature
//! and a truncated download are refused with the binary untouched.

use super::{FileServer, broken_binary, installed_copy, release, test_public_key};
use pryx_client::Client;
use pryx_config::DataDir;
use pryx_protocol::api::CreateSession;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Rig {
    dir: tempfile::TempDir,
    bin: PathBuf,
    home: PathBuf,
    ws: PathBuf,
    rel: PathBuf,
    server: FileServer,
}

impl Rig {
    fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let bin = installed_copy(dir.path());
        let home = dir.path().join("home");
        let ws = dir.path().join("ws");
        let rel = dir.path().join("rel");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(&rel).unwrap();
        let server = FileServer::start(&rel);
        std::fs::write(
            home.join("config.json"),
            serde_json::to_vec(&serde_json::json!({"updates": {"url": server.base}})).unwrap(),
        )
        .unwrap();
        Rig {
            dir,
            bin,
            home,
            ws,
            rel,
            server,
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("PRYX_HOME", &self.home)
            .env("PRYX_SECRET_BACKEND", "file")
            .env("PRYX_UPDATE_PUBLIC_KEY", test_public_key())
            .current_dir(&self.ws)
            .stdin(Stdio::null());
        c
    }

    fn pryx(&self, args: &[&str]) -> (bool, String) {
        super::said(&self.cmd().args(args).output().unwrap())
    }

    fn publish(&self, binary: &Path, version: &str, key: &str) {
        release(&self.rel, binary, version, "stable", key);
    }

    fn serve(&self) -> Child {
        let mut child = self
            .cmd()
            .args(["serve", "--announce"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.trim().parse::<u16>().is_ok(), "announce: {line:?}");
        child
    }

    fn core_pid(&self) -> Option<u32> {
        pryx_client::read_metadata(&DataDir::at(&self.home))
            .ok()
            .map(|m| m.pid)
            .filter(|pid| pryx_client::pid_alive(*pid))
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        // The restarted core is detached from the test: stop it by its recorded pid.
        if let Some(pid) = self.core_pid() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while pryx_client::pid_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = &self.dir;
        let _ = &self.server;
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn a_running_core_is_updated_with_its_sessions_and_a_broken_release_is_rolled_back() {
    let rig = Rig::new();
    let dir = DataDir::at(&rig.home);
    let mut first = rig.serve();
    let old_pid = first.id();
    let session = block_on(async {
        let client = Client::discover(&dir).await.unwrap();
        client
            .create_session(&CreateSession {
                title: Some("kept across updates".into()),
                ..CreateSession::default()
            })
            .await
            .unwrap()
    });

    rig.publish(Path::new(env!("CARGO_BIN_EXE_pryx")), "0.1.1", "test.key");
    let (ok, said) = rig.pryx(&["update", "--check"]);
    assert!(
        ok && said.contains("Update available: 0.1.0 → 0.1.1"),
        "{said}"
    );
    assert_eq!(rig.core_pid(), Some(old_pid), "--check changed nothing");

    let started = Instant::now();
    let (ok, said) = rig.pryx(&["update"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("restarted on the new version and is ready"),
        "{said}"
    );
    assert!(said.contains("What's new in 0.1.1"), "{said}");
    eprintln!("update with a core restart: {:?}", started.elapsed());
    first.wait().unwrap();
    let new_pid = rig.core_pid().expect("a core runs after the update");
    assert_ne!(new_pid, old_pid);
    assert!(rig.bin.with_file_name("pryx.previous").is_file());
    block_on(async {
        let client = Client::discover(&dir).await.unwrap();
        let kept = client.get_session(&session.id).await.unwrap();
        assert_eq!(kept.session.title, "kept across updates");
    });

    // A release whose binary cannot start: rolled back, reported, the core back up.
    let broken = broken_binary(rig.dir.path());
    rig.publish(&broken, "0.1.2", "test.key");
    let started = Instant::now();
    let (ok, said) = rig.pryx(&["update"]);
    let took = started.elapsed();
    assert!(!ok, "{said}");
    assert!(said.contains("rolled back to 0.1.0"), "{said}");
    assert!(
        said.contains("running the previous version again"),
        "{said}"
    );
    assert!(took < Duration::from_secs(30), "rollback took {took:?}");
    eprintln!("update of a broken release, rolled back: {took:?}");
    let version = Command::new(&rig.bin).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("pryx "));
    let back = rig.core_pid().expect("the previous core runs again");
    assert_ne!(back, new_pid);
    block_on(async {
        let client = Client::discover(&dir).await.unwrap();
        assert!(client.get_session(&session.id).await.is_ok());
    });
    let (_, history) = rig.pryx(&["update", "--history"]);
    assert!(
        history.contains("0.1.0 → 0.1.1  (stable)  installed"),
        "{history}"
    );
    assert!(
        history.contains("0.1.0 → 0.1.2  (stable)  rolled back"),
        "{history}"
    );
}

#[test]
fn downgrades_foreign_signatures_and_truncated_downloads_are_refused() {
    let rig = Rig::new();
    let pryx = Path::new(env!("CARGO_BIN_EXE_pryx"));
    let original = std::fs::read(&rig.bin).unwrap();
    let cases: [(&str, &str, &str); 3] = [
        ("0.0.9", "test.key", "refusing a downgrade"),
        ("0.1.3", "other.key", "does not verify with the release key"),
        ("0.1.4", "test.key", "bytes where the manifest says"),
    ];
    for (version, key, expected) in cases {
        rig.publish(pryx, version, key);
        if version == "0.1.4" {
            let dir = rig.rel.join("v0.1.4");
            let archive = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
                .unwrap();
            let bytes = std::fs::read(&archive).unwrap();
            std::fs::write(&archive, &bytes[..bytes.len() / 2]).unwrap();
        }
        let (ok, said) = rig.pryx(&["update"]);
        assert!(!ok, "{version}: {said}");
        assert!(said.contains(expected), "{version}: {said}");
        assert_eq!(std::fs::read(&rig.bin).unwrap(), original, "{version}");
        assert!(!rig.bin.with_file_name("pryx.previous").exists());
    }
    // The same signed manifest under a pinned version that is not the one asked for.
    let (ok, said) = rig.pryx(&["update", "--to", "9.9.9"]);
    assert!(!ok && said.contains("HTTP 404"), "{said}");
}

#[test]
fn a_core_failing_three_starts_after_an_update_puts_the_previous_binary_back() {
    let rig = Rig::new();
    std::fs::copy(&rig.bin, rig.bin.with_file_name("pryx.previous")).unwrap();
    std::fs::create_dir_all(rig.home.join("update")).unwrap();
    std::fs::write(
        rig.home.join("update/pending.json"),
        r#"{"from":"0.1.0","to":"0.1.1","channel":"stable","notes":"","starts":3}"#,
    )
    .unwrap();
    let (ok, said) = rig.pryx(&["serve"]);
    assert!(!ok);
    assert!(said.contains("failed to start 3 times"), "{said}");
    assert!(said.contains("version 0.1.0 is back in place"), "{said}");
    assert!(!rig.bin.with_file_name("pryx.previous").exists());
    assert!(!rig.home.join("update/pending.json").exists());
    let (_, history) = rig.pryx(&["update", "--history"]);
    assert!(
        history.contains("0.1.0 → 0.1.1  (stable)  rolled back"),
        "{history}"
    );
}
