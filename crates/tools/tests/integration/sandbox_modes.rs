//! What a sandboxed command can reach, in each mode the sandbox has: namespaces + Landlock,
//! Landlock alone (no user namespaces), and Landlock ABI 3 alone (an older kernel). Each mode
//! must do what docs/security.md says for it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use pryx_tools::shell::ShellExec;
use pryx_tools::{Assume, LandlockSupport, SandboxLauncher, Tool, ToolContext, landlock_status};
use serde_json::json;

#[derive(Clone, Copy, Debug)]
enum Mode {
    Namespaces,
    LandlockOnly,
    OldLandlock,
}

impl Mode {
    fn assume(self) -> Assume {
        match self {
            Mode::Namespaces => Assume::default(),
            Mode::LandlockOnly => Assume {
                no_userns: true,
                landlock_abi: None,
            },
            Mode::OldLandlock => Assume {
                no_userns: true,
                landlock_abi: Some(3),
            },
        }
    }
}

struct Setup {
    _dirs: Vec<tempfile::TempDir>,
    workspace: std::path::PathBuf,
    data: std::path::PathBuf,
    outside: std::path::PathBuf,
    ctx: ToolContext,
}

/// A workspace, a protected data dir holding a key, and an outside file, none of them under a
/// temp dir the host shares.
fn setup(mode: Mode) -> Option<Setup> {
    if landlock_status().support == LandlockSupport::Unsupported {
        pryx_testkit::skip_sandbox_assertion("sandbox_modes", &landlock_status().detail);
        return None;
    }
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ws = tempfile::tempdir_in(base).unwrap();
    let data = tempfile::tempdir_in(base).unwrap();
    let outside = tempfile::tempdir_in(base).unwrap();
    std::fs::write(data.path().join("secrets.key"), "KEY-MATERIAL-0451").unwrap();
    std::fs::write(outside.path().join("file.txt"), "outside-text-7731").unwrap();
    let workspace = std::fs::canonicalize(ws.path()).unwrap();
    let data_path = std::fs::canonicalize(data.path()).unwrap();
    let mut ctx = ToolContext::new(&workspace).unwrap();
    ctx.protected = vec![data_path.clone()];
    ctx.sandbox = Some(SandboxLauncher {
        program: env!("CARGO_BIN_EXE_pryx-sandbox-exec").into(),
        args: Vec::new(),
        assume: mode.assume(),
    });
    if matches!(mode, Mode::Namespaces)
        && !pryx_tools::namespace_status(ctx.sandbox.as_ref().unwrap()).available
    {
        pryx_testkit::skip_sandbox_assertion(
            "sandbox_modes namespaces",
            &pryx_tools::namespace_status(ctx.sandbox.as_ref().unwrap()).detail,
        );
        return None;
    }
    Some(Setup {
        workspace,
        data: data_path,
        outside: std::fs::canonicalize(outside.path()).unwrap(),
        ctx,
        _dirs: vec![ws, data, outside],
    })
}

/// A command setting an extended attribute on `file` (Python: no xattr tool is assumed).
fn set_xattr(file: &Path, name: &str) -> String {
    format!(
        "/usr/bin/python3 -c \"import os; os.setxattr('{}', '{name}', b'1')\"",
        file.display()
    )
}

/// Whether the host lets this process set a user extended attribute in `dir` (the control
/// for the setxattr assertion).
fn xattrs_work(dir: &Path) -> bool {
    let probe = dir.join("xattr-probe");
    std::fs::write(&probe, "x").unwrap();
    std::process::Command::new("sh")
        .arg("-c")
        .arg(set_xattr(&probe, "user.pryx.control"))
        .status()
        .is_ok_and(|s| s.success())
}

async fn sh(ctx: &ToolContext, command: &str) -> String {
    ShellExec
        .execute(json!({ "command": command }), ctx.clone())
        .await
        .unwrap()
        .content
}

async fn files_and_metadata(mode: Mode) {
    let Some(s) = setup(mode) else { return };
    let key = s.data.join("secrets.key");
    let file = s.outside.join("file.txt");
    let before = std::fs::metadata(&file).unwrap();
    let out = sh(
        &s.ctx,
        &format!(
            "cat '{key}'; cat '{file}'; ls '{data}'; chmod 777 '{file}'; touch -d 2001-01-01 '{file}'; {setxattr} && echo XATTR-OK; \
             echo x > '{outside}/new.txt'; echo inside > in.txt; t=$(mktemp) && echo tmp-ok > $t && cat $t; cat /etc/passwd >/dev/null && echo etc-ok",
            key = key.display(),
            file = file.display(),
            data = s.data.display(),
            outside = s.outside.display(),
            setxattr = set_xattr(&file, "user.pryx.sandboxed"),
        ),
    )
    .await;
    assert!(!out.contains("KEY-MATERIAL-0451"), "{mode:?}: {out}");
    assert!(!out.contains("outside-text-7731"), "{mode:?}: {out}");
    let after = std::fs::metadata(&file).unwrap();
    // Landlock has no rights for metadata: without namespaces, an outside file the command
    // can name keeps no protection against chmod and utime (documented).
    if matches!(mode, Mode::Namespaces) {
        assert_eq!(before.mode(), after.mode(), "{mode:?}: chmod went through");
        assert_eq!(
            before.mtime(),
            after.mtime(),
            "{mode:?}: utime went through"
        );
        if xattrs_work(&s.outside) {
            assert!(
                !out.contains("XATTR-OK"),
                "{mode:?}: setxattr went through: {out}"
            );
        } else {
            pryx_testkit::skip_sandbox_assertion(
                "setxattr outside the workspace",
                "the test's file system does not take user extended attributes",
            );
        }
    } else if xattrs_work(&s.outside) {
        // Documented as not confined: the same command does set it here.
        assert!(out.contains("XATTR-OK"), "{mode:?}: {out}");
    }
    assert!(!s.outside.join("new.txt").exists(), "{mode:?}");
    assert_eq!(
        std::fs::read_to_string(s.workspace.join("in.txt")).unwrap(),
        "inside\n"
    );
    assert!(out.contains("tmp-ok"), "{mode:?}: {out}");
    assert!(out.contains("etc-ok"), "{mode:?}: {out}");
}

/// A process the test starts beside the sandbox cannot be signalled from it, except where
/// neither a PID namespace nor Landlock's signal scoping exists (ABI < 6 without namespaces).
async fn signals(mode: Mode) {
    let Some(s) = setup(mode) else { return };
    let mut sibling = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let out = sh(&s.ctx, &format!("kill -TERM {}; echo rc=$?", sibling.id())).await;
    match mode {
        Mode::Namespaces | Mode::LandlockOnly => {
            // The signal was refused, so the sibling is alive whenever it is looked at.
            let alive = sibling.try_wait().unwrap().is_none();
            let _ = sibling.kill();
            let _ = sibling.wait();
            assert!(alive && !out.contains("rc=0"), "{mode:?}: {out}");
        }
        Mode::OldLandlock => {
            // Documented as not confined: the signal reaches the sibling, which ends of it (its
            // end is awaited, not sampled: a dying process may not be reaped yet).
            if !out.contains("rc=0") {
                let _ = sibling.kill();
            }
            let status = sibling.wait().unwrap();
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                status.signal(),
                Some(15),
                "{mode:?}: documented as not confined: {out}"
            );
        }
    }
}

/// A loopback listener opened by the test receives no connection, except under an old
/// Landlock ABI without namespaces (documented).
async fn network(mode: Mode) {
    let Some(s) = setup(mode) else { return };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = sh(
        &s.ctx,
        &format!("/bin/bash -c 'echo hi > /dev/tcp/127.0.0.1/{port}' && echo connected"),
    )
    .await;
    // The command has returned: a connection it made is already queued.
    let got = listener.accept().is_ok();
    match mode {
        Mode::Namespaces | Mode::LandlockOnly => assert!(!got, "{mode:?}: {out}"),
        Mode::OldLandlock => assert!(got, "{mode:?}: documented as not confined: {out}"),
    }
}

/// A call granted network for one port reaches a listener on that port and no other, except
/// under an old Landlock ABI without namespaces (documented: not confined).
async fn granted_network(mode: Mode) {
    let Some(mut s) = setup(mode) else { return };
    let granted = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    granted.set_nonblocking(true).unwrap();
    other.set_nonblocking(true).unwrap();
    let (p1, p2) = (
        granted.local_addr().unwrap().port(),
        other.local_addr().unwrap().port(),
    );
    s.ctx.network = pryx_tools::Network::Ports { ports: vec![p1] };
    let out = sh(
        &s.ctx,
        &format!(
            "/bin/bash -c 'echo hi > /dev/tcp/127.0.0.1/{p1}' && echo one; \
             /bin/bash -c 'echo hi > /dev/tcp/127.0.0.1/{p2}' && echo two"
        ),
    )
    .await;
    assert!(granted.accept().is_ok(), "{mode:?}: granted port: {out}");
    let reached_other = other.accept().is_ok();
    match mode {
        Mode::Namespaces | Mode::LandlockOnly => assert!(!reached_other, "{mode:?}: {out}"),
        Mode::OldLandlock => assert!(reached_other, "{mode:?}: documented as not confined: {out}"),
    }
}

/// Existing code-bearing files are read-only to a command unless the call may write them (a
/// person approved it, or the policy named them); without namespaces they are not confined
/// (documented: commands ask there).
async fn code_files(mode: Mode) {
    let Some(mut s) = setup(mode) else { return };
    std::fs::create_dir_all(s.workspace.join(".git")).unwrap();
    std::fs::write(s.workspace.join(".git/config"), "[core]\n").unwrap();
    std::fs::write(s.workspace.join("Makefile"), "all:\n").unwrap();
    let plant = "echo '\tfsmonitor = x' >> .git/config; echo 'x:' >> Makefile; echo done";
    let out = sh(&s.ctx, plant).await;
    let config = std::fs::read_to_string(s.workspace.join(".git/config")).unwrap();
    let makefile = std::fs::read_to_string(s.workspace.join("Makefile")).unwrap();
    match mode {
        Mode::Namespaces => {
            assert_eq!(config, "[core]\n", "{out}");
            assert_eq!(makefile, "all:\n", "{out}");
        }
        Mode::LandlockOnly | Mode::OldLandlock => assert!(config.contains("fsmonitor"), "{out}"),
    }
    s.ctx.code_files_writable = true;
    let out = sh(&s.ctx, "echo '\tbare = false' >> .git/config; echo done").await;
    let config = std::fs::read_to_string(s.workspace.join(".git/config")).unwrap();
    assert!(
        config.contains("bare = false"),
        "{mode:?}: an allowed write failed: {out}"
    );
}

/// `setsid` and a double fork do not keep a process alive past the call.
async fn nothing_outlives(mode: Mode) {
    let Some(s) = setup(mode) else { return };
    let marker = match mode {
        Mode::Namespaces => "3001.25",
        Mode::LandlockOnly => "3002.25",
        Mode::OldLandlock => "3003.25",
    };
    let out = sh(
        &s.ctx,
        &format!("setsid sleep {marker} & (sh -c 'sleep {marker} &' &); echo started"),
    )
    .await;
    assert!(out.contains("started"), "{out}");
    assert!(
        !pryx_testkit::live_process_with_arg(marker),
        "{mode:?}: a `sleep {marker}` was left running"
    );
}

macro_rules! per_mode {
    ($check:ident) => {
        mod $check {
            use super::*;
            #[tokio::test]
            async fn with_namespaces() {
                super::$check(Mode::Namespaces).await;
            }
            #[tokio::test]
            async fn with_landlock_only() {
                super::$check(Mode::LandlockOnly).await;
            }
            #[tokio::test]
            async fn with_landlock_abi_3_only() {
                super::$check(Mode::OldLandlock).await;
            }
        }
    };
}

per_mode!(files_and_metadata);
per_mode!(signals);
per_mode!(network);
per_mode!(granted_network);
per_mode!(code_files);
per_mode!(nothing_outlives);
