#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx doctor`'s core lines against a real `pryx serve`: core up and down, the API token's
//! permissions, and a core exposed beyond loopback.

use crate::common;

use common::*;
use serde_json::Value;

use std::os::unix::fs::PermissionsExt;

fn doctor(env: &Env) -> (Vec<Value>, bool) {
    let out = env.run(&["doctor", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (v.as_array().unwrap().clone(), out.status.success())
}

fn check<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_up_and_down_and_token_permissions() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let (checks, _) = doctor(&env);
    let core = check(&checks, "core");
    assert_eq!(core["status"], "ok");
    assert!(
        core["message"].as_str().unwrap().starts_with("not running"),
        "{core}"
    );
    assert_eq!(check(&checks, "api_token")["status"], "ok");
    assert_eq!(check(&checks, "exposure")["message"], "no core running");

    let mut serve = Serve::start(&env, &[]);
    let (checks, _) = doctor(&env);
    let core = check(&checks, "core");
    assert_eq!(core["status"], "ok", "{core}");
    let message = core["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("pid {}", serve.child.id())),
        "{message}"
    );
    assert!(
        message.contains(&format!("port {}", serve.port)),
        "{message}"
    );
    assert!(
        message.contains(&format!("version {}", env!("CARGO_PKG_VERSION"))),
        "{message}"
    );
    let token = check(&checks, "api_token");
    assert_eq!(token["status"], "ok", "{token}");
    assert!(
        token["message"].as_str().unwrap().ends_with("(mode 0600)"),
        "{token}"
    );
    let exposure = check(&checks, "exposure");
    assert_eq!(exposure["status"], "ok", "{exposure}");
    assert!(
        exposure["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1 only")
    );

    // A token readable by others fails, with the chmod that fixes it.
    let path = env.home.path().join("token");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(&["doctor"]);
    assert!(!out.status.success(), "a loose token fails doctor");
    let (stdout, _) = text(&out);
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("api_token"))
        .unwrap();
    assert!(line.starts_with('✗'), "{line}");
    assert!(line.contains("mode 0644"), "{line}");
    assert!(
        line.contains(&format!("(fix: chmod 600 {}", path.display())),
        "{line}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

    serve.stop();
    let (checks, _) = doctor(&env);
    let core = check(&checks, "core");
    assert!(
        core["message"].as_str().unwrap().starts_with("not running"),
        "{core}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_core_bound_beyond_loopback_is_a_warning_and_a_dead_one_is_stale() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let mut serve = Serve::start(&env, &["--bind", "0.0.0.0", "--allow-remote"]);
    let (checks, ok) = doctor(&env);
    assert_eq!(
        check(&checks, "core")["status"],
        "ok",
        "reached on loopback"
    );
    let exposure = check(&checks, "exposure");
    assert_eq!(exposure["status"], "warn", "{exposure}");
    assert!(
        exposure["message"]
            .as_str()
            .unwrap()
            .contains(&format!("0.0.0.0:{}", serve.port)),
        "{exposure}"
    );
    let _ = ok;

    // Killed without cleaning up: metadata.json stays behind and names a dead process.
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &serve.child.id().to_string()])
        .status();
    let _ = serve.child.wait();
    assert!(env.home.path().join("metadata.json").is_file());
    let (checks, _) = doctor(&env);
    let core = check(&checks, "core");
    assert_eq!(core["status"], "warn", "{core}");
    assert!(
        core["message"].as_str().unwrap().contains("not running"),
        "{core}"
    );
    assert_eq!(check(&checks, "exposure")["message"], "no core running");
}
