#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Planted secrets never reach the database, the events or the output: the real `pryx run`
//! with a scripted model that echoes secrets through every path (user text, tool arguments,
//! a denial, a tool result, the final answer), in plain and encoded forms.

use crate::common;

use base64::Engine as _;
use common::*;
use serde_json::json;

const PROVIDER_KEY: &str = "prov-key-7a6b5c4d3e2f1a0b";
const OTHER: &str = "other-tok-1122334455667788";

/// Every form a secret may be written in that must not survive.
fn forms(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        secret.to_owned(),
        hex::encode(secret),
        b64.encode(secret).trim_end_matches('=').to_owned(),
        b64.encode(format!("x{secret}"))[4..20].to_owned(),
        secret.replace('-', "%2D"),
    ]
}

fn assert_clean(place: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for secret in [PROVIDER_KEY, OTHER] {
        for form in forms(secret) {
            assert!(
                !text.contains(&form),
                "{form} (a form of a secret) found in {place}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_masked_in_every_table_event_and_output() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.set_secret("MOCK", PROVIDER_KEY);
    env.set_secret("OTHER", OTHER);
    let config_path = env.home.path().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    config["providers"]["mock"]["api_key"] = json!("secret:MOCK");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    env.policy(
        "dev",
        "name: dev\ntools:\n  allowed:\n    - fs.write\n    - shell.exec: {commands: [echo]}\n",
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    server.push_all([
        // A denial whose text quotes the path, and with it the secret.
        Turn::tool_calls([call("c1", "fs.read", json!({"path": format!("/srv/{OTHER}/x")}))]),
        Turn::tool_calls([call(
            "c2",
            "fs.write",
            json!({"path": "notes.txt", "content": format!("key={PROVIDER_KEY}\nb64={}\n", b64.encode(PROVIDER_KEY))}),
        )]),
        // The result carries the file back, secrets and all.
        Turn::tool_calls([call("c3", "fs.read", json!({"path": "notes.txt"}))]),
        Turn::tool_calls([call(
            "c4",
            "shell.exec",
            json!({"command": format!("echo {}", hex::encode(OTHER))}),
        )]),
        Turn::text(format!(
            "Done: the key is {PROVIDER_KEY} ({}).",
            PROVIDER_KEY.replace('-', "%2D")
        )),
    ]);
    let prompt = format!("store my token {OTHER} in notes");
    let out = env.run(&["run", "--json", "--policy", "dev", &prompt]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    // The script ran to its end: the secrets really went through every path.
    assert_eq!(server.requests().len(), 5, "{stdout}");
    assert!(
        std::fs::read_to_string(env.ws().join("notes.txt"))
            .unwrap()
            .contains(PROVIDER_KEY)
    );
    assert!(stdout.contains("***"), "{stdout}");
    assert_clean("stdout", &out.stdout);
    assert_clean("stderr", &out.stderr);

    // What the model was sent back as tool results is masked too.
    for (id, content) in tool_results(&server, 4) {
        assert_clean(&format!("tool result {id}"), content.as_bytes());
    }

    // The whole database, as bytes on disk: every table, the search index, the WAL.
    for name in ["pryx.db", "pryx.db-wal"] {
        if let Ok(bytes) = std::fs::read(env.home.path().join(name)) {
            assert_clean(name, &bytes);
        }
    }
    // And what a surface reads back through the store.
    let store = env.store();
    let session = newest_session(&store);
    assert!(session.title.contains("***"), "{}", session.title);
    let events = store.events_since(&session.id, 0, 1000).unwrap();
    assert!(events.len() > 10);
    assert_clean("events", serde_json::to_string(&events).unwrap().as_bytes());
    let search = |q: &str| {
        store
            .search_sessions(&format!("\"{q}\""), 10, 0)
            .unwrap()
            .len()
    };
    assert_eq!(search("token"), 1, "the search index works");
    assert_eq!(search(OTHER), 0, "the search index still finds the secret");
}
