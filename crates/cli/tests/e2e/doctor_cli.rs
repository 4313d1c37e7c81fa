#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx doctor` driven through the real binary: a fresh data dir passes, and each kind of
//! damage is reported with a fix while the damaged file or directory is left exactly as it was.

use crate::common;
use common::pryx;

use predicates::prelude::*;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const CHECKS: [&str; 16] = [
    "data_dir",
    "permissions",
    "config",
    "database",
    "audit_log",
    "secret_store",
    "model",
    "workspace",
    "disk_space",
    "sandbox",
    "core",
    "api_token",
    "exposure",
    "channels",
    "updates",
    "telemetry",
];

/// Checks whose outcome depends on the machine (free space, kernel), not on the data dir.
/// (`workspace` judges the directory the test runs in.)
const MACHINE: [&str; 3] = ["disk_space", "sandbox", "workspace"];

fn doctor_json(home: &Path) -> (Vec<Value>, bool) {
    let out = pryx(home).args(["doctor", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (v.as_array().unwrap().clone(), out.status.success())
}

fn find<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))
}

/// Text line of the check `name`.
fn line<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{stdout}"))
}

#[test]
fn fresh_home_passes_and_is_created_private() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let out = pryx(&home).arg("doctor").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for name in CHECKS {
        let l = line(&stdout, name);
        if name == "model" {
            assert!(
                l.starts_with('!') && l.contains("no model configured yet"),
                "{l}"
            );
        } else if !MACHINE.contains(&name) {
            assert!(l.starts_with('✓'), "{l}");
        }
    }
    assert!(!stdout.contains('✗'), "{stdout}");
    assert!(line(&stdout, "data_dir").contains("created"), "{stdout}");
    let mode = fs::metadata(&home).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(
        home.join("pryx.db").is_file(),
        "first use creates the database"
    );

    // A second run finds everything in place and still passes.
    let out = pryx(&home).arg("doctor").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!line(&stdout, "data_dir").contains("created"), "{stdout}");
    assert!(
        line(&stdout, "audit_log").contains("chain intact"),
        "{stdout}"
    );
}

#[test]
fn corrupt_config_fails_with_position_and_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home).arg("doctor").assert().success();
    let bad = b"{\n  \"ui\": {\"theme\": \"dark\",}\n}\n";
    fs::write(home.join("config.json"), bad).unwrap();
    fs::set_permissions(home.join("config.json"), fs::Permissions::from_mode(0o600)).unwrap();

    let out = pryx(&home).arg("doctor").assert().failure();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let l = line(&stdout, "config");
    assert!(l.starts_with('✗'), "{l}");
    assert!(l.contains("line 2, column"), "{l}");
    assert!(l.contains("fix:"), "{l}");
    assert_eq!(fs::read(home.join("config.json")).unwrap(), bad);

    // Valid JSON that breaks the schema names the key.
    let invalid = b"{\"ui\": {\"theme\": \"purple\"}}";
    fs::write(home.join("config.json"), invalid).unwrap();
    let (checks, ok) = doctor_json(&home);
    assert!(!ok);
    let c = find(&checks, "config");
    assert_eq!(c["status"], "fail");
    assert!(c["message"].as_str().unwrap().contains("ui.theme"), "{c}");
    assert!(
        c["hint"].as_str().unwrap().contains("pryx config set"),
        "{c}"
    );
    assert_eq!(fs::read(home.join("config.json")).unwrap(), invalid);
}

#[test]
fn open_data_dir_fails_with_chmod_hint_and_keeps_its_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home).arg("doctor").assert().success();
    fs::set_permissions(&home, fs::Permissions::from_mode(0o777)).unwrap();

    let out = pryx(&home).arg("doctor").assert().failure();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let l = line(&stdout, "permissions");
    assert!(l.starts_with('✗'), "{l}");
    assert!(l.contains("mode 0777, expected 0700"), "{l}");
    assert!(l.contains(&format!("chmod 700 {}", home.display())), "{l}");
    let mode = fs::metadata(&home).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o777, "doctor must not chmod");
}

#[test]
fn truncated_database_fails_and_is_left_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home).arg("doctor").assert().success();
    let db = home.join("pryx.db");
    let mut bytes = fs::read(&db).unwrap();
    assert!(bytes.len() > 100);
    bytes.truncate(100);
    fs::write(&db, &bytes).unwrap();

    let out = pryx(&home).arg("doctor").assert().failure();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let l = line(&stdout, "database");
    assert!(l.starts_with('✗'), "{l}");
    assert!(l.contains("truncated"), "{l}");
    assert!(l.contains("restore it from a backup"), "{l}");
    assert!(l.contains(&format!("mv {}", db.display())), "{l}");
    assert!(line(&stdout, "audit_log").starts_with('!'), "{stdout}");
    assert_eq!(
        fs::read(&db).unwrap(),
        bytes,
        "doctor must not touch a damaged database"
    );
    assert!(!home.join("pryx.db-wal").exists());
}

#[test]
fn garbage_database_fails_and_is_left_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home).arg("doctor").assert().success();
    let db = home.join("pryx.db");
    let garbage = vec![0x5a_u8; 8192];
    fs::write(&db, &garbage).unwrap();

    let (checks, ok) = doctor_json(&home);
    assert!(!ok);
    let c = find(&checks, "database");
    assert_eq!(c["status"], "fail");
    assert!(
        c["message"].as_str().unwrap().contains("SQLite header"),
        "{c}"
    );
    assert_eq!(fs::read(&db).unwrap(), garbage);
}

#[test]
fn unresolved_secret_reference_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args([
            "config",
            "set",
            "providers.openai.kind",
            "openai-compatible",
        ])
        .assert()
        .success();
    pryx(&home)
        .args(["config", "set", "providers.openai.api_key", "secret:OPENAI"])
        .assert()
        .success();
    let (checks, ok) = doctor_json(&home);
    assert!(ok, "a warning does not fail doctor: {checks:?}");
    let c = find(&checks, "secret_store");
    assert_eq!(c["status"], "warn");
    assert!(
        c["hint"]
            .as_str()
            .unwrap()
            .contains("pryx secrets set OPENAI"),
        "{c}"
    );

    pryx(&home)
        .args(["secrets", "set", "OPENAI"])
        .write_stdin("sk-test")
        .assert()
        .success();
    let (checks, _) = doctor_json(&home);
    assert_eq!(find(&checks, "secret_store")["status"], "ok");
}

#[test]
fn json_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home).arg("doctor").assert().success();
    let (mut checks, ok) = doctor_json(&home);
    assert!(ok);
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, CHECKS);
    let home_str = home.display().to_string();
    for c in &mut checks {
        let obj = c.as_object_mut().unwrap();
        assert_eq!(obj.len(), 4, "{obj:?}");
        let machine = MACHINE.contains(&obj["name"].as_str().unwrap());
        for key in ["status", "message", "hint"] {
            if machine {
                obj.insert(key.into(), Value::String("[machine]".into()));
            } else if let Value::String(s) = &obj[key] {
                let redacted = digits_to_n(&s.replace(&home_str, "[HOME]"));
                obj.insert(key.into(), Value::String(redacted));
            }
        }
    }
    insta::assert_json_snapshot!(checks);
}

/// Replaces every run of digits with `N`, so schema versions and counts do not churn the snapshot.
fn digits_to_n(s: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            out.push(ch);
            in_digits = false;
        }
    }
    out
}

#[test]
fn text_output_has_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    pryx(&tmp.path().join("home"))
        .arg("doctor")
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"(All checks passed|No failures, \d warning\(s\))\.\n$")
                .unwrap(),
        );
}

#[test]
fn edited_audit_row_fails_naming_the_row() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home).arg("doctor").assert().success();
    let db = home.join("pryx.db");
    common::append_audit_notes(&home, &["first-entry-aaaa", "second-entry-bbb"]);
    let (checks, ok) = doctor_json(&home);
    assert!(ok, "{checks:?}");
    assert_eq!(
        find(&checks, "audit_log")["message"],
        "2 row(s), chain intact"
    );

    // Edit the second row's details in place, bypassing SQLite (and its append-only triggers).
    let mut bytes = fs::read(&db).unwrap();
    let needle = b"second-entry-bbb";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("row text in the file");
    bytes[at..at + needle.len()].copy_from_slice(b"second-entry-XXX");
    fs::write(&db, &bytes).unwrap();

    let (checks, ok) = doctor_json(&home);
    assert!(!ok);
    let c = find(&checks, "audit_log");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["message"].as_str().unwrap().contains("audit row seq 2"),
        "{c}"
    );
    assert_eq!(
        fs::read(&db).unwrap(),
        bytes,
        "doctor must not touch the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_model_is_checked_offline_and_called_with_online() {
    let llm = pryx_testkit::ScriptedLlm::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let config = serde_json::json!({
        "providers": {"local": {"kind": "openai-compatible", "base_url": llm.base_url()}},
        "defaults": {"model": "local/llama3"},
    });
    fs::write(home.join("config.json"), config.to_string()).unwrap();
    let run = |args: &[&str]| {
        let out = pryx(&home).args(args).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let offline = run(&["doctor"]);
    assert!(line(&offline, "model").starts_with('✓'), "{offline}");
    assert!(
        line(&offline, "model").contains("local/llama3"),
        "{offline}"
    );
    assert!(llm.requests().is_empty(), "offline makes no call");

    llm.push(pryx_testkit::Turn::text("pong"));
    let online = run(&["doctor", "--online"]);
    assert!(line(&online, "model").contains("answered in"), "{online}");
    assert_eq!(llm.requests().len(), 1);

    llm.push(pryx_testkit::Turn::status(401, None, "bad key"));
    let out = pryx(&home).args(["doctor", "--online"]).output().unwrap();
    assert!(
        !out.status.success(),
        "a provider that refuses fails doctor"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(line(&text, "model").starts_with('✗'), "{text}");

    // A model of a provider that is not configured fails with the fix.
    let config = serde_json::json!({
        "providers": {"local": {"kind": "openai-compatible", "base_url": llm.base_url()}},
        "defaults": {"model": "gone/x"},
    });
    fs::write(home.join("config.json"), config.to_string()).unwrap();
    let text = run(&["doctor"]);
    assert!(line(&text, "model").starts_with('✗'), "{text}");
    assert!(
        line(&text, "model").contains("does not name a configured provider"),
        "{text}"
    );
}
