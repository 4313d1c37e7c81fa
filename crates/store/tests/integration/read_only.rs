//! A database that cannot be written here (a read-only mount, a file this user may not write) is
//! reported as such by [`Store::open`], never as damaged, and can still be checked with
//! [`Store::open_read_only`], which changes nothing.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pryx_store::{NewSession, SCHEMA_VERSION, Store, StoreError, WriteBlock};

/// Set in the child that re-runs a test inside `unshare -Urm`.
const IN_NAMESPACE: &str = "PRYX_TEST_IN_MOUNT_NAMESPACE";

/// A database with one session titled "kept", closed cleanly (no `-wal`/`-shm` left).
fn populated(path: &Path) -> String {
    let store = Store::open(path).unwrap();
    store
        .create_session(&NewSession {
            title: "kept".into(),
            ..Default::default()
        })
        .unwrap()
        .id
}

fn names(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn read_only_open_reads_without_migrating_or_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    let id = populated(&path);
    let before = names(dir.path());
    let store = Store::open_read_only(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.get_session(&id).unwrap().unwrap().title, "kept");
    assert!(
        store.is_snapshot(),
        "no -wal/-shm: the main file is all there is"
    );
    let err = store.create_session(&NewSession::default()).unwrap_err();
    assert!(
        !matches!(
            err,
            StoreError::Corrupt(_) | StoreError::NotADatabase { .. }
        ),
        "{err:?}"
    );
    drop(store);
    assert_eq!(names(dir.path()), before, "no -wal or -shm file made");
}

#[test]
fn read_only_open_reads_through_the_wal_of_an_open_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    let writer = Store::open(&path).unwrap();
    let id = writer
        .create_session(&NewSession {
            title: "only in the wal".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    let store = Store::open_read_only(&path).unwrap();
    assert!(!store.is_snapshot());
    assert_eq!(
        store.get_session(&id).unwrap().unwrap().title,
        "only in the wal"
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn read_only_open_of_garbage_is_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    std::fs::write(&path, "this is not a database\n".repeat(500)).unwrap();
    let err = Store::open_read_only(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
}

#[test]
fn the_message_names_the_cause_and_the_fix_not_damage() {
    let err = StoreError::NotWritable {
        path: "/d/pryx.db".into(),
        blocked: "/d".into(),
        cause: WriteBlock::PermissionDenied,
    };
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot write the database at /d/pryx.db: permission denied (/d); "),
        "{msg}"
    );
    assert!(msg.contains("PRYX_HOME"), "{msg}");
    assert!(!msg.contains("damaged") && !msg.contains("aside"), "{msg}");
    let err = StoreError::NotWritable {
        path: "/d/pryx.db".into(),
        blocked: "/d/pryx.db".into(),
        cause: WriteBlock::ReadOnlyFileSystem,
    };
    assert!(
        err.to_string()
            .starts_with("cannot write the database at /d/pryx.db: read-only file system; remount"),
        "{err}"
    );
}

/// A tmpfs on a temp dir, unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount() -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        match out.status.success() {
            true => Ok(Tmpfs(dir)),
            false => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        }
    }

    /// Read-only: the file system if this process may, else (in a user namespace) the mount point.
    fn make_read_only(&self) {
        let ok = |options: &str| {
            Command::new("mount")
                .args(["-o", options])
                .arg(self.0.path())
                .output()
                .is_ok_and(|o| o.status.success())
        };
        assert!(
            ok("remount,ro") || ok("remount,bind,ro"),
            "remount read-only"
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_read_only_mount_is_not_writable_and_not_damaged() {
    const TEST: &str = "a_read_only_mount_is_not_writable_and_not_damaged";
    let mount = match Tmpfs::mount() {
        Ok(m) => m,
        Err(why) if std::env::var_os(IN_NAMESPACE).is_some() => panic!("cannot mount: {why}"),
        Err(why) => {
            let unshare = Command::new("unshare").args(["-Urm", "true"]).status();
            if !unshare.is_ok_and(|s| s.success()) {
                eprintln!(
                    "SKIPPED: {TEST}: cannot mount a tmpfs ({why}) and `unshare -Urm` is not available"
                );
                return;
            }
            let out = Command::new("unshare")
                .arg("-Urm")
                .arg(std::env::current_exe().unwrap())
                .args(["--exact", TEST, "--nocapture"])
                .env(IN_NAMESPACE, "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("1 passed"),
                "inside `unshare -Urm`:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
    };
    let path = mount.0.path().join("pryx.db");
    let id = populated(&path);
    mount.make_read_only();
    let before = names(mount.0.path());

    let err = Store::open(&path).unwrap_err();
    match &err {
        StoreError::NotWritable { cause, .. } => {
            assert_eq!(*cause, WriteBlock::ReadOnlyFileSystem)
        }
        other => panic!("expected NotWritable, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot write the database at {}: read-only file system; remount",
            path.display()
        )),
        "{msg}"
    );
    assert!(!msg.contains("damaged"), "{msg}");

    // Still fully readable and intact, without the `-shm` file SQLite cannot create here.
    let store = Store::open_read_only(&path).unwrap();
    assert!(store.is_snapshot());
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.get_session(&id).unwrap().unwrap().title, "kept");
    drop(store);
    assert_eq!(names(mount.0.path()), before, "nothing created or removed");
}

#[test]
fn a_database_this_user_may_not_write_is_not_damaged() {
    const TEST: &str = "a_database_this_user_may_not_write_is_not_damaged";
    let has_setpriv = Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    // A directory this process made is owned by its user: 0 is root.
    let root = std::fs::metadata(dir.path()).unwrap().uid() == 0;
    if !root || !has_setpriv {
        eprintln!("SKIPPED: {TEST}: needs root to switch to an unprivileged user with setpriv");
        return;
    }
    // Owned by root; others may read and enter, not write.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("pryx.db");
    populated(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_pryx-store-writer"))
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "cannot write the database at {}: permission denied; give your user write access",
            path.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("damaged"), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(names(dir.path()), [path]);
}
