#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The shell sandbox, driven through the real `pryx run` with a scripted model and a policy
//! that allows one command that runs code (`awk` calling `system`). The script
//! tries what an attacker would: the data dir and its key, metadata of outside files, a
//! sibling process, a loopback listener, a process that outlives the call, `.git/config` — as
//! root and as an unprivileged user. Then the code-running table under an allow-list of bare
//! command names, and a command granted network by the policy.

use crate::common;

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

/// The user the unprivileged runs switch to.
const NOBODY: u32 = 65534;

async fn prepare(unprivileged: bool) -> Attack {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.set_secret("PROBE", "probe-secret-value-99");
    assert!(env.home.path().join("secrets.key").exists());
    env.policy("contained", POLICY);
    git_init(env.ws());
    let git_config = std::fs::read_to_string(env.ws().join(".git/config")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("file"), "x").unwrap();
    std::fs::set_permissions(
        outside.path().join("file"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let sibling = as_user(unprivileged, "sleep").arg("600").spawn().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let home = env.home.path().display().to_string();
    let script = format!(
        "cat '{home}/secrets.key' && echo LEAK-KEY\n\
         cat '{home}/secrets.enc' >/dev/null && echo LEAK-ENC\n\
         cat '{home}/config.json' >/dev/null && echo LEAK-CONFIG\n\
         chmod 777 '{outside}/file' && echo CHMOD-OK\n\
         touch -d 2001-01-01 '{outside}/file' && echo UTIME-OK\n\
         /usr/bin/python3 -c \"import os; os.setxattr('{outside}/file', 'user.pryx', b'1')\" && echo XATTR-OK\n\
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
    if unprivileged {
        for dir in [env.home.path(), env.ws(), outside.path()] {
            chown_tree(dir, NOBODY);
        }
    }
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
    reaches_nothing_outside(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_holds_for_an_unprivileged_user() {
    if !rustix::process::getuid().is_root() || !has("setpriv") {
        pryx_testkit::skip_sandbox_assertion(
            "shell containment as an unprivileged user",
            "needs root to switch to an unprivileged user with setpriv",
        );
        return;
    }
    reaches_nothing_outside(true).await;
}

async fn reaches_nothing_outside(unprivileged: bool) {
    let mut a = prepare(unprivileged).await;
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
    let out = pryx(&a.env, unprivileged)
        .args(["run", "--policy", "contained", "probe"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
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
        "UTIME-OK",
        "XATTR-OK",
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
    let mtime = std::fs::metadata(a.outside.path().join("file"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(
        mtime > std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_100_000_000)
    );
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
    let mut a = prepare(false).await;
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

/// `pryx` as root, or as [`NOBODY`] through `setpriv` with the same environment.
fn pryx(env: &Env, unprivileged: bool) -> std::process::Command {
    let mut c = as_user(unprivileged, env!("CARGO_BIN_EXE_pryx"));
    c.env("PRYX_HOME", env.home.path())
        .env("HOME", env.home.path())
        .env("PRYX_SECRET_BACKEND", "file")
        .env_remove("OPENAI_API_KEY")
        .current_dir(env.ws());
    c
}

fn as_user(unprivileged: bool, program: &str) -> std::process::Command {
    if !unprivileged {
        return std::process::Command::new(program);
    }
    let mut c = std::process::Command::new("setpriv");
    let id = NOBODY.to_string();
    c.args([
        format!("--reuid={id}"),
        format!("--regid={id}"),
        "--clear-groups".to_string(),
    ])
    .arg(program);
    c
}

/// A git repository in `dir`, so its `.git/config` and hooks are there to protect.
fn git_init(dir: &std::path::Path) {
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(git.success());
}

fn chown_tree(dir: &std::path::Path, uid: u32) {
    let status = std::process::Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

fn has(program: &str) -> bool {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join(program).is_file())
}

/// The code-running table's examples, under an allow-list that names each command but none of
/// their capabilities: every one asks (and with no one to ask, does not run), while the same
/// commands used plainly run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_running_commands_ask_under_an_allow_list_of_their_names() {
    const NAMES: &str = "[awk, sed, sort, git, find, xargs, env, python3, tar, make, nice, timeout, vim, less, ls, echo, cat]";
    let examples = [
        "awk 'BEGIN { system(\"touch RAN\") }'",
        "awk '{ print > \"RAN\" }' f.txt",
        "sed '1e touch RAN' f.txt",
        "sed -n 'w RAN' f.txt",
        "sort -o .git/config f.txt",
        "git -c core.pager='touch RAN' log",
        "find . -name f.txt -exec touch RAN \\;",
        "echo RAN | xargs touch",
        "tar -xf a.tar --to-command='touch RAN'",
        "env touch RAN",
        "nice python3 -c 'open(\"RAN\", \"w\")'",
        "timeout 5 awk 'BEGIN { system(\"touch RAN\") }'",
        "python3 -c 'open(\"RAN\", \"w\")'",
        "make",
        "vim -es -c '!touch RAN' -c q f.txt",
        "less '+!touch RAN' f.txt",
        "trap 'touch RAN' EXIT; ls",
    ];
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.policy(
        "names",
        &format!("name: names\ntools:\n  allowed:\n    - shell.exec: {{commands: {NAMES}}}\n"),
    );
    git_init(env.ws());
    std::fs::write(env.ws().join("f.txt"), "b\na\n").unwrap();
    std::fs::write(env.ws().join("Makefile"), "all:\n\ttouch RAN\n").unwrap();
    let mut calls: Vec<_> = examples
        .iter()
        .enumerate()
        .map(|(i, c)| call(&format!("x{i}"), "shell.exec", json!({ "command": c })))
        .collect();
    calls.push(call(
        "plain",
        "shell.exec",
        json!({"command": "sort f.txt && awk 'END { print NR }' f.txt && git status --short"}),
    ));
    server.push_all([Turn::tool_calls(calls), Turn::text("done")]);
    let out = env.run(&["run", "--policy", "names", "try them"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let results = tool_results(&server, 1);
    assert_eq!(results.len(), examples.len() + 1);
    for ((id, content), example) in results.iter().zip(examples) {
        assert!(
            content.contains("needs approval") || content.contains("denied by policy"),
            "{example} ({id}) was not stopped: {content}"
        );
    }
    let plain = &results[examples.len()].1;
    assert!(plain.contains("a\nb\n2"), "plain uses run: {plain}");
    assert!(!env.ws().join("RAN").exists(), "an example ran");
}

/// A command the policy grants network (`curl:fetch`) reaches the local address the policy
/// lists, and only after asking any other; the cloud metadata address is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_granted_network_reaches_only_what_the_policy_lists() {
    let launcher = pryx_tools::SandboxLauncher {
        program: env!("CARGO_BIN_EXE_pryx").into(),
        args: vec!["__sandbox-exec".into()],
        assume: pryx_tools::Assume::default(),
    };
    let ns = pryx_tools::namespace_status(&launcher);
    if !ns.available || !has("curl") {
        pryx_testkit::skip_sandbox_assertion("shell network grants", &ns.detail);
        return;
    }
    let listed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listed.local_addr().unwrap().port();
    let unlisted = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    unlisted.set_nonblocking(true).unwrap();
    let other = unlisted.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        if let Ok((mut conn, _)) = listed.accept() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.0 200 OK\r\ncontent-length: 15\r\n\r\nlisted-answered");
        }
    });
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.policy(
        "net",
        &format!(
            "name: net\ntools:\n  allowed:\n    - shell.exec: {{commands: [\"curl:fetch\"]}}\nnetwork:\n  domains: [\"127.0.0.1:{port}\"]\n"
        ),
    );
    server.push_all([
        Turn::tool_calls([
            call(
                "a",
                "shell.exec",
                json!({"command": format!("curl -s -m 20 http://127.0.0.1:{port}/")}),
            ),
            call(
                "b",
                "shell.exec",
                json!({"command": format!("curl -s -m 20 http://127.0.0.1:{other}/")}),
            ),
            call(
                "c",
                "shell.exec",
                json!({"command": "curl -s -m 20 http://169.254.169.254/latest/"}),
            ),
        ]),
        Turn::text("done"),
    ]);
    let out = env.run(&["run", "--policy", "net", "fetch"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let results = tool_results(&server, 1);
    assert!(results[0].1.contains("listed-answered"), "{}", results[0].1);
    assert!(results[1].1.contains("needs approval"), "{}", results[1].1);
    assert!(
        results[2].1.contains("denied by policy"),
        "{}",
        results[2].1
    );
    assert!(unlisted.accept().is_err(), "the unlisted port was reached");
}

/// A write to a code-bearing file that the allowing rule names passes the policy and the
/// sandbox; the same write under a rule that does not name it asks and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_bearing_file_named_by_the_policy_can_be_written() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.policy(
        "named",
        "name: named\ntools:\n  allowed:\n    - shell.exec: {commands: [sort], paths: [.git/config, '*.txt']}\n",
    );
    env.policy(
        "unnamed",
        "name: unnamed\ntools:\n  allowed:\n    - shell.exec: {commands: [sort]}\n",
    );
    git_init(env.ws());
    std::fs::write(env.ws().join("f.txt"), "[core]\n\tbare = false\n").unwrap();
    let command = json!({"command": "sort -o .git/config f.txt"});
    server.push_all([
        Turn::tool_calls([call("a", "shell.exec", command.clone())]),
        Turn::text("done"),
        Turn::tool_calls([call("b", "shell.exec", command)]),
        Turn::text("done"),
    ]);
    let before = std::fs::read_to_string(env.ws().join(".git/config")).unwrap();
    let out = env.run(&["run", "--policy", "unnamed", "sort it"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let asked = &tool_results(&server, 1)[0].1;
    assert!(asked.contains("needs approval"), "{asked}");
    assert_eq!(
        std::fs::read_to_string(env.ws().join(".git/config")).unwrap(),
        before
    );
    let out = env.run(&["run", "--policy", "named", "sort it"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let ran = &tool_results(&server, 3);
    assert!(!ran.last().unwrap().1.contains("needs approval"), "{ran:?}");
    assert_eq!(
        std::fs::read_to_string(env.ws().join(".git/config")).unwrap(),
        "\tbare = false\n[core]\n"
    );
}
