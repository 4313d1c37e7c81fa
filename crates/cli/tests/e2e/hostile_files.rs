#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Settings files that are not regular files, driven through the real binary: a FIFO or a
//! symlink to `/dev/zero` in place of `config.json` or `SKILL.md` fails fast with a message
//! naming it (the commands run under a timeout, so a hang fails the test), and `config set`
//! through a symlinked `config.json` keeps the link.

use crate::common;
use common::pryx;

use std::path::Path;
use std::time::Duration;

/// Far longer than any of these commands needs; reaching it means the command hung.
const LIMIT: Duration = Duration::from_secs(30);

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Runs `pryx args…` under [`LIMIT`] and returns its combined output; it must fail.
fn fails(home: &Path, args: &[&str]) -> String {
    let out = pryx(home).args(args).timeout(LIMIT).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "pryx {args:?} must fail:\n{text}");
    text
}

#[test]
fn a_fifo_as_config_json_fails_fast_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    mkfifo(&home.join("config.json"));
    for args in [&["config", "show"][..], &["doctor"][..]] {
        let text = fails(&home, args);
        assert!(text.contains("config.json"), "{args:?}: {text}");
        assert!(
            text.contains("FIFO (named pipe), not a regular file"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn a_symlink_to_dev_zero_as_config_json_is_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::symlink("/dev/zero", home.join("config.json")).unwrap();
    let text = fails(&home, &["config", "show"]);
    assert!(
        text.contains("character device, not a regular file"),
        "{text}"
    );
}

#[test]
fn a_fifo_as_skill_md_is_reported_and_the_check_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let skill = home.join("skills/piped");
    std::fs::create_dir_all(&skill).unwrap();
    mkfifo(&skill.join("SKILL.md"));
    let text = fails(&home, &["skills", "check"]);
    assert!(
        text.contains("SKILL.md is a FIFO (named pipe), not a regular file"),
        "{text}"
    );
}

#[test]
fn config_set_through_a_symlinked_config_json_updates_the_target() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dotfiles = tmp.path().join("dotfiles");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&dotfiles).unwrap();
    let target = dotfiles.join("pryx.json");
    std::fs::write(&target, "{}").unwrap();
    let link = home.join("config.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    pryx(&home)
        .args(["config", "set", "ui.theme", "dark"])
        .timeout(LIMIT)
        .assert()
        .success();
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(doc["ui"]["theme"], "dark", "{doc}");
}
