//! Tasks started by events: file changes (debounced, own writes ignored), signed webhooks (with
//! a retry after a failed run and a notification POSTed), and an unattended approval nobody
//! answers.

use super::common::{self, Env, ScriptedLlm, Serve, Turn, call};
use super::{add, json, runs, wait_for};
use axum::body::Bytes;
use pryx_channels::webhook;
use pryx_protocol::api::{NotificationList, RunReason, RunStatus};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_changes_runs_once_and_the_runs_own_writes_do_not_trigger_it() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    std::fs::create_dir(env.ws().join("logs")).unwrap();
    env.policy(
        "writer",
        "name: writer\ntools:\n  allowed:\n    - fs.write\n    - fs.read\n",
    );
    let out = env.run(&["config", "set", "defaults.policy", "writer"]);
    assert!(out.status.success(), "{:?}", common::text(&out));
    add(
        &env,
        &[
            "logs",
            "--template",
            "log-monitor",
            "--var",
            "lines=50",
            "--debounce",
            "400ms",
        ],
    );
    // The run writes its report next to the logs: a change its own pattern matches.
    llm.push_all([
        Turn::tool_calls([call(
            "c1",
            "fs.write",
            json!({"path": "logs/report.log", "content": "1 error"}),
        )]),
        Turn::text("1 error: disk full at 10:02"),
    ]);
    let _serve = Serve::start(&env, &[]);
    for i in 0..5 {
        std::fs::write(
            env.ws().join("logs/app.log"),
            format!("line {i}\nERROR disk full\n"),
        )
        .unwrap();
    }
    let done = wait_for("the run", Duration::from_secs(30), || {
        let r = runs(&env, "logs");
        (r.first().is_some_and(|r| r.status == RunStatus::Succeeded)).then_some(r)
    });
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].reason, RunReason::FileChange);
    assert_eq!(
        done[0].summary.as_deref(),
        Some("1 error: disk full at 10:02")
    );
    assert!(env.ws().join("logs/report.log").is_file());
    let prompt = llm.requests()[0].body.to_string();
    assert!(
        prompt.contains("last 50 lines"),
        "the variable was filled in"
    );
    // A change from outside after the quiet period runs it again; the run's own write never did.
    llm.push(Turn::text("no errors"));
    // Written about once a second: each write is followed by a quiet period longer than the
    // debounce, and the first may still fall in the window after the run that is its own.
    let mut polls = 0;
    let second = wait_for("a later change's run", Duration::from_secs(30), || {
        if polls % 20 == 0 {
            std::fs::write(env.ws().join("logs/app.log"), "all quiet\n").unwrap();
        }
        polls += 1;
        let r = runs(&env, "logs");
        (r.len() == 2 && r[0].status == RunStatus::Succeeded).then_some(r)
    });
    assert_eq!(second[0].summary.as_deref(), Some("no errors"));
    let shown: pryx_protocol::api::TaskView = json(&env, &["tasks", "show", "logs"]);
    assert!(
        shown.own_changes_ignored >= 1,
        "its own write was seen and ignored: {shown:#?}"
    );
    assert!(!shown.running);
    assert_eq!(
        llm.requests().len(),
        3,
        "two model calls for the first run, one for the second"
    );
}

#[test]
fn a_file_change_task_against_aimock_reads_the_log_and_reports() {
    let mock = common::Aimock::start(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aimock-tasks"),
    );
    let env = Env::new(
        &format!("http://127.0.0.1:{}/v1", mock.port),
        "openai-compatible",
        "gpt-4o-mini",
    );
    std::fs::create_dir(env.ws().join("logs")).unwrap();
    add(
        &env,
        &[
            "app-log",
            "--prompt",
            "The app log changed: read logs/app.log and report errors",
            "--on-change",
            "logs/app.log",
            "--debounce",
            "300ms",
        ],
    );
    let _serve = Serve::start(&env, &[]);
    std::fs::write(env.ws().join("logs/app.log"), "10:02 ERROR disk full\n").unwrap();
    let done = wait_for("the run", Duration::from_secs(30), || {
        let r = runs(&env, "app-log");
        r.first()
            .filter(|r| r.status != RunStatus::Running)
            .cloned()
    });
    assert_eq!(done.status, RunStatus::Succeeded, "{done:#?}");
    assert_eq!(done.reason, RunReason::FileChange);
    assert_eq!(done.summary.as_deref(), Some("1 error: the disk is full."));
    assert!(done.tokens_in > 0, "aimock's usage is recorded: {done:#?}");
    let store = env.store();
    let calls = store
        .list_tool_calls(done.session_id.as_deref().unwrap())
        .unwrap();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].result.as_deref().unwrap().contains("disk full"));
}

/// Notifications POSTed to the test: their bodies.
async fn notice_server(got: Arc<Mutex<Vec<serde_json::Value>>>) -> String {
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(move |body: Bytes| {
            let got = got.clone();
            async move {
                got.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/notify")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_runs_its_task_which_retries_and_notifies() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let got = Arc::new(Mutex::new(Vec::new()));
    let url = notice_server(got.clone()).await;
    let out = env.run(&[
        "tasks",
        "add",
        "deploys",
        "--prompt",
        "Summarise this deploy: {{body}}",
        "--webhook",
        "--retries",
        "1",
        "--backoff",
        "1s",
        "--notify-url",
        &url,
    ]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let secret = stdout
        .lines()
        .find(|l| l.len() == 64 && l.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no signing key shown: {stdout}"))
        .to_string();
    let id = json::<pryx_protocol::api::TaskView>(&env, &["tasks", "show", "deploys"]).id;
    // The first attempt fails at the model (a refusal the client does not retry itself); the
    // task's retry a second later works.
    llm.push(Turn::status(400, None, "the model refused the request"));
    llm.push(Turn::text("v2.3 went out to 3 hosts"));
    let serve = Serve::start(&env, &[]);
    let http = pryx_http::client().expect("an HTTP client");
    let hook = format!("http://127.0.0.1:{}/hooks/tasks/{id}", serve.port);
    let body = r#"{"version":"2.3","hosts":3}"#;
    let post = |secret: String, ts: i64, body: &'static str| {
        let (http, hook) = (http.clone(), hook.clone());
        async move {
            http.post(&hook)
                .header(webhook::TIMESTAMP_HEADER, ts.to_string())
                .header(
                    webhook::SIGNATURE_HEADER,
                    webhook::sign(secret.as_bytes(), ts, body.as_bytes()),
                )
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post("wrong-key-wrong-key".into(), now(), body).await, 401);
    assert_eq!(post(secret.clone(), now() - 3600, body).await, 401);
    let bare = http.post(&hook).body(body).send().await.unwrap();
    assert_eq!(bare.status().as_u16(), 401);
    let ts = now();
    assert_eq!(post(secret.clone(), ts, body).await, 202);
    assert_eq!(
        post(secret.clone(), ts, body).await,
        409,
        "a replay is refused"
    );

    let done = wait_for("the retried run", Duration::from_secs(60), || {
        let r = super::runs(&env, "deploys");
        (r.len() == 2 && r[0].status == RunStatus::Succeeded).then_some(r)
    });
    assert_eq!((done[1].status, done[1].attempt), (RunStatus::Failed, 0));
    assert_eq!((done[0].reason, done[0].attempt), (RunReason::Retry, 1));
    assert_eq!(
        done[0].run_number, done[1].run_number,
        "a retry keeps its run's number"
    );
    let asked = llm.requests().last().unwrap().body.to_string();
    assert!(
        asked.contains("untrusted") && asked.contains("2.3"),
        "{asked}"
    );
    // The failure that was retried notified nobody; the success did, and says it was delivered.
    let notices = wait_for("the notification", Duration::from_secs(15), || {
        let g = got.lock().unwrap().clone();
        (!g.is_empty()).then_some(g)
    });
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["status"], "succeeded");
    assert!(
        notices[0]["body"]
            .as_str()
            .unwrap()
            .contains("v2.3 went out")
    );
    let delivered = wait_for(
        "the delivery to be recorded",
        Duration::from_secs(10),
        || {
            let r = super::runs(&env, "deploys");
            r[0].notifications
                .iter()
                .find(|n| n.target.starts_with("webhook:") && n.state == "delivered")
                .cloned()
        },
    );
    assert!(delivered.reason.is_none());
    let inbox = inbox(&serve, &env).await;
    assert_eq!(inbox.unread, 1);
    assert!(inbox.notifications[0].title.contains("deploys"));
}

/// `GET /notifications` of the running core.
async fn inbox(serve: &Serve, env: &Env) -> NotificationList {
    let token = std::fs::read_to_string(env.home.path().join("token")).unwrap();
    pryx_http::client()
        .expect("an HTTP client")
        .get(format!(
            "http://127.0.0.1:{}/api/v1/notifications",
            serve.port
        ))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_nobody_answers_is_denied_and_the_run_says_which() {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    let out = env.run(&["config", "set", "agent.approval_timeout_secs", "1"]);
    assert!(out.status.success(), "{:?}", common::text(&out));
    add(
        &env,
        &["cleanup", "--prompt", "clean the temp files", "--manual"],
    );
    llm.push_all([
        Turn::tool_calls([call("c1", "shell.exec", json!({"command": "rm -rf tmp"}))]),
        Turn::text("I could not clean up: the command was not allowed"),
    ]);
    let _serve = Serve::start(&env, &[]);
    let started = json::<pryx_protocol::api::TaskRunView>(&env, &["tasks", "run", "cleanup"]);
    assert_eq!(started.status, RunStatus::Running);
    let done = wait_for("the run", Duration::from_secs(30), || {
        let r = runs(&env, "cleanup");
        (r[0].status != RunStatus::Running).then_some(r)
    });
    let run = &done[0];
    assert_eq!(run.denied.len(), 1, "{run:#?}");
    assert!(run.denied[0].starts_with("shell.exec"), "{:?}", run.denied);
    let note = run
        .notifications
        .iter()
        .find(|n| n.target == "dashboard")
        .expect("a notification");
    assert_eq!(note.state, "delivered");
}
