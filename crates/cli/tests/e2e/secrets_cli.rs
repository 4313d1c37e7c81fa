#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx secrets` driven through the real binary, including the planted-secret test: a value
//! set through stdin must never appear in any output or any file of the data dir.

use crate::common;
use common::pryx;

use predicates::prelude::*;
use std::path::Path;

#[test]
fn set_list_rm() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args(["secrets", "set", "OPENAI"])
        .write_stdin("v1\n")
        .assert()
        .success();
    pryx(&home)
        .args(["secrets", "set", "ANTHROPIC"])
        .write_stdin("v2")
        .assert()
        .success();
    pryx(&home)
        .args(["secrets", "list"])
        .assert()
        .success()
        .stdout("ANTHROPIC\nOPENAI\n");
    pryx(&home)
        .args(["secrets", "list", "--json"])
        .assert()
        .success()
        .stdout("[\"ANTHROPIC\",\"OPENAI\"]\n");
    pryx(&home)
        .args(["secrets", "rm", "OPENAI"])
        .assert()
        .success();
    pryx(&home)
        .args(["secrets", "rm", "OPENAI"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no secret named `OPENAI`"));
    pryx(&home)
        .args(["secrets", "list"])
        .assert()
        .success()
        .stdout("ANTHROPIC\n");
}

#[test]
fn bad_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args(["secrets", "set", "bad name"])
        .write_stdin("v")
        .assert()
        .failure()
        .stderr(predicate::str::contains("invalid secret name"));
    pryx(&home)
        .args(["secrets", "set", "EMPTY"])
        .write_stdin("\n")
        .assert()
        .failure()
        .stderr(predicate::str::contains("empty value"));
    // There is no way to pass the value on the command line.
    pryx(&home)
        .args(["secrets", "set", "X", "value"])
        .write_stdin("v")
        .assert()
        .failure();
    pryx(&home)
        .args(["secrets", "list"])
        .env("PRYX_SECRET_BACKEND", "vault")
        .assert()
        .failure()
        .stderr(predicate::str::contains("PRYX_SECRET_BACKEND"));
}

fn unique_value(tmp: &Path) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let salt: u64 = tmp
        .to_string_lossy()
        .bytes()
        .fold(1469598103934665603, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1099511628211)
        });
    format!("planted-{nanos:x}-{salt:x}-{}", std::process::id())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn files_containing(dir: &Path, needle: &[u8], found: &mut Vec<String>, seen: &mut usize) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            files_containing(&path, needle, found, seen);
        } else if meta.is_file() {
            *seen += 1;
            if contains(&std::fs::read(&path).unwrap(), needle) {
                found.push(path.display().to_string());
            }
        }
    }
}

#[test]
fn planted_secret_appears_nowhere() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let value = unique_value(tmp.path());
    let mut captured: Vec<u8> = Vec::new();
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = pryx(&home);
        cmd.args(args);
        if let Some(s) = stdin {
            cmd.write_stdin(s.to_string());
        }
        let out = cmd.output().unwrap();
        captured.extend(&out.stdout);
        captured.extend(&out.stderr);
        out.status.success()
    };

    assert!(run(
        &["secrets", "set", "PLANTED"],
        Some(&format!("{value}\n"))
    ));
    assert!(run(&["secrets", "set", "PLANTED"], Some(&value)));
    assert!(run(&["secrets", "set", "OTHER"], Some("other-value")));
    assert!(run(
        &["config", "set", "providers.p.kind", "anthropic"],
        None
    ));
    assert!(run(
        &["config", "set", "providers.p.api_key", "secret:PLANTED"],
        None
    ));
    assert!(run(
        &["config", "set", "skills.entries.s.apiKey", "secret:PLANTED"],
        None
    ));
    assert!(run(&["config", "show"], None));
    assert!(run(&["config", "show", "--json"], None));
    assert!(run(&["config", "get", "providers"], None));
    assert!(run(&["config", "get", "providers.p.api_key"], None));
    assert!(run(&["config", "path"], None));
    assert!(run(&["secrets", "list"], None));
    assert!(run(&["secrets", "list", "--json"], None));
    // Failing commands must not leak it either.
    assert!(!run(&["config", "set", "ui.theme", "nope"], None));
    assert!(!run(&["secrets", "set", "bad/name"], Some(&value)));
    assert!(!run(&["secrets", "rm", "MISSING"], None));
    // Doctor may or may not be complete; whatever it prints is checked too.
    let _ = run(&["doctor"], None);
    assert!(run(&["secrets", "rm", "OTHER"], None));

    assert!(!captured.is_empty());
    assert!(
        !contains(&captured, value.as_bytes()),
        "the secret value appeared in command output"
    );
    let mut found = Vec::new();
    let mut seen = 0;
    files_containing(&home, value.as_bytes(), &mut found, &mut seen);
    assert!(
        seen >= 4,
        "expected config, index, key and secrets files, saw {seen}"
    );
    assert!(found.is_empty(), "the secret value was found in {found:?}");

    // And it is still retrievable through the store (so the test would catch a no-op store).
    let store = pryx_config::SecretStore::open_backend(
        &pryx_config::DataDir::at(&home),
        pryx_config::Backend::File,
    )
    .unwrap();
    assert_eq!(store.get("PLANTED").unwrap().unwrap().expose(), value);
}
