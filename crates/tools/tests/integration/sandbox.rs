#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use pryx_tools::{LandlockSupport, landlock_status};
use serde_json::json;

/// The system trees the tests' commands read.
const SYSTEM_ROOTS: [&str; 6] = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"];

/// Runs the helper with a spec for `command` in `ws`, `protected` kept out of reach.
fn helper(ws: &Path, command: &str, protected: &[&Path], no_userns: bool) -> std::process::Output {
    helper_reading(ws, command, protected, &[], no_userns)
}

/// The helper's spec for `command` in `ws`, with `extra_roots` readable besides the system trees.
fn spec(
    ws: &Path,
    command: &str,
    protected: &[&Path],
    extra_roots: &[&Path],
    no_userns: bool,
) -> serde_json::Value {
    let mut read_roots: Vec<&Path> = SYSTEM_ROOTS.iter().map(Path::new).collect();
    read_roots.extend_from_slice(extra_roots);
    json!({
        "workspace": ws,
        "cwd": ws,
        "command": command,
        "protected": protected,
        "read_roots": read_roots,
        "assume": {"no_userns": no_userns},
    })
}

/// The helper as `shell.exec` launches it, to ask whether it can create namespaces.
fn launcher() -> pryx_tools::SandboxLauncher {
    pryx_tools::SandboxLauncher {
        program: env!("CARGO_BIN_EXE_pryx-sandbox-exec").into(),
        args: Vec::new(),
        assume: pryx_tools::Assume::default(),
    }
}

/// [`helper`] with `extra_roots` readable besides the system trees.
fn helper_reading(
    ws: &Path,
    command: &str,
    protected: &[&Path],
    extra_roots: &[&Path],
    no_userns: bool,
) -> std::process::Output {
    let spec = spec(ws, command, protected, extra_roots, no_userns);
    Command::new(env!("CARGO_BIN_EXE_pryx-sandbox-exec"))
        .arg(spec.to_string())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(ws)
        .output()
        .unwrap()
}

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
    assert!(String::from_utf8_lossy(&out.stderr).contains("sandbox:"));
}

#[test]
fn helper_runs_the_command_and_passes_its_exit_code() {
    let ws = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ws = std::fs::canonicalize(ws.path()).unwrap();
    for no_userns in [false, true] {
        let out = helper(&ws, "echo hi; exit 7", &[], no_userns);
        assert_eq!(out.status.code(), Some(7), "{out:?}");
        assert_eq!(out.stdout, b"hi\n");
        // A command killed by a signal exits as a shell reports it: 128 + the signal.
        let out = helper(&ws, "kill -9 $$", &[], no_userns);
        assert_eq!(out.status.code(), Some(128 + 9), "{out:?}");
    }
}

#[test]
fn helper_blocks_writes_next_to_the_workspace_when_supported() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ws = tempfile::tempdir_in(base).unwrap();
    let ws = std::fs::canonicalize(ws.path()).unwrap();
    let sibling = tempfile::tempdir_in(base).unwrap();
    let target = sibling.path().join("x");
    if landlock_status().support == LandlockSupport::Unsupported {
        pryx_testkit::skip_sandbox_assertion(
            "helper_blocks_writes_next_to_the_workspace_when_supported",
            &landlock_status().detail,
        );
        return;
    }
    for no_userns in [false, true] {
        let out = helper(
            &ws,
            &format!("touch '{}'", target.display()),
            &[],
            no_userns,
        );
        assert!(!out.status.success());
        assert!(!target.exists());
    }
}

#[test]
fn helper_refuses_a_relative_protected_dir() {
    let spec =
        json!({"workspace": "/", "cwd": "/", "command": "true", "protected": ["relative/dir"]});
    let out = Command::new(env!("CARGO_BIN_EXE_pryx-sandbox-exec"))
        .arg(spec.to_string())
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
    if landlock_status().support == LandlockSupport::Unsupported {
        pryx_testkit::skip_sandbox_assertion(
            "helper_keeps_a_protected_dir_inside_the_workspace_out_of_reach",
            &landlock_status().detail,
        );
        return;
    }

    for no_userns in [false, true] {
        protected_dir_stays_out_of_reach(&w, &data, no_userns);
    }
}

fn protected_dir_stays_out_of_reach(w: &Path, data: &Path, no_userns: bool) {
    let run = |command: &str| helper(w, command, &[data], no_userns);
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
    assert!(out.stdout.starts_with(b"hello\n"), "{out:?}");
    assert!(w.join("notes.txt").exists());
}

/// As an unprivileged user (the test drops root with `setpriv`), both modes give the same
/// containment: the caller's own identity, writes only in the workspace, nothing of root's home.
#[test]
fn an_unprivileged_user_gets_the_same_containment() {
    if !rustix::process::getuid().is_root() || which("setpriv").is_none() {
        pryx_testkit::skip_sandbox_assertion(
            "an_unprivileged_user_gets_the_same_containment",
            "needs root to switch to an unprivileged user with setpriv",
        );
        return;
    }
    if landlock_status().support == LandlockSupport::Unsupported {
        pryx_testkit::skip_sandbox_assertion(
            "an_unprivileged_user_gets_the_same_containment",
            &landlock_status().detail,
        );
        return;
    }
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ws = tempfile::tempdir_in(base).unwrap();
    let ws = std::fs::canonicalize(ws.path()).unwrap();
    std::os::unix::fs::chown(&ws, Some(65534), Some(65534)).unwrap();
    let outside = tempfile::tempdir_in(base).unwrap();
    std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    for no_userns in [false, true] {
        let spec = json!({
            "workspace": ws,
            "cwd": ws,
            "command": format!("id -u; echo in > f && echo wrote; echo out > '{}/x'; ls /root", outside.path().display()),
            "read_roots": ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"],
            "assume": {"no_userns": no_userns},
        });
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_pryx-sandbox-exec"))
            .arg(spec.to_string())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir(&ws)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with("65534\nwrote\n"),
            "no_userns={no_userns}: {out:?}"
        );
        assert!(!outside.path().join("x").exists(), "no_userns={no_userns}");
        assert!(!out.status.success(), "`ls /root` worked: {out:?}");
    }
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The system calls that reach past the sandbox fail inside it (`unshare` and `io_uring_setup`
/// with EPERM, `clone3` with ENOSYS so the C library falls back to `clone`, whose namespace
/// flags the filter can see). Outside it the same calls fail differently or succeed.
#[test]
fn helper_refuses_system_calls_that_reach_past_the_sandbox() {
    if which("perl").is_none() {
        pryx_testkit::skip_sandbox_assertion(
            "helper_refuses_system_calls_that_reach_past_the_sandbox",
            "needs perl to make raw system calls",
        );
        return;
    }
    let ws = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ws = std::fs::canonicalize(ws.path()).unwrap();
    // unshare(0) changes nothing and succeeds; the others get null arguments.
    let calls = [
        libc::SYS_unshare,
        libc::SYS_io_uring_setup,
        libc::SYS_clone3,
    ];
    let script = format!(
        "perl -e 'for $n ({}) {{ $! = 0; syscall($n, 0, 0); print $!+0, \" \" }}'",
        calls.map(|n| n.to_string()).join(", ")
    );
    let expected = format!("{} {} {} ", libc::EPERM, libc::EPERM, libc::ENOSYS);
    let outside = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    if String::from_utf8_lossy(&outside.stdout) == expected {
        // A filter around the tests themselves (a container's) already refuses them.
        pryx_testkit::skip_sandbox_assertion(
            "helper_refuses_system_calls_that_reach_past_the_sandbox",
            "these system calls already fail outside the sandbox",
        );
        return;
    }
    for no_userns in [false, true] {
        let out = helper(&ws, &script, &[], no_userns);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "no_userns: {no_userns}"
        );
    }
}

/// A file given as a read root is readable and nothing more, even to root.
#[test]
fn a_file_granted_for_reading_cannot_be_written() {
    if landlock_status().support == LandlockSupport::Unsupported {
        pryx_testkit::skip_sandbox_assertion(
            "a_file_granted_for_reading_cannot_be_written",
            &landlock_status().detail,
        );
        return;
    }
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ws = tempfile::tempdir_in(base).unwrap();
    let ws = std::fs::canonicalize(ws.path()).unwrap();
    let outside = tempfile::tempdir_in(base).unwrap();
    let file = std::fs::canonicalize(outside.path())
        .unwrap()
        .join("tool.conf");
    std::fs::write(&file, "setting\n").unwrap();
    let command = format!("cat '{0}' && echo changed >> '{0}'", file.display());
    for no_userns in [false, true] {
        let out = helper_reading(&ws, &command, &[], &[&file], no_userns);
        assert_eq!(out.stdout, b"setting\n", "{out:?}");
        assert!(!out.status.success(), "no_userns: {no_userns}: {out:?}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "setting\n");
}

/// With user namespaces, a command shares none of this process's namespaces: its own user,
/// mount, PID, IPC, UTS and (without granted network) network namespace.
#[test]
fn helper_gives_commands_namespaces_of_their_own() {
    let launcher = launcher();
    if !pryx_tools::namespace_status(&launcher).available {
        pryx_testkit::skip_sandbox_assertion(
            "helper_gives_commands_namespaces_of_their_own",
            &pryx_tools::namespace_status(&launcher).detail,
        );
        return;
    }
    let ws = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let ws = std::fs::canonicalize(ws.path()).unwrap();
    let kinds = ["user", "mnt", "pid", "ipc", "uts", "net"];
    let script = kinds
        .map(|k| format!("readlink /proc/self/ns/{k}"))
        .join("; ");
    let out = helper(&ws, &script, &[], false);
    assert!(out.status.success(), "{out:?}");
    let inside = String::from_utf8_lossy(&out.stdout);
    let inside: Vec<&str> = inside.lines().collect();
    assert_eq!(inside.len(), kinds.len(), "{inside:?}");
    for (kind, seen) in kinds.iter().zip(inside) {
        let ours = std::fs::read_link(format!("/proc/self/ns/{kind}")).unwrap();
        assert_ne!(seen, ours.display().to_string(), "{kind}");
    }
}

/// With namespaces: the private `/tmp` is writable, and a file system mounted beneath a
/// read-only root is mounted read-only too (each mount beneath is remounted; Landlock refuses
/// the write as well), while the private `/tmp` and `/proc` forbid set-uid programs and device
/// nodes.
#[test]
fn mounts_beneath_a_read_root_are_read_only_and_scratch_mounts_are_tame() {
    if !pryx_tools::namespace_status(&launcher()).available
        || !rustix::process::getuid().is_root()
        || which("unshare").is_none()
    {
        pryx_testkit::skip_sandbox_assertion(
            "mounts_beneath_a_read_root_are_read_only_and_scratch_mounts_are_tame",
            "needs root, unshare and user namespaces to mount beneath a read root",
        );
        return;
    }
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ws = tempfile::tempdir_in(base).unwrap();
    let ws = std::fs::canonicalize(ws.path()).unwrap();
    let root = tempfile::tempdir_in(base).unwrap();
    let root = std::fs::canonicalize(root.path()).unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    let command = format!(
        "echo t > /tmp/t && cat /tmp/t; grep -E ' (/tmp|/proc|{0}/sub) ' /proc/self/mountinfo",
        root.display()
    );
    let spec = spec(&ws, &command, &[], &[&root], false);
    // A private mount namespace holds the tmpfs beneath the read root, gone with it.
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs scratch "$1/sub" && exec "$2" "$3""#)
        .args([
            "sh",
            &root.display().to_string(),
            env!("CARGO_BIN_EXE_pryx-sandbox-exec"),
        ])
        .arg(spec.to_string())
        .env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.starts_with("t\n"), "{stdout}{stderr}");
    let sub = format!(" {}/sub ", root.display());
    let sub_line = stdout.lines().find(|l| l.contains(&sub));
    let sub_options = sub_line.and_then(|l| l.split(' ').nth(5)).unwrap_or("");
    assert!(
        sub_options.split(',').any(|o| o == "ro"),
        "a mount beneath a read root is writable: {sub_line:?}"
    );
    for line in stdout
        .lines()
        .filter(|l| !l.contains(&sub) && l.contains(" - "))
    {
        let options = line.split(' ').nth(5).unwrap_or("");
        assert!(
            options.contains("nosuid") && options.contains("nodev"),
            "{line}"
        );
        if line.contains(" /proc ") {
            assert!(options.contains("noexec"), "{line}");
        }
    }
    assert_eq!(
        stdout.lines().filter(|l| l.contains(" - ")).count(),
        3,
        "{stdout}"
    );
}
