#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx config` driven through the real binary with `PRYX_HOME` in a temp dir.

use crate::common;
use common::pryx;

use predicates::prelude::*;

#[test]
fn set_get_show_roundtrip() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args(["config", "set", "ui.theme", "dark"])
        .assert()
        .success();
    pryx(&home)
        .args(["config", "set", "ui.port", "7777"])
        .assert()
        .success();
    pryx(&home)
        .args([
            "config",
            "set",
            "providers.openrouter.kind",
            "openai-compatible",
        ])
        .assert()
        .success();
    pryx(&home)
        .args([
            "config",
            "set",
            "providers.openrouter.api_key",
            "secret:OPENROUTER",
        ])
        .assert()
        .success();
    pryx(&home)
        .args(["config", "get", "ui.theme"])
        .assert()
        .success()
        .stdout("dark\n");
    pryx(&home)
        .args(["config", "get", "ui.port"])
        .assert()
        .success()
        .stdout("7777\n");
    pryx(&home)
        .args(["config", "get", "telemetry.enabled"])
        .assert()
        .success()
        .stdout("false\n");
    pryx(&home)
        .args(["config", "get", "providers.openrouter.connect_timeout_ms"])
        .assert()
        .success()
        .stdout("10000\n");

    let out = pryx(&home)
        .args(["config", "show", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["ui"]["theme"], "dark");
    assert_eq!(shown["ui"]["port"], 7777);
    assert_eq!(
        shown["providers"]["openrouter"]["api_key"],
        "secret:OPENROUTER"
    );
    assert_eq!(shown["defaults"]["policy"], "workspace-only");

    pryx(&home)
        .args(["config", "show"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ui.theme = \"dark\"\n"));

    pryx(&home)
        .args(["config", "unset", "ui.port"])
        .assert()
        .success();
    pryx(&home)
        .args(["config", "get", "ui.port"])
        .assert()
        .success()
        .stdout("null\n");

    let path = pryx(&home).args(["config", "path"]).output().unwrap();
    assert_eq!(
        String::from_utf8(path.stdout).unwrap().trim(),
        home.join("config.json").to_str().unwrap()
    );
}

#[test]
fn invalid_set_leaves_file_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args(["config", "set", "ui.theme", "dark"])
        .assert()
        .success();
    let file = home.join("config.json");
    let before = std::fs::read(&file).unwrap();

    pryx(&home)
        .args(["config", "set", "ui.theme", "neon"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("ui.theme").and(predicate::str::contains("`dark`")));
    pryx(&home)
        .args(["config", "set", "telemetry.enabld", "true"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("did you mean `enabled`?"));
    pryx(&home)
        .args(["config", "set", "agent.max_steps", "\"many\""])
        .assert()
        .failure();
    pryx(&home)
        .args([
            "config",
            "set",
            "providers.x.api_key",
            "sk-0123456789abcdefghijklmn",
        ])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("pryx secrets set")
                .and(predicate::str::contains("sk-0123").not()),
        );
    pryx(&home)
        .args(["config", "get", "ui.nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown config key `ui.nope`"));

    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn corrupted_config_reports_position_and_is_not_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let file = home.join("config.json");
    let text = "{\n  \"ui\": {\n    \"theme\": \"dark\"\n  \n}\n";
    std::fs::write(&file, text).unwrap();

    for args in [
        &["config", "show"][..],
        &["config", "get", "ui.theme"],
        &["config", "set", "ui.theme", "light"],
    ] {
        pryx(&home).args(args).assert().failure().stderr(
            predicate::str::contains("line 6, column 0")
                .and(predicate::str::contains("not changed")),
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // A schema violation is reported the same way: named, listed, untouched.
    let bad = r#"{"telemetry": {"enabled": "yes"}, "colour": 1}"#;
    std::fs::write(&file, bad).unwrap();
    pryx(&home)
        .args(["config", "show"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("telemetry.enabled").and(predicate::str::contains("colour")),
        );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), bad);
}
