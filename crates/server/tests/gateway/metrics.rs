#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `GET /metrics`: behind the token, in the Prometheus text format, counting what the store
//! holds (turns, model calls with tokens and latency, tool calls) and nothing anyone wrote.

use crate::common;

use common::*;
use serde_json::json;

const PLANTED: &str = "planted-secret-words-in-the-prompt";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_turns_calls_and_tools_behind_the_token() {
    let rig = Rig::start().await;
    let sid = rig.new_session().await;
    rig.llm.push_all([
        Turn::tool_calls([call("c1", "fs.list", json!({"path": "."}))]),
        Turn::text(format!("done, {PLANTED}")),
    ]);
    rig.send(&sid, &format!("list the files {PLANTED}")).await;
    rig.wait_completed_n(&sid, 1).await;

    let url = format!("http://127.0.0.1:{}/metrics", rig.port);
    let anonymous = rig.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = rig.http.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    let resp = rig.http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = resp.text().await.unwrap();
    for line in [
        "pryx_sessions 1",
        "pryx_turns_total{status=\"ok\"} 1",
        "pryx_turns_running 0",
        "pryx_tool_calls_total{tool=\"fs.list\",status=\"completed\"} 1",
        "# TYPE pryx_model_call_duration_seconds histogram",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    let calls = text
        .lines()
        .find(|l| l.starts_with("pryx_model_calls_total{") && l.contains("status=\"ok\""))
        .unwrap_or_else(|| panic!("no model calls in:\n{text}"));
    assert!(calls.ends_with(" 2"), "{calls}");
    assert!(
        text.lines().any(
            |l| l.starts_with("pryx_model_call_duration_seconds_bucket{")
                && l.contains("le=\"+Inf\"} 2")
        ),
        "{text}"
    );
    assert!(!text.contains(PLANTED), "content leaked:\n{text}");
}
