//! Releases served from a local HTTP server: `scripts/release.sh` packs the binary under test
//! (under made-up versions, or a "broken" binary that is a script exiting 1) and signs with the
//! test key; `install.sh` and `pryx update` fetch from it.

mod install;
mod service;
mod update;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether a run succeeded, and everything it printed (stdout, then stderr).
pub fn said(out: &Output) -> (bool, String) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/release").join(name)
}

/// The test release key (public, base64).
pub fn test_public_key() -> String {
    let text = std::fs::read_to_string(fixture("test.pub")).unwrap();
    text.lines().last().unwrap().trim().to_string()
}

/// Packs `binary` as release `version` of `channel` into `out`, signed with `key`.
pub fn release(out: &Path, binary: &Path, version: &str, channel: &str, key: &str) {
    let status = Command::new(repo().join("scripts/release.sh"))
        .args(["--binary", binary.to_str().unwrap()])
        .args(["--version", version, "--channel", channel])
        .args(["--out", out.to_str().unwrap()])
        .args(["--key", fixture(key).to_str().unwrap()])
        .args(["--notes", &format!("Release {version}: faster and safer.")])
        .args(["--target", "x86_64-unknown-linux-gnu"])
        .env_remove("PRYX_RELEASE_KEY")
        .env_remove("PRYX_RELEASE_KEY_FILE")
        .env("PRYX_RELEASE_GZIP_LEVEL", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "release.sh failed");
}

/// A "binary" that is a shell script exiting 1 (a release that cannot start).
pub fn broken_binary(dir: &Path) -> PathBuf {
    let path = dir.join("broken-pryx");
    std::fs::write(&path, "#!/bin/sh\nexit 1\n").unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
    path
}

/// A static file server over a directory, on a free loopback port, for the test's lifetime.
pub struct FileServer {
    pub base: String,
    _runtime: tokio::runtime::Runtime,
}

impl FileServer {
    pub fn start(root: &Path) -> FileServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let root = root.to_path_buf();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().route(
            "/{*path}",
            axum::routing::get(
                move |axum::extract::Path(path): axum::extract::Path<String>| {
                    let root = root.clone();
                    async move {
                        if path.split('/').any(|s| s == ".." || s.is_empty()) {
                            return Err(axum::http::StatusCode::BAD_REQUEST);
                        }
                        std::fs::read(root.join(&path))
                            .map_err(|_| axum::http::StatusCode::NOT_FOUND)
                    }
                },
            ),
        );
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FileServer {
            base: format!("http://127.0.0.1:{port}"),
            _runtime: runtime,
        }
    }
}

/// A copy of the binary under test in `dir/bin/pryx`, so an update can replace it.
pub fn installed_copy(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("pryx");
    std::fs::copy(env!("CARGO_BIN_EXE_pryx"), &path).unwrap();
    path
}
