#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Signed webhooks into the real `pryx serve`: what is refused (bad or missing signature,
//! stale timestamp, replay, oversize, over the rate limit) runs nothing; a good request runs a
//! turn whose answer comes back to a caller that waits and to a signed callback.

use crate::common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::{Env, ScriptedLlm, Serve, Turn};
use pryx_channels::webhook::{self, Style};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Callbacks received: headers and body; answers 500 to the first `fail_first` of them.
#[derive(Default)]
struct Received {
    calls: Mutex<Vec<(HeaderMap, Bytes)>>,
    fail_first: Mutex<u32>,
    arrived: Notify,
}

async fn callback_server(received: Arc<Received>) -> String {
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let r = received.clone();
            async move {
                r.calls.lock().unwrap().push((headers, body));
                r.arrived.notify_waiters();
                let mut fail = r.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/cb")
}

fn add_webhook(env: &Env, extra: &[&str]) -> String {
    let out = env.run(&[&["channels", "add", "hook", "--kind", "webhook"][..], extra].concat());
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
        .lines()
        .find(|l| l.len() == 64 && l.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no secret shown: {stdout}"))
        .to_string()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Hook {
    http: reqwest::Client,
    url: String,
    secret: String,
}

impl Hook {
    async fn post(
        &self,
        body: &str,
        ts: i64,
        secret: &str,
        query: &str,
    ) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}{query}", self.url))
            .header(webhook::TIMESTAMP_HEADER, ts.to_string())
            .header(
                webhook::SIGNATURE_HEADER,
                webhook::sign(secret.as_bytes(), ts, body.as_bytes()),
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_run_nothing_and_a_good_one_answers_and_calls_back_signed() {
    let llm = ScriptedLlm::start().await;
    llm.push(Turn::text("deploy looks fine"));
    let env = Env::scripted(&llm);
    let received = Arc::new(Received::default());
    *received.fail_first.lock().unwrap() = 1;
    let cb = callback_server(received.clone()).await;
    let secret = add_webhook(&env, &["--callback-url", &cb, "--rate-limit", "3"]);
    let out = env.run(&["config", "set", "channels.hook.max_body_bytes", "2000"]);
    assert!(out.status.success(), "{:?}", common::text(&out));
    let serve = Serve::start(&env, &[]);
    let hook = Hook {
        http: pryx_http::client().expect("an HTTP client"),
        url: format!("http://127.0.0.1:{}/hooks/hook", serve.port),
        secret,
    };
    let body = r#"{"event":"deploy","id":1}"#;

    // Wrong key, stale timestamp, oversize, no signature at all.
    assert_eq!(
        hook.post(body, now(), "not-the-secret-at-all", "").await.0,
        401
    );
    assert_eq!(hook.post(body, now() - 3600, &hook.secret, "").await.0, 401);
    assert_eq!(
        hook.post(&"x".repeat(3000), now(), &hook.secret, "")
            .await
            .0,
        413
    );
    let bare = hook.http.post(&hook.url).body(body).send().await.unwrap();
    assert_eq!(bare.status().as_u16(), 401);
    assert!(llm.requests().is_empty(), "nothing ran");

    // A good one, waited for.
    let ts = now();
    let (status, answer) = hook.post(body, ts, &hook.secret, "?wait=30s").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "completed");
    assert_eq!(answer["answer"], "deploy looks fine");
    let asked = llm.requests()[0].body.to_string();
    assert!(
        asked.contains("untrusted") && asked.contains("deploy"),
        "the body reached the model as untrusted text"
    );

    // The same request again is a replay, refused even though its signature holds.
    assert_eq!(hook.post(body, ts, &hook.secret, "").await.0, 409);
    assert_eq!(llm.requests().len(), 1);

    // The channel's rate limit (3 a minute, every signed request counted, the replay too): one
    // more passes, the next is refused — and not remembered, so it can be delivered again later.
    let (s, _) = hook.post(r#"{"n":1}"#, now(), &hook.secret, "").await;
    assert_eq!(s, 202);
    let late = now();
    assert_eq!(hook.post(r#"{"n":9}"#, late, &hook.secret, "").await.0, 429);

    // The callback: the first attempt got a 500, the retry was delivered, both signed.
    loop {
        let arrived = received.arrived.notified();
        let calls = received.calls.lock().unwrap().clone();
        if calls
            .iter()
            .filter(|(_, b)| String::from_utf8_lossy(b).contains("deploy looks fine"))
            .count()
            >= 2
        {
            break;
        }
        tokio::time::timeout(std::time::Duration::from_secs(30), arrived)
            .await
            .expect("the callback was retried");
    }
    let calls = received.calls.lock().unwrap().clone();
    for (headers, body) in calls
        .iter()
        .filter(|(_, b)| String::from_utf8_lossy(b).contains("deploy"))
    {
        let lookup = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        webhook::verify(
            Style::Pryx,
            hook.secret.as_bytes(),
            lookup,
            body,
            now(),
            300,
        )
        .expect("the callback is signed with the channel's secret");
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["answer"], "deploy looks fine");
    }
    let out = env.run(&["channels", "show", "hook", "--json"]);
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(view["outbox"]["sent"].as_u64().unwrap() >= 1, "{view}");
    assert!(
        view["last_filtered"]
            .as_str()
            .unwrap()
            .contains("rate limit"),
        "{view}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_signatures_are_accepted_as_a_preset() {
    let llm = ScriptedLlm::start().await;
    llm.push(Turn::text("noted the push"));
    let env = Env::scripted(&llm);
    let secret = add_webhook(&env, &["--signature", "github"]);
    let serve = Serve::start(&env, &[]);
    let http = pryx_http::client().expect("an HTTP client");
    let url = format!("http://127.0.0.1:{}/hooks/hook?wait=30", serve.port);
    let body = br#"{"ref":"refs/heads/main"}"#;
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2_011::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let send = |delivery: &str| {
        http.post(&url)
            .header("x-hub-signature-256", sig.clone())
            .header("x-github-delivery", delivery.to_string())
            .body(body.to_vec())
            .send()
    };
    let r = send("d-1").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["answer"], "noted the push");
    // GitHub signs no timestamp: its delivery id is what refuses a replay.
    assert_eq!(send("d-1").await.unwrap().status().as_u16(), 409);

    // A turn that fails answers with its trace, which `pryx trace` finds.
    llm.push(Turn::status(400, None, "the provider refused"));
    let r = send("d-2").await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], "failed", "{v}");
    let trace = v["trace_id"]
        .as_str()
        .expect("a failed turn names its trace");
    let out = env.run(&["trace", &trace[trace.len() - 8..]]);
    let (shown, err) = common::text(&out);
    assert!(out.status.success(), "{err}");
    assert!(shown.contains("error"), "{shown}");
}
