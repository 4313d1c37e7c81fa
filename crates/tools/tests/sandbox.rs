#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use pryx_tools::{LandlockSupport, landlock_status};

#[test]
fn probing_landlock_does_not_restrict_this_process() {
    let status = landlock_status();
    assert!(!status.detail.is_empty());
    println!("landlock: {:?}: {}", status.support, status.detail);
    // The probe ran in its own thread; this thread can still write anywhere it could before.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::write(dir.path().join("after-probe"), "ok").unwrap();
    assert_eq!(landlock_status(), status, "the answer is cached");
}

#[test]
fn helper_rejects_wrong_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_pryx-sandbox-exec"))
        .arg("only-one")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<workspace> <command>"));
}

#[test]
fn helper_runs_the_command_and_passes_its_exit_code() {
    let ws = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pryx-sandbox-exec"))
        .arg(ws.path())
        .arg("echo hi; exit 7")
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(out.stdout, b"hi\n");
}

#[test]
fn helper_blocks_writes_next_to_the_workspace_when_supported() {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ws = tempfile::tempdir_in(base).unwrap();
    let sibling = tempfile::tempdir_in(base).unwrap();
    let target = sibling.path().join("x");
    let out = Command::new(env!("CARGO_BIN_EXE_pryx-sandbox-exec"))
        .arg(ws.path())
        .arg(format!("touch '{}'", target.display()))
        .current_dir(ws.path())
        .output()
        .unwrap();
    let under_temp = base.starts_with(std::env::temp_dir()) || base.starts_with("/tmp");
    if landlock_status().support == LandlockSupport::Unsupported || under_temp {
        pryx_testkit::skip_sandbox_assertion(
            "helper_blocks_writes_next_to_the_workspace_when_supported",
            &format!(
                "{} (target dir under a temp dir: {under_temp})",
                landlock_status().detail
            ),
        );
        return;
    }
    assert!(!out.status.success());
    assert!(!target.exists());
}

#[test]
fn helper_refuses_a_relative_protected_dir() {
    let out = Command::new(env!("CARGO_BIN_EXE_pryx-sandbox-exec"))
        .args(["/", "true", "relative/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absolute path"));
}

#[test]
fn helper_keeps_a_protected_dir_inside_the_workspace_out_of_reach() {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ws = tempfile::tempdir_in(base).unwrap();
    let w = std::fs::canonicalize(ws.path()).unwrap();
    let data = w.join(".pryx");
    std::fs::create_dir_all(data.join("policies")).unwrap();
    std::fs::write(data.join("secrets.key"), "SECRET-KEY").unwrap();
    std::fs::create_dir(w.join("src")).unwrap();
    std::fs::write(w.join("notes.txt"), "hello\n").unwrap();
    std::os::unix::fs::symlink(&data, w.join("data-link")).unwrap();
    let run = |command: &str| {
        Command::new(env!("CARGO_BIN_EXE_pryx-sandbox-exec"))
            .arg(&w)
            .arg(command)
            .arg(&data)
            .current_dir(&w)
            .output()
            .unwrap()
    };
    if landlock_status().support == LandlockSupport::Unsupported {
        pryx_testkit::skip_sandbox_assertion(
            "helper_keeps_a_protected_dir_inside_the_workspace_out_of_reach",
            &landlock_status().detail,
        );
        return;
    }

    for attack in [
        "cat .pryx/secrets.key",
        "cat \"$PWD/.pryx/secrets.key\"",
        "cat data-link/secrets.key",
        "cat src/../.pryx/secrets.key",
        "ls .pryx",
        "touch .pryx/new",
        "echo 'rules: []' > .pryx/policies/open.yaml",
        "echo x >> .pryx/secrets.key",
    ] {
        let out = run(attack);
        assert!(!out.status.success(), "{attack} succeeded");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("SECRET"),
            "{attack}"
        );
    }
    assert!(!data.join("new").exists());
    assert!(!data.join("policies/open.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(data.join("secrets.key")).unwrap(),
        "SECRET-KEY"
    );

    // The rest of the workspace is as usable as before.
    let out = run(
        "cat notes.txt && echo more >> notes.txt && mkdir -p src/a && echo y > src/a/f && cat src/a/f && ls src",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"hello\ny\na\n");
    assert_eq!(
        std::fs::read_to_string(w.join("notes.txt")).unwrap(),
        "hello\nmore\n"
    );
}
