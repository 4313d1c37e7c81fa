#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx approvals list|revoke` round trips, on the database when no core runs and through the
//! running core's API when one does: a grant is listed with what it lets run, where and under
//! which policy; revoking it removes it, is audited as done by `user:cli`, and an unknown id is
//! an error that says how to find the right one.

use crate::common;

use common::*;
use serde_json::{Value, json};

fn add_grant(env: &Env, command: &str) -> String {
    env.store()
        .add_grant(&pryx_store::NewGrant {
            tool_name: "shell.exec".into(),
            fingerprint: pryx_agent::approvals::fingerprint(
                "shell.exec",
                None,
                &json!({ "command": command }),
            ),
            scope: pryx_store::GrantScope::Always,
            session_id: None,
            workspace: env.ws().display().to_string(),
            policy: "workspace-only".into(),
            policy_hash: "0123456789abcdef0123".into(),
            arguments: json!({ "command": command }),
            expires_at: None,
        })
        .unwrap()
        .id
}

fn json_out(env: &Env, args: &[&str]) -> Value {
    let out = env.run(args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{args:?}: {stdout}\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Lists, shows, revokes and lists again; returns the audit actor of the revoke.
fn round_trip(env: &Env) {
    let id = add_grant(env, "make deploy");
    let list = json_out(env, &["approvals", "list", "--json"]);
    let grants = list["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{list}");
    assert_eq!(grants[0]["id"], id.as_str());
    assert_eq!(grants[0]["arguments"], json!({"command": "make deploy"}));
    assert_eq!(grants[0]["workspace"], env.ws().display().to_string());
    assert_eq!(grants[0]["scope"], "always");

    let out = env.run(&["approvals", "list"]);
    let (human, _) = text(&out);
    assert!(
        human.contains(&format!("{id}  shell.exec  always  until revoked")),
        "{human}"
    );
    assert!(human.contains("    $ make deploy\n"), "{human}");
    assert!(
        human.contains("· policy workspace-only (0123456789ab…)"),
        "{human}"
    );
    assert!(human.contains("not used yet"), "{human}");

    let revoked = json_out(env, &["approvals", "revoke", &id, "--json"]);
    assert_eq!(revoked["revoked"]["id"], id.as_str());
    assert_eq!(
        revoked["revoked"]["arguments"],
        json!({"command": "make deploy"})
    );
    assert_eq!(
        json_out(env, &["approvals", "list", "--json"]),
        json!({"grants": []})
    );

    let again = env.run(&["approvals", "revoke", &id]);
    let (_, stderr) = text(&again);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("no standing grant with id {id}"))
            && stderr.contains("pryx approvals list"),
        "{stderr}"
    );

    let audit = env.store().list_audit(None, 100).unwrap();
    let rows: Vec<_> = audit
        .iter()
        .filter(|a| a.entry.action == "grant.revoked")
        .collect();
    assert_eq!(rows.len(), 1, "{audit:?}");
    assert_eq!(rows[0].entry.actor, "user:cli");
    assert_eq!(rows[0].entry.resource_id.as_deref(), Some(id.as_str()));
    assert_eq!(rows[0].entry.details["arguments"]["command"], "make deploy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_revoke_on_the_database_without_a_core() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let out = env.run(&["approvals", "list"]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("no standing grants"), "{stdout}");
    round_trip(&env);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_revoke_through_the_running_core() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let _core = Serve::start(&env, &[]);
    round_trip(&env);
}
