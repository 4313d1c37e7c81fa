//! Bad input gets a clear error saying where it is wrong, and changes nothing.

use super::common::{self, Env, ScriptedLlm};
use super::json;
use pryx_protocol::api::TaskList;

fn refused(env: &Env, args: &[&str], says: &str) {
    let out = env.run(&[&["tasks", "add"][..], args].concat());
    let (stdout, stderr) = common::text(&out);
    assert!(!out.status.success(), "accepted {args:?}: {stdout}");
    assert!(
        stderr.contains(says),
        "{args:?}: expected {says:?} in: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_triggers_and_prompts_are_refused_with_where_and_nothing_is_stored() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    std::fs::create_dir(env.ws().join("logs")).unwrap();
    refused(
        &env,
        &["t", "--prompt", "x", "--cron", "0 25 * * *"],
        "field 2 (hour) `25`",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--cron", "0 * * *"],
        "it has 4 fields",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--cron", "0 0 30 2 *"],
        "no date ever matches",
    );
    refused(
        &env,
        &[
            "t",
            "--prompt",
            "x",
            "--cron",
            "@daily",
            "--tz",
            "Mars/Olympus",
        ],
        "unknown time zone `Mars/Olympus`",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--at", "2020-01-01T09:00"],
        "is in the past",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--at", "tomorrow"],
        "invalid time `tomorrow`",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--every", "0s"],
        "an interval of zero",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--every", "4x"],
        "unknown unit `x`",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--on-change", "../*.log"],
        "would leave the workspace",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--on-change", "/etc/*"],
        "relative to the agent's workspace",
    );
    refused(
        &env,
        &["t", "--prompt", "x", "--on-change", "nowhere/*.log"],
        "does not exist",
    );
    refused(
        &env,
        &["t", "--prompt", "hello {{who}}", "--every", "1h"],
        "template variable `who` is not set",
    );
    refused(
        &env,
        &["t", "--template", "web-watch"],
        "template variable `url` is not set",
    );
    refused(&env, &["t", "--prompt", "x"], "say when it runs");
    refused(
        &env,
        &["t", "--prompt", "x", "--every", "1h", "--agent", "ghost"],
        "agent ghost",
    );
    refused(
        &env,
        &[
            "t",
            "--prompt",
            "x",
            "--every",
            "1h",
            "--notify-telegram",
            "tg:123",
        ],
        "no channel tg",
    );
    refused(
        &env,
        &["bad/name", "--prompt", "x", "--every", "1h"],
        "is not usable",
    );
    let list: TaskList = json(&env, &["tasks", "list"]);
    assert!(list.tasks.is_empty(), "{list:?}");
    // A good one, then its name again.
    super::add(&env, &["t", "--prompt", "x", "--every", "1h"]);
    refused(
        &env,
        &["t", "--prompt", "y", "--every", "2h"],
        "already exists",
    );
    let list: TaskList = json(&env, &["tasks", "list"]);
    assert_eq!(list.tasks.len(), 1);
    assert_eq!(list.tasks[0].spec.prompt, "x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_of_the_data_dir_is_refused() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    // The workspace holds the data dir (Pryx run from the home directory).
    let home = env.home.path().to_path_buf();
    let data = home.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::rename(home.join("config.json"), data.join("config.json")).unwrap();
    let out = env
        .cmd()
        .env("PRYX_HOME", &data)
        .current_dir(&home)
        .args([
            "tasks",
            "add",
            "w",
            "--prompt",
            "x",
            "--on-change",
            "data/*",
            "--agent",
            "main",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    // Either refused for the data dir, or for the workspace not holding it: never stored.
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("data dir") || stderr.contains("does not exist"),
        "{stderr}"
    );
}
