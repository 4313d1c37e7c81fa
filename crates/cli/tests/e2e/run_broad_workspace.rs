#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Running Pryx from the home directory (which holds the data dir): refused until confirmed;
//! once confirmed, tools reach the home but never the data dir; doctor warns either way.

use crate::common;

use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Home {
    _tmp: tempfile::TempDir,
    home: PathBuf,
}

impl Home {
    fn new(server: &ScriptedLlm) -> Home {
        let tmp = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(tmp.path()).unwrap().join("me");
        let data = home.join(".pryx");
        std::fs::create_dir_all(&data).unwrap();
        let config = json!({
            "providers": {"mock": {"kind": "openai-compatible", "base_url": server.base_url(), "catalog_id": "openai"}},
            "defaults": {"model": "mock/gpt-4o"}
        });
        std::fs::write(data.join("config.json"), config.to_string()).unwrap();
        std::fs::write(home.join("notes.txt"), "my notes\n").unwrap();
        Home { _tmp: tmp, home }
    }

    fn data(&self) -> PathBuf {
        self.home.join(".pryx")
    }

    fn pryx(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pryx"))
            .env("HOME", &self.home)
            .env("PRYX_HOME", self.data())
            .env("PRYX_SECRET_BACKEND", "file")
            .env_remove("OPENAI_API_KEY")
            .current_dir(&self.home)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }
}

fn config(data: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(data.join("config.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_directory_is_refused_until_confirmed_and_the_data_dir_stays_out_of_reach() {
    let server = ScriptedLlm::start().await;
    let h = Home::new(&server);

    let out = h.pryx(&["run", "--local", "hello"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains("your home directory"), "{stderr}");
    assert!(stderr.contains("--allow-broad-workspace"), "{stderr}");
    assert!(server.requests().is_empty(), "the model was called");

    let doctor = h.pryx(&["doctor", "--json"]);
    let checks: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let ws = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "workspace")
        .unwrap();
    assert_eq!(ws["status"], "warn", "{ws}");
    assert!(ws["message"].as_str().unwrap().contains("refused"), "{ws}");

    // Confirmed: saved in config, warned about, and the data dir is still out of reach.
    std::fs::write(h.data().join("planted.txt"), "data-dir-content\n").unwrap();
    server.push_all([
        Turn::tool_calls([call("c1", "fs.read", json!({"path": ".pryx/planted.txt"}))]),
        Turn::tool_calls([call("c2", "fs.list", json!({"path": "."}))]),
        Turn::tool_calls([call("c3", "fs.read", json!({"path": "notes.txt"}))]),
        Turn::text("done"),
    ]);
    let out = h.pryx(&["run", "--local", "--allow-broad-workspace", "look around"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("confirmed"), "{stderr}");
    assert!(stderr.contains("is your home directory"), "{stderr}");
    let saved = config(&h.data());
    assert_eq!(
        saved["agent"]["broad_workspaces"],
        json!([h.home.display().to_string()])
    );
    let results = tool_results(&server, 3);
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(!results[0].1.contains("data-dir-content"), "{results:?}");
    assert!(
        !results[1].1.contains(".pryx"),
        "the listing shows the data dir: {results:?}"
    );
    assert!(results[2].1.contains("my notes"), "{results:?}");

    // Later runs need no flag, and still warn.
    server.push_all([Turn::text("hi again")]);
    let out = h.pryx(&["run", "--local", "again"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("⚠ workspace"), "{stderr}");
}
