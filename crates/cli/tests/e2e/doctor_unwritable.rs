#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx doctor` on a data dir it cannot write: a real read-only mount, and a directory owned by
//! root run as an unprivileged user. A healthy database there is reported intact and not
//! writable, with the cause and the fix, and never with advice to move it aside; a damaged one
//! is still called damaged. Doctor creates nothing and exits non-zero.

use crate::common;
use common::pryx;

use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Set in the child that re-runs a test inside `unshare -Urm`.
const IN_NAMESPACE: &str = "PRYX_TEST_IN_MOUNT_NAMESPACE";
const NOBODY: &str = "65534";

/// Words of the advice given for a damaged database; none may appear for an intact one.
const MOVE_ASIDE: [&str; 4] = ["aside", ".damaged", "mv ", "new empty database"];

/// A small tmpfs mounted on a temp dir; unmounted on drop (even when an assertion fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount() -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs { dir })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `mount -o remount,MODE`; inside a user namespace, where the file system itself cannot
    /// be remounted, the mount point is (`remount,bind,MODE`), which refuses writes the same way.
    fn remount(&self, mode: &str) {
        let remounted = |options: String| {
            Command::new("mount")
                .args(["-o", &options])
                .arg(self.path())
                .output()
                .unwrap()
        };
        let out = remounted(format!("remount,{mode}"));
        if !out.status.success() {
            let bind = remounted(format!("remount,bind,{mode}"));
            assert!(
                bind.status.success(),
                "remount,{mode}: {}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&bind.stderr)
            );
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.path()).status();
    }
}

/// Runs `body` on a fresh tmpfs: mounted here when this process may mount, else in a re-run of
/// this test inside `unshare -Urm`; otherwise the test reports itself skipped.
fn on_tmpfs(test: &str, body: impl FnOnce(&Tmpfs)) {
    let in_namespace = std::env::var_os(IN_NAMESPACE).is_some();
    let why = match Tmpfs::mount() {
        Ok(mount) => return body(&mount),
        Err(why) if in_namespace => panic!("cannot mount a tmpfs even in a namespace: {why}"),
        Err(why) => why,
    };
    let unshare_works = Command::new("unshare")
        .args(["-Urm", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !unshare_works {
        eprintln!(
            "SKIPPED: {test}: cannot mount a tmpfs ({why}) and `unshare -Urm` is not available"
        );
        return;
    }
    let out = Command::new("unshare")
        .arg("-Urm")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env(IN_NAMESPACE, "1")
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test} inside `unshare -Urm`:\n{stdout}\n{stderr}"
    );
}

/// A data dir with real data: the database (first use), a config key, and keyed audit rows
/// with their anchor and key.
fn populate(home: &Path) {
    // Its exit code may report the small tmpfs as short of space; the database is what counts.
    pryx(home).arg("doctor").output().unwrap();
    assert!(home.join("pryx.db").is_file());
    pryx(home)
        .args(["config", "set", "ui.theme", "dark"])
        .assert()
        .success();
    common::append_audit_notes(home, &["first-entry-aaaa", "second-entry-bbb"]);
}

/// Every path under `dir` (sorted), to show doctor created nothing.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(listing(&p));
        }
        out.push(p);
    }
    out.sort();
    out
}

/// Text line of the check `name`.
fn line<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{stdout}"))
}

fn find<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))
}

fn no_move_aside(what: &str, text: &str) {
    for words in MOVE_ASIDE {
        assert!(
            !text.contains(words),
            "{what} advises moving an intact database aside ({words:?}):\n{text}"
        );
    }
}

/// Doctor's text and JSON reports on `home` through `run` (root or an unprivileged user):
/// failing, with the intact database reported not writable for `cause`.
fn assert_intact_but_unwritable(run: impl Fn(&[&str]) -> Output, home: &Path, cause: &str) {
    let db = home.join("pryx.db").display().to_string();
    let out = run(&["doctor"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    no_move_aside("doctor", &stdout);

    let data_dir = line(&stdout, "data_dir");
    assert!(data_dir.starts_with('✗'), "{data_dir}");
    assert!(
        data_dir.contains(&format!("cannot be written: {cause}")),
        "{data_dir}"
    );

    let database = line(&stdout, "database");
    assert!(database.starts_with('✗'), "{database}");
    for part in [
        format!("{db} is intact (schema "),
        "integrity ok, checked read-only".to_string(),
        format!("cannot be written: {cause}"),
        "the data is intact: keep the file where it is".to_string(),
    ] {
        assert!(database.contains(&part), "{part:?} in {database}");
    }
    let audit = line(&stdout, "audit_log");
    assert!(audit.starts_with('!'), "{audit}");
    assert!(audit.contains("no entry can be appended"), "{audit}");
    assert!(audit.contains(cause), "{audit}");

    let out = run(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    no_move_aside("doctor --json", &String::from_utf8_lossy(&out.stdout));
    let c = find(&checks, "database");
    assert_eq!(c["status"], "fail", "{c}");
    let message = c["message"].as_str().unwrap();
    assert!(message.contains("integrity ok"), "{c}");
    assert!(message.contains(cause), "{c}");
    assert_eq!(find(&checks, "data_dir")["status"], "fail");

    // Commands that open the store for writing name the cause; none calls the file damaged.
    let out = run(&["audit", "verify"]);
    let (_, stderr) = common::text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("cannot write the database at {db}: {cause}")),
        "{stderr}"
    );
    assert!(!stderr.contains("damaged"), "{stderr}");
}

#[test]
fn doctor_reports_an_intact_database_on_a_read_only_mount() {
    on_tmpfs(
        "doctor_reports_an_intact_database_on_a_read_only_mount",
        |mount| {
            let home = mount.path().join("home");
            populate(&home);
            mount.remount("ro");
            let before = listing(&home);
            let run = |args: &[&str]| pryx(&home).args(args).output().unwrap();
            assert_intact_but_unwritable(run, &home, "read-only file system");
            let out = pryx(&home).arg("doctor").output().unwrap();
            let (stdout, _) = common::text(&out);
            let database = line(&stdout, "database");
            assert!(database.contains("remount"), "{database}");
            let audit = line(&stdout, "audit_log");
            assert!(audit.contains("2 row(s), chain intact"), "{audit}");
            assert_eq!(listing(&home), before, "doctor created or removed files");

            // Really damaged stays damaged, read-only or not.
            mount.remount("rw");
            let garbage = vec![0x5a_u8; 8192];
            fs::write(home.join("pryx.db"), &garbage).unwrap();
            mount.remount("ro");
            let out = pryx(&home).arg("doctor").output().unwrap();
            let (stdout, _) = common::text(&out);
            assert_eq!(out.status.code(), Some(1));
            let database = line(&stdout, "database");
            assert!(database.starts_with('✗'), "{database}");
            assert!(database.contains("is damaged"), "{database}");
            assert!(database.contains("move the file aside"), "{database}");
            assert_eq!(fs::read(home.join("pryx.db")).unwrap(), garbage);
        },
    );
}

#[test]
fn doctor_reports_an_intact_database_it_may_not_write() {
    let has_setpriv = Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !rustix::process::getuid().is_root() || !has_setpriv {
        eprintln!(
            "SKIPPED: doctor_reports_an_intact_database_it_may_not_write: needs root to switch to an unprivileged user with setpriv"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let home = tmp.path().join("home");
    populate(&home);
    // Owned by root, readable but not writable by anyone else.
    let status = Command::new("chmod")
        .args(["-R", "go+rX,go-w"])
        .arg(&home)
        .status()
        .unwrap();
    assert!(status.success());
    let before = listing(&home);
    let db_bytes = fs::read(home.join("pryx.db")).unwrap();

    let run = |args: &[&str]| {
        Command::new("setpriv")
            .arg(format!("--reuid={NOBODY}"))
            .arg(format!("--regid={NOBODY}"))
            .arg("--clear-groups")
            .arg(env!("CARGO_BIN_EXE_pryx"))
            .args(args)
            .env("PRYX_HOME", &home)
            .env("PRYX_SECRET_BACKEND", "file")
            .env_remove("HOME")
            .current_dir(tmp.path())
            .output()
            .unwrap()
    };
    assert_intact_but_unwritable(run, &home, "permission denied");
    let (stdout, _) = common::text(&run(&["doctor"]));
    let database = line(&stdout, "database");
    assert!(database.contains("chown"), "{database}");
    assert_eq!(listing(&home), before, "doctor created or removed files");
    assert_eq!(fs::read(home.join("pryx.db")).unwrap(), db_bytes);

    // The directory is the user's, the database file is not: the same report for the file, and
    // still no `-wal`/`-shm` file made next to it.
    let status = Command::new("chown")
        .arg(NOBODY)
        .arg(&home)
        .status()
        .unwrap();
    assert!(status.success());
    let out = run(&["doctor"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    no_move_aside("doctor", &stdout);
    assert!(line(&stdout, "data_dir").starts_with('✓'), "{stdout}");
    let database = line(&stdout, "database");
    assert!(database.starts_with('✗'), "{database}");
    assert!(
        database.contains("integrity ok, checked read-only"),
        "{database}"
    );
    assert!(
        database.contains("cannot be written: permission denied"),
        "{database}"
    );
    assert_eq!(listing(&home), before, "doctor created or removed files");

    // An older schema it cannot upgrade here is said to be just that.
    let older = pryx_store::SCHEMA_VERSION - 1;
    let raw = rusqlite::Connection::open(home.join("pryx.db")).unwrap();
    raw.pragma_update(None, "user_version", older).unwrap();
    drop(raw);
    let (stdout, _) = common::text(&run(&["doctor"]));
    no_move_aside("doctor", &stdout);
    let database = line(&stdout, "database");
    assert!(database.starts_with('✗'), "{database}");
    assert!(
        database.contains(&format!(
            "has schema {older}; this build uses {} and cannot upgrade it here: permission denied",
            pryx_store::SCHEMA_VERSION
        )),
        "{database}"
    );
    assert_eq!(listing(&home), before, "doctor created or removed files");
}
