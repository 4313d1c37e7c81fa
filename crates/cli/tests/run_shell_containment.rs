#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The shell sandbox, driven through the real `pryx run` with a scripted model and a policy
//! that allows one command that runs code (`awk` calling `system`). The script
//! tries what an attacker would: the data dir and its key, metadata of outside files, a
//! sibling process, a loopback listener, a process that outlives the call, `.git/config`.

mod common;

use std::os::unix::fs::PermissionsExt as _;

use common::*;
use serde_json::json;

/// `awk` with the capability to run commands, named as the policy syntax asks.
const POLICY: &str = "name: contained\ntools:\n  allowed:\n    - fs.write\n    - shell.exec: {commands: [awk, \"awk:exec\"]}\n";
const COMMAND: &str = "awk 'BEGIN { system(\"bash probe.sh\") }'";
const SLEEP_MARK: &str = "3111.5";

struct Attack {
    env: Env,
    server: ScriptedLlm,
    outside: tempfile::TempDir,
    sibling: std::process::Child,
    listener: std::net::TcpListener,
    git_config: String,
}

async fn prepare() -> Attack {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.set_secret("PROBE", "probe-secret-value-99");
    assert!(env.home.path().join("secrets.key").exists());
    env.policy("contained", POLICY);
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(env.ws())
        .status()
        .unwrap();
    assert!(git.success());
    let git_config = std::fs::read_to_string(env.ws().join(".git/config")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("file"), "x").unwrap();
    std::fs::set_permissions(
        outside.path().join("file"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let sibling = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let home = env.home.path().display().to_string();
    let script = format!(
        "cat '{home}/secrets.key' && echo LEAK-KEY\n\
         cat '{home}/secrets.enc' >/dev/null && echo LEAK-ENC\n\
         cat '{home}/config.json' >/dev/null && echo LEAK-CONFIG\n\
         chmod 777 '{outside}/file' && echo CHMOD-OK\n\
         kill -TERM {pid} && echo KILL-OK\n\
         (echo hi > /dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo NET-OK\n\
         setsid sleep {SLEEP_MARK} &\n\
         echo '[core] fsmonitor = x' >> .git/config && echo GITCONFIG-OK\n\
         echo probe-done\n",
        outside = outside.path().display(),
        pid = sibling.id(),
        port = listener.local_addr().unwrap().port(),
    );
    server.push_all([
        Turn::tool_calls([call(
            "c1",
            "fs.write",
            json!({"path": "probe.sh", "content": script}),
        )]),
        Turn::tool_calls([call("c2", "shell.exec", json!({"command": COMMAND}))]),
        Turn::text("done"),
    ]);
    Attack {
        env,
        server,
        outside,
        sibling,
        listener,
        git_config,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_code_running_command_reaches_nothing_outside_its_sandbox() {
    let mut a = prepare().await;
    let launcher = pryx_tools::SandboxLauncher {
        program: env!("CARGO_BIN_EXE_pryx").into(),
        args: vec!["__sandbox-exec".into()],
        assume: pryx_tools::Assume::default(),
    };
    let ns = pryx_tools::namespace_status(&launcher);
    if !ns.available {
        pryx_testkit::skip_sandbox_assertion("shell containment with namespaces", &ns.detail);
        return;
    }
    let out = a.env.run(&["run", "--policy", "contained", "probe"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let results = tool_results(&a.server, 2);
    let shell = &results[1].1;
    assert!(shell.contains("probe-done"), "the script ran: {shell}");
    for marker in [
        "LEAK-KEY",
        "LEAK-ENC",
        "LEAK-CONFIG",
        "CHMOD-OK",
        "KILL-OK",
        "NET-OK",
        "GITCONFIG-OK",
    ] {
        assert!(!shell.contains(marker), "{marker}: {shell}");
    }
    let mode = std::fs::metadata(a.outside.path().join("file"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    assert!(a.sibling.try_wait().unwrap().is_none(), "sibling signalled");
    assert!(a.listener.accept().is_err(), "loopback reached");
    assert!(
        !pryx_testkit::live_process_with_arg(SLEEP_MARK),
        "setsid sleep outlived the call"
    );
    assert_eq!(
        std::fs::read_to_string(a.env.ws().join(".git/config")).unwrap(),
        a.git_config
    );
    let _ = a.sibling.kill();
    let _ = a.sibling.wait();
}

/// Without user namespaces the shell cannot be fully contained: every command asks, and with
/// no one to ask (no terminal) it does not run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_namespaces_an_allowed_command_asks_instead() {
    let mut a = prepare().await;
    let out = a
        .env
        .cmd()
        .env("PRYX_SANDBOX_ASSUME", "no-userns")
        .args(["run", "--policy", "contained", "probe"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let results = tool_results(&a.server, 2);
    let shell = &results[1].1;
    assert!(!shell.contains("probe-done"), "ran without asking: {shell}");
    assert!(
        shell.contains("shell commands always ask on this machine"),
        "{shell}"
    );
    let _ = a.sibling.kill();
    let _ = a.sibling.wait();
}
