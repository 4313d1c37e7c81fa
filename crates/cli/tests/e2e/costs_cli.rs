#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx costs` on real turns: spend by day, agent, model and session, kept after a session is
//! deleted; `--since`; budgets in config show how much is used.

use crate::common;

use common::*;
use pryx_testkit::ScriptedUsage;
use serde_json::Value;

fn usage(input_tokens: u64, output_tokens: u64) -> ScriptedUsage {
    ScriptedUsage {
        input_tokens,
        output_tokens,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
    }
}

fn costs(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["costs", "--json"];
    all.extend_from_slice(args);
    let out = env.run(&all);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn costs_by_day_agent_model_and_session_outlive_deleted_sessions() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let out = env.run(&["costs"]);
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(
        stdout.contains("No model call has cost anything"),
        "{stdout}"
    );

    // gpt-4o: $2.50 per million input tokens, $10 per million output tokens.
    llm.push(Turn::text("one").with_usage(usage(100_000, 1_000)));
    assert!(env.run(&["run", "first"]).status.success());
    llm.push(Turn::text("two").with_usage(usage(200_000, 0)));
    assert!(env.run(&["run", "second"]).status.success());

    let report = costs(&env, &[]);
    assert_eq!(report["total"]["calls"], 2, "{report:#}");
    let total = report["total"]["cost_usd"].as_f64().unwrap();
    assert!((total - 0.76).abs() < 1e-9, "{total}");
    assert_eq!(report["by_agent"][0]["key"], "main");
    assert_eq!(report["by_model"][0]["key"], "mock/gpt-4o");
    assert_eq!(report["by_day"].as_array().unwrap().len(), 1);
    let sessions = report["by_session"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(
        sessions[0]["cost_usd"].as_f64() >= sessions[1]["cost_usd"].as_f64(),
        "most expensive first"
    );

    // Money spent stays spent when its session goes.
    let expensive = sessions[0]["key"].as_str().unwrap().to_string();
    let out = env.run(&["sessions", "rm", &expensive, "--yes"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let report = costs(&env, &[]);
    let total = report["total"]["cost_usd"].as_f64().unwrap();
    assert!((total - 0.76).abs() < 1e-9, "{total}");
    assert!(
        report["by_session"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["key"] == "(deleted)"),
        "{report:#}"
    );

    let later = costs(&env, &["--since", "2999-01-01"]);
    assert_eq!(later["total"]["calls"], 0);
    let recent = costs(&env, &["--since", "1d"]);
    assert_eq!(recent["total"]["calls"], 2);
    let out = env.run(&["costs", "--since", "yesterday"]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("YYYY-MM-DD"), "{}", text(&out).1);

    // A budget in config shows how much of it is used.
    let out = env.run(&["config", "set", "agent.daily_budget_usd", "2"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let report = costs(&env, &[]);
    assert_eq!(report["budgets"][0]["budget"], "per day");
    assert_eq!(report["budgets"][0]["limit_usd"], 2.0);
    let out = env.run(&["costs"]);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("Budget per day: $0.7600 of $2.00 (38 %)"),
        "{stdout}"
    );
}
