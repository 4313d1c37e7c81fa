#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use pryx_tools::shell::ShellExec;
use pryx_tools::{
    Assume, LandlockSupport, SandboxLauncher, Tool, ToolContext, ToolError, landlock_status,
};
use serde_json::json;

fn setup() -> (tempfile::TempDir, ToolContext) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path()).unwrap();
    (dir, ctx)
}

/// True once `pid` no longer runs (gone, or a zombie nobody has reaped yet).
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

/// SIGKILL takes effect asynchronously; give the kernel a bounded moment to finish the exit.
async fn wait_dead(pid: u32) -> bool {
    for _ in 0..100 {
        if is_dead(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn runs_in_the_workspace_and_reports_exit_codes() {
    let (_d, ctx) = setup();
    let out = ShellExec
        .execute(json!({"command": "pwd; echo err >&2"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, format!("{}\nerr\n", ctx.workspace.display()));
    assert!(!out.is_error);
    assert_eq!(out.metadata["exit_code"], 0);

    let out = ShellExec
        .execute(json!({"command": "echo nope; exit 3"}), ctx.clone())
        .await
        .unwrap();
    assert!(out.is_error);
    assert_eq!(out.content, "nope\n\n[exit code 3]");
    assert_eq!(out.metadata["exit_code"], 3);
}

#[tokio::test]
async fn cwd_is_confined_to_the_workspace() {
    let (_d, ctx) = setup();
    std::fs::create_dir(ctx.workspace.join("sub")).unwrap();
    let out = ShellExec
        .execute(json!({"command": "pwd", "cwd": "sub"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        out.content.trim(),
        ctx.workspace.join("sub").display().to_string()
    );
    for bad in ["..", "/", "/etc", "sub/../.."] {
        let err = ShellExec
            .execute(json!({"command": "pwd", "cwd": bad}), ctx.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::OutsideWorkspace { .. }),
            "{bad}: {err}"
        );
    }
}

#[tokio::test]
async fn environment_is_cleared_except_the_allow_list() {
    // Plant a variable in a child copy of this test binary, which runs the real check.
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .args([
            "--exact",
            "planted_env_child",
            "--include-ignored",
            "--nocapture",
        ])
        .env("PRYX_PLANTED_SECRET", "hunter2")
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
#[ignore = "runs as a child of environment_is_cleared_except_the_allow_list"]
async fn planted_env_child() {
    if std::env::var("PRYX_PLANTED_SECRET").as_deref() != Ok("hunter2") {
        println!("note: only meaningful as a child of the environment test");
        return;
    }
    let (_d, mut ctx) = setup();
    let out = ShellExec
        .execute(json!({"command": "env"}), ctx.clone())
        .await
        .unwrap();
    assert!(!out.content.contains("hunter2"), "{}", out.content);
    assert!(!out.content.contains("PRYX_PLANTED_SECRET"));
    assert!(!out.content.contains("CARGO_"), "{}", out.content);
    if std::env::var_os("PATH").is_some() {
        assert!(out.content.contains("PATH="));
    }

    ctx.allowed_env.push("PRYX_PLANTED_SECRET".into());
    let out = ShellExec
        .execute(json!({"command": "echo $PRYX_PLANTED_SECRET"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "hunter2\n");
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let (_d, ctx) = setup();
    let err = ShellExec
        .execute(
            json!({"command": "sleep 1000 & echo $!; wait", "timeout_ms": 300}),
            ctx.clone(),
        )
        .await
        .unwrap_err();
    let ToolError::Timeout { output, .. } = &err else {
        panic!("expected a timeout, got {err}");
    };
    assert!(!err.is_fatal());
    assert!(err.to_string().contains("timed out after 0.3s"), "{err}");
    let pid: u32 = output.trim().parse().expect("pid of the background sleep");
    assert!(
        wait_dead(pid).await,
        "background sleep {pid} survived the timeout"
    );
}

#[tokio::test]
async fn background_jobs_do_not_outlive_a_finished_command() {
    let (_d, ctx) = setup();
    let out = ShellExec
        .execute(
            json!({"command": "sleep 1000 >/dev/null 2>&1 & echo $!"}),
            ctx.clone(),
        )
        .await
        .unwrap();
    let pid: u32 = out.content.trim().parse().unwrap();
    assert!(wait_dead(pid).await, "background sleep {pid} survived");
}

#[tokio::test]
async fn cancel_kills_the_group_and_is_a_cancellation() {
    let (_d, ctx) = setup();
    let pidfile = ctx.workspace.join("pid");
    let task = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            ShellExec
                .execute(
                    json!({"command": "sleep 1000 & echo $! > pid.tmp && mv pid.tmp pid; wait"}),
                    ctx,
                )
                .await
        })
    };
    let pid = loop {
        if let Ok(s) = std::fs::read_to_string(&pidfile) {
            break s.trim().parse::<u32>().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!is_dead(pid));
    ctx.cancel.cancel();
    let err = task.await.unwrap().unwrap_err();
    assert!(matches!(err, ToolError::Cancelled), "{err}");
    assert!(err.is_cancelled() && !err.is_fatal());
    assert!(wait_dead(pid).await, "sleep {pid} survived cancellation");
}

#[tokio::test]
async fn output_is_capped_head_and_tail() {
    let (_d, mut ctx) = setup();
    ctx.limits.output_cap_bytes = 1_000;
    let out = ShellExec
        .execute(json!({"command": "seq 1 100000"}), ctx.clone())
        .await
        .unwrap();
    assert!(out.content.len() < 1_100, "{}", out.content.len());
    assert!(out.content.starts_with("1\n2\n3\n"));
    assert!(out.content.ends_with("99999\n100000\n"));
    assert!(out.content.contains("bytes omitted"));
    assert_eq!(out.metadata["truncated"], true);
    assert_eq!(out.metadata["output_bytes"], 588_895);
}

#[tokio::test]
async fn bad_arguments_are_recoverable() {
    let (_d, ctx) = setup();
    for args in [
        json!({"command": ""}),
        json!({"command": "true", "timeout_ms": 0}),
        json!({"cmd": "true"}),
    ] {
        let err = ShellExec
            .execute(args.clone(), ctx.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::InvalidArguments { .. }),
            "{args}: {err}"
        );
    }
}

fn sandboxed(dir: &Path) -> ToolContext {
    let mut ctx = ToolContext::new(dir).unwrap();
    ctx.sandbox = Some(SandboxLauncher {
        program: env!("CARGO_BIN_EXE_pryx-sandbox-exec").into(),
        args: Vec::new(),
        assume: Assume::default(),
    });
    ctx
}

#[tokio::test]
async fn sandbox_confines_writes_to_the_workspace() {
    // Both directories live outside the temp dirs, which the sandbox leaves writable.
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let workspace = tempfile::tempdir_in(base).unwrap();
    let outside = tempfile::tempdir_in(base).unwrap();
    let ctx = sandboxed(workspace.path());
    let target = outside.path().join("escaped.txt");
    let cmd = format!(
        "echo in > inside.txt; echo out > '{}'; echo status=$?",
        target.display()
    );
    let out = ShellExec
        .execute(json!({"command": cmd}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(workspace.path().join("inside.txt")).unwrap(),
        "in\n"
    );

    let status = landlock_status();
    if status.support == LandlockSupport::Unsupported {
        pryx_testkit::skip_sandbox_assertion(
            "sandbox_confines_writes_to_the_workspace",
            &format!("write confinement not asserted: {}", status.detail),
        );
        return;
    }
    assert!(!target.exists(), "write outside the workspace succeeded");
    assert!(!out.content.contains("status=0"), "{}", out.content);
    let launcher = ctx.sandbox.as_ref().unwrap();
    let expected = if pryx_tools::namespace_status(launcher).available {
        "namespaces"
    } else {
        status.support.as_str()
    };
    assert_eq!(out.metadata["sandbox"], expected);
}

#[tokio::test]
async fn sandboxed_commands_still_read_and_use_temp_dirs() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let workspace = tempfile::tempdir_in(base).unwrap();
    let ctx = sandboxed(workspace.path());
    let out = ShellExec
        .execute(
            json!({"command": "cat /etc/hostname >/dev/null && f=$(mktemp) && echo ok > $f && cat $f && rm $f"}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert_eq!(out.content, "ok\n", "{}", out.content);
}
