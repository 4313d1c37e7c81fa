#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx agents` through the real binary: profiles are added, shown, listed and removed in
//! config.json, validated like every other write.

use crate::common;
use common::pryx;

use predicates::prelude::*;

#[test]
fn profiles_are_added_shown_listed_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let ws = tmp.path().join("research");
    std::fs::create_dir(&ws).unwrap();
    let ws = std::fs::canonicalize(&ws).unwrap();

    // `main` exists with nothing configured.
    let out = pryx(&home)
        .args(["agents", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["id"], "main");
    assert_eq!(list[0]["model"], serde_json::Value::Null);

    pryx(&home)
        .args(["agents", "add", "research", "-w"])
        .arg(&ws)
        .args([
            "-m",
            "openai/gpt-4o",
            "--fallback",
            "anthropic/claude-sonnet-4-5",
        ])
        .args(["--policy", "read-only", "--max-steps", "7"])
        .assert()
        .success()
        .stdout(predicate::str::contains("read-only"));
    let out = pryx(&home)
        .args(["agents", "show", "research", "--json"])
        .output()
        .unwrap();
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["workspace"], ws.display().to_string());
    assert_eq!(p["model"], "openai/gpt-4o");
    assert_eq!(p["fallbacks"][0], "anthropic/claude-sonnet-4-5");
    assert_eq!(p["max_steps"], 7);
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["agents"]["research"]["policy"], "read-only");
    pryx(&home)
        .args(["agents", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("research").and(predicate::str::contains("main")));

    // Bad input is refused with the reason and leaves config.json as it was.
    let before = std::fs::read(home.join("config.json")).unwrap();
    for (args, says) in [
        (
            vec!["agents", "add", "x", "-w", "/does/not/exist"],
            "does not exist",
        ),
        (
            vec!["agents", "add", "x", "-m", "no-slash"],
            "agents.x.model",
        ),
        (vec!["agents", "add", "bad id"], "not valid"),
        (
            vec!["agents", "show", "nope"],
            "known agents: main, research",
        ),
        (vec!["agents", "rm", "nope"], "no agent"),
    ] {
        pryx(&home)
            .args(&args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(says));
    }
    pryx(&home)
        .args(["agents", "add", "x", "-w"])
        .arg(&home)
        .assert()
        .failure()
        .stderr(predicate::str::contains("data dir"));
    assert_eq!(std::fs::read(home.join("config.json")).unwrap(), before);

    pryx(&home)
        .args(["agents", "rm", "research"])
        .assert()
        .success();
    pryx(&home)
        .args(["agents", "show", "research"])
        .assert()
        .failure();
}
