#![allow(clippy::unwrap_used, clippy::expect_used)]
//! server-everything over stdio through the manager: tools, calls, roots, elicitation,
//! sampling, progress, cancellation, a killed server, shutdown and the cleared environment.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::{Env, alive, everything_stdio};
use pryx_mcp::{
    ClientCallbacks, ElicitationAnswer, ElicitationRequest, Progress, SamplingRequest,
    SamplingResponse,
};
use pryx_tools::{Tool, ToolError};
use serde_json::{Map, json};

#[derive(Default)]
struct Recorder {
    approve: bool,
    progress: Mutex<Vec<Progress>>,
    /// Signalled after every progress notification; see [`Recorder::wait_for_progress`].
    progressed: tokio::sync::Notify,
    elicited: Mutex<Vec<ElicitationRequest>>,
    sampled: Mutex<Vec<SamplingRequest>>,
}

#[async_trait]
impl ClientCallbacks for Recorder {
    async fn elicit(&self, request: ElicitationRequest) -> ElicitationAnswer {
        self.elicited.lock().unwrap().push(request);
        let mut answer = Map::new();
        answer.insert("name".into(), json!("Ada"));
        ElicitationAnswer::Accept(answer)
    }
    async fn approve_sampling(&self, _request: &SamplingRequest) -> bool {
        self.approve
    }
    async fn sample(&self, request: SamplingRequest) -> Result<SamplingResponse, String> {
        self.sampled.lock().unwrap().push(request);
        Ok(SamplingResponse {
            text: "sampled-answer-42".into(),
            model: "test-model".into(),
            stop_reason: Some("endTurn".into()),
        })
    }
    fn progress(&self, progress: Progress) {
        self.progress.lock().unwrap().push(progress);
        self.progressed.notify_one();
    }
}

impl Recorder {
    /// Waits until the progress notifications received so far satisfy `done`; panics naming
    /// `what` if that takes more than 20 s.
    async fn wait_for_progress(&self, what: &str, done: impl Fn(&[Progress]) -> bool) {
        let wait = async {
            loop {
                if done(&self.progress.lock().unwrap()) {
                    return;
                }
                // `notify_one` stores a permit when no one waits yet, so a notification that
                // lands between the check and this await is not lost.
                self.progressed.notified().await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .is_err()
        {
            panic!(
                "timed out after 20 s waiting for {what}; progress so far: {:?}",
                self.progress.lock().unwrap()
            );
        }
    }

    /// Waits for the first progress notification of a call of `tool`: the call is running.
    async fn wait_for_first_progress_of(&self, tool: &str) {
        self.wait_for_progress(&format!("the first progress notification of {tool}"), |p| {
            p.iter().any(|p| p.tool.as_deref() == Some(tool))
        })
        .await;
    }
}

fn find(tools: &[Arc<dyn Tool>], name: &str) -> Arc<dyn Tool> {
    tools
        .iter()
        .find(|t| t.name() == name)
        .cloned()
        .unwrap_or_else(|| panic!("no tool {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_calls_and_client_features() {
    let env = Env::new();
    let mut cfg = everything_stdio();
    cfg.env
        .insert("PRYX_MCP_TEST_VAR".into(), "configured-value".into());
    env.write(&[("every", cfg)]);
    let rec = Arc::new(Recorder {
        approve: true,
        ..Recorder::default()
    });
    let mgr = env.manager(Some(rec.clone()));
    let tools = mgr.tools().await;
    assert!(tools.len() >= 10, "{}", tools.len());
    assert!(tools.iter().all(|t| t.name().starts_with("every.")));
    let typed = mgr.mcp_tools().await;
    let hints = |name: &str| typed.iter().find(|t| t.name() == name).unwrap().hints();
    assert_eq!(hints("every.echo"), (true, false));
    assert!(!hints("every.toggle-simulated-logging").0);
    let echo = find(&tools, "every.echo");
    // The server is not marked trusted: its readOnlyHint is shown but decides nothing.
    assert!(!echo.read_only_hint());
    assert_eq!(echo.kind(), pryx_protocol::ToolKind::Exec);
    assert!(echo.schema()["properties"]["message"].is_object());

    let out = echo
        .execute(json!({"message": "hello pryx"}), env.ctx())
        .await
        .unwrap();
    assert!(out.content.contains("hello pryx"), "{}", out.content);
    assert!(!out.is_error);

    // The environment is the allow-list plus the configured variables.
    let out = find(&tools, "every.get-env")
        .execute(json!({}), env.ctx())
        .await
        .unwrap();
    assert!(out.content.contains("configured-value"), "{}", out.content);
    assert!(
        !out.content.contains("CARGO_MANIFEST_DIR"),
        "{}",
        out.content
    );

    // Roots: the workspace.
    let out = find(&tools, "every.get-roots-list")
        .execute(json!({}), env.ctx())
        .await
        .unwrap();
    let ws_uri = url::Url::from_file_path(&env.workspace)
        .unwrap()
        .to_string();
    assert!(out.content.contains(&ws_uri), "{}", out.content);

    // Elicitation goes to the callback; the answer reaches the server.
    let out = find(&tools, "every.trigger-elicitation-request")
        .execute(json!({}), env.ctx())
        .await
        .unwrap();
    assert_eq!(rec.elicited.lock().unwrap().len(), 1);
    assert!(out.content.contains("Ada"), "{}", out.content);

    // Sampling runs after approval.
    let out = find(&tools, "every.trigger-sampling-request")
        .execute(json!({"prompt": "say hi"}), env.ctx())
        .await
        .unwrap();
    assert!(out.content.contains("sampled-answer-42"), "{}", out.content);
    let sampled = rec.sampled.lock().unwrap().clone();
    assert_eq!(sampled.len(), 1);
    assert!(sampled[0].messages[0].text.contains("say hi"));

    // Progress notifications of our call reach the callback, labelled with the tool.
    let out = find(&tools, "every.trigger-long-running-operation")
        .execute(json!({"duration": 1, "steps": 3}), env.ctx())
        .await
        .unwrap();
    assert!(!out.is_error, "{}", out.content);
    // Notifications are handled on their own tasks and may land after the result.
    rec.wait_for_progress("two progress notifications", |p| p.len() >= 2)
        .await;
    let progress = rec.progress.lock().unwrap().clone();
    assert!(progress.len() >= 2, "{progress:?}");
    assert_eq!(
        progress[0].tool.as_deref(),
        Some("every.trigger-long-running-operation")
    );

    mgr.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_without_approval_is_refused() {
    let env = Env::new();
    env.write(&[("every", everything_stdio())]);
    let rec = Arc::new(Recorder::default());
    let mgr = env.manager(Some(rec.clone()));
    let tools = mgr.tools().await;
    let res = find(&tools, "every.trigger-sampling-request")
        .execute(json!({"prompt": "x"}), env.ctx())
        .await;
    // Either the server reports the refusal as a tool error or the call fails; never a sample.
    if let Ok(out) = &res {
        assert!(
            out.is_error || out.content.contains("declined"),
            "{}",
            out.content
        );
    }
    assert!(rec.sampled.lock().unwrap().is_empty());
    mgr.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_reaches_the_call_and_the_session_survives() {
    let env = Env::new();
    env.write(&[("every", everything_stdio())]);
    let rec = Arc::new(Recorder::default());
    let mgr = env.manager(Some(rec.clone()));
    let tools = mgr.tools().await;
    let long = find(&tools, "every.trigger-long-running-operation");
    let ctx = env.ctx();
    let cancel = ctx.cancel.clone();
    let call = tokio::spawn(async move {
        long.execute(json!({"duration": 30, "steps": 30}), ctx)
            .await
    });
    // Cancel only once the server is working on the call.
    rec.wait_for_first_progress_of("every.trigger-long-running-operation")
        .await;
    cancel.cancel();
    let res = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(res, Err(ToolError::Cancelled)), "{res:?}");
    let out = find(&tools, "every.echo")
        .execute(json!({"message": "still here"}), env.ctx())
        .await
        .unwrap();
    assert!(out.content.contains("still here"));
    mgr.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_fails_the_call_then_restarts() {
    let env = Env::new();
    env.write(&[("every", everything_stdio())]);
    let rec = Arc::new(Recorder::default());
    let mgr = env.manager(Some(rec.clone()));
    let tools = mgr.tools().await;
    let conn = mgr.server("every").unwrap();
    let pid = conn.pid().await.unwrap();
    assert!(alive(pid));

    let long = find(&tools, "every.trigger-long-running-operation");
    let ctx = env.ctx();
    let call = tokio::spawn(async move {
        long.execute(json!({"duration": 30, "steps": 30}), ctx)
            .await
    });
    // Kill the server only once it is working on the call.
    rec.wait_for_first_progress_of("every.trigger-long-running-operation")
        .await;
    let raw = rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
    rustix::process::kill_process(raw, rustix::process::Signal::KILL).unwrap();

    let res = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .unwrap()
        .unwrap();
    let err = res.unwrap_err();
    assert!(!err.is_fatal());
    assert!(err.to_string().contains("stopped during the call"), "{err}");

    let out = find(&tools, "every.echo")
        .execute(json!({"message": "after restart"}), env.ctx())
        .await
        .unwrap();
    assert!(out.content.contains("after restart"));
    let new_pid = conn.pid().await.unwrap();
    assert_ne!(new_pid, pid);

    mgr.shutdown().await;
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        !alive(new_pid)
    });
    assert!(gone, "server {new_pid} still running after shutdown");
    assert!(conn.pid().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stderr_goes_to_the_log_and_bad_servers_do_not_break_others() {
    let env = Env::new();
    let broken = pryx_mcp::ServerConfig::stdio(vec![
        common::node(),
        "-e".into(),
        "console.error('broken-server-says-bye'); process.exit(3)".into(),
    ]);
    env.write(&[("every", everything_stdio()), ("broken", broken)]);
    let mgr = env.manager(None);
    let tools = mgr.tools().await;
    assert!(tools.iter().any(|t| t.name() == "every.echo"));
    assert!(tools.iter().all(|t| !t.name().starts_with("broken.")));
    let failures = mgr.last_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].1.contains("broken-server-says-bye"),
        "{failures:?}"
    );
    let status = mgr.status();
    let b = status.iter().find(|s| s.name == "broken").unwrap();
    assert_eq!(b.status, "failed");
    // The first retry is immediate; after that a failing server is not restarted on every
    // request but reports its last error until the backoff has passed.
    let second = mgr.server_tools("broken").await.unwrap_err().to_string();
    assert!(second.contains("broken-server-says-bye"), "{second}");
    let third = mgr.server_tools("broken").await.unwrap_err().to_string();
    assert!(third.contains("failed 2 times in a row"), "{third}");
    let log = std::fs::read_to_string(env.dir.logs_dir().join("mcp-broken.log")).unwrap();
    assert!(log.contains("broken-server-says-bye"));
    mgr.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_list_changes_are_picked_up() {
    let env = Env::new();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/list-changed-server.mjs");
    let sdk = common::testdeps().join("@modelcontextprotocol/sdk");
    let cfg = pryx_mcp::ServerConfig::stdio(vec![
        common::node(),
        script.to_string_lossy().into_owned(),
        sdk.to_string_lossy().into_owned(),
    ]);
    env.write(&[("lc", cfg)]);
    let mgr = env.manager(None);
    let changed = Arc::new(tokio::sync::Notify::new());
    let n = changed.clone();
    mgr.on_tools_changed(move |change| {
        assert_eq!(change.server, "lc");
        n.notify_one();
    });
    let tools = mgr.tools().await;
    let names: Vec<_> = tools.iter().map(|t| t.name().to_owned()).collect();
    assert_eq!(names, ["lc.unlock"]);
    find(&tools, "lc.unlock")
        .execute(json!({}), env.ctx())
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), changed.notified())
        .await
        .expect("no list_changed notification");
    let tools = mgr.tools().await;
    let out = find(&tools, "lc.secret")
        .execute(json!({}), env.ctx())
        .await
        .unwrap();
    assert_eq!(out.content, "secret tool ran");
    mgr.shutdown().await;
}
