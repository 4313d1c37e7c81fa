//! Load generator for `bench/gateway.sh`.
//!
//! ```text
//! gateway_load ready   PRYX_BIN                          # ms from spawn to /health/ready = 200
//! gateway_load turns   PORT TOKEN LLM_URL SESSIONS ROUNDS # POST message -> turn.completed latency
//! gateway_load fanout  PORT TOKEN LLM_URL SUBSCRIBERS     # one event to N sockets
//! ```
//! `ready` runs `PRYX_BIN serve --announce` with the caller's environment (PRYX_HOME) and stops it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ready") => ready(&args[1]),
        Some("turns") => {
            turns(
                args[1].parse().unwrap(),
                &args[2],
                &args[3],
                args[4].parse().unwrap(),
                args[5].parse().unwrap(),
            )
            .await
        }
        Some("fanout") => {
            fanout(
                args[1].parse().unwrap(),
                &args[2],
                &args[3],
                args[4].parse().unwrap(),
            )
            .await
        }
        _ => eprintln!("usage: see the doc comment of examples/gateway_load.rs"),
    }
}

fn ready(bin: &str) {
    let mut samples = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let mut child = std::process::Command::new(bin)
            .args(["serve", "--announce"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap();
        loop {
            if health_ready(port) {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        samples.push(start.elapsed());
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }
    samples.sort();
    println!(
        "ready: median {:.1} ms, min {:.1} ms, max {:.1} ms (10 starts)",
        ms(samples[5]),
        ms(samples[0]),
        ms(samples[9])
    );
}

fn health_ready(port: u16) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let req = format!(
        "GET /api/v1/health/ready HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentiles(name: &str, mut v: Vec<Duration>, errors: usize) {
    v.sort();
    if v.is_empty() {
        println!("{name}: no samples, {errors} errors");
        return;
    }
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name}: n={} p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {errors}",
        v.len(),
        ms(p(0.5)),
        ms(p(0.95)),
        ms(p(0.99)),
        ms(v[v.len() - 1])
    );
}

async fn push_turns(llm: &str, n: usize, text: &str) {
    let turns: Vec<Value> = (0..n)
        .map(|_| json!({"text": text, "chunk_chars": 64}))
        .collect();
    let r = pryx_http::client()
        .expect("an HTTP client")
        .post(format!("{llm}/_turns"))
        .json(&turns)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "cannot queue scripted turns: {}",
        r.status()
    );
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(port: u16, token: &str, subscribe: Value) -> Socket {
    let mut req = format!("ws://127.0.0.1:{port}/api/v1/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    // Like pryx-client: a small read buffer (zeroed on every read) and no Nagle delay.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(16 * 1024);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true)
        .await
        .unwrap();
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    loop {
        if let Some(Ok(Message::Text(t))) = ws.next().await
            && t.contains("\"subscribed\"")
        {
            return ws;
        }
    }
}

/// Sessions are spread over the agent profiles named in `GATEWAY_AGENTS` (comma-separated), so
/// turns run in several workspaces at once; without it every session uses `main`.
async fn new_session(http: &reqwest::Client, port: u16, token: &str) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let agents: Vec<String> = std::env::var("GATEWAY_AGENTS")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let body = if agents.is_empty() {
        json!({})
    } else {
        let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        json!({"agent": agents[i % agents.len()]})
    };
    let r = http
        .post(format!("http://127.0.0.1:{port}/api/v1/sessions"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

type Waiters = Arc<Mutex<HashMap<String, oneshot::Sender<Instant>>>>;

async fn turns(port: u16, token: &str, llm: &str, sessions: usize, rounds: usize) {
    push_turns(llm, sessions * rounds, "ok").await;
    let http = pryx_http::builder()
        .pool_max_idle_per_host(sessions)
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..sessions {
        ids.push(new_session(&http, port, token).await);
    }
    let waiters: Waiters = Arc::default();
    let mut ws = socket(
        port,
        token,
        json!({"type": "subscribe", "events": ["turn.completed"]}),
    )
    .await;
    let w = waiters.clone();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            let now = Instant::now();
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                if let Some(sid) = v["session_id"].as_str()
                    && let Some(tx) = w.lock().unwrap().remove(sid)
                {
                    let _ = tx.send(now);
                }
            }
        }
    });
    let errors = Arc::new(Mutex::new(0usize));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for sid in ids {
        let (http, token, waiters, errors, samples) = (
            http.clone(),
            token.to_string(),
            waiters.clone(),
            errors.clone(),
            samples.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for _ in 0..rounds {
                let (tx, rx) = oneshot::channel();
                waiters.lock().unwrap().insert(sid.clone(), tx);
                let t0 = Instant::now();
                let r = http
                    .post(format!(
                        "http://127.0.0.1:{port}/api/v1/sessions/{sid}/messages"
                    ))
                    .bearer_auth(&token)
                    .json(&json!({"content": "hi"}))
                    .send()
                    .await;
                if !r.is_ok_and(|r| r.status().as_u16() == 202) {
                    *errors.lock().unwrap() += 1;
                    waiters.lock().unwrap().remove(&sid);
                    continue;
                }
                match tokio::time::timeout(Duration::from_secs(30), rx).await {
                    Ok(Ok(t1)) => samples.lock().unwrap().push(t1 - t0),
                    _ => *errors.lock().unwrap() += 1,
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = start.elapsed();
    let v = std::mem::take(&mut *samples.lock().unwrap());
    let n = v.len();
    percentiles(
        &format!("turn latency at {sessions} concurrent sessions"),
        v,
        *errors.lock().unwrap(),
    );
    println!("  throughput {:.0} turns/s", n as f64 / total.as_secs_f64());
}

/// The `timestamp` field of an event's JSON text ("" when absent).
fn timestamp_of(text: &str) -> &str {
    const KEY: &str = "\"timestamp\":\"";
    text.find(KEY)
        .map(|i| &text[i + KEY.len()..])
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
}

async fn fanout(port: u16, token: &str, llm: &str, subscribers: usize) {
    let http = pryx_http::client().expect("an HTTP client");
    let sid = new_session(&http, port, token).await;
    let sub = json!({"type": "subscribe", "sessions": [sid], "events": ["session.delta"]});
    let mut sockets = Vec::new();
    for _ in 0..subscribers {
        sockets.push(socket(port, token, sub.clone()).await);
    }
    let rounds = 50;
    let samples = Arc::new(Mutex::new(Vec::new()));
    // One permit per delta read, whatever its timestamp.
    let arrived = Arc::new(tokio::sync::Semaphore::new(0));
    let mut readers = Vec::new();
    for mut ws in sockets {
        let samples = samples.clone();
        let arrived = arrived.clone();
        readers.push(tokio::spawn(async move {
            for _ in 0..rounds {
                let Some(Ok(Message::Text(t))) = ws.next().await else {
                    break;
                };
                let now = time::OffsetDateTime::now_utc();
                // A substring, not a JSON parse: 100 parses on the readers' core would be
                // measured as fan-out delay.
                let ts = timestamp_of(t.as_str());
                if let Ok(sent) =
                    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                {
                    let d = now - sent;
                    samples
                        .lock()
                        .unwrap()
                        .push(Duration::from_micros(d.whole_microseconds().max(0) as u64));
                }
                arrived.add_permits(1);
            }
        }));
    }
    // One delta per turn (the text fits one chunk), one turn at a time. The next message goes
    // out when the turn has completed (a control socket) and every reader has its delta: no
    // polling of the core while it fans out.
    let mut control = socket(
        port,
        token,
        json!({"type": "subscribe", "sessions": [sid], "events": ["turn.completed"]}),
    )
    .await;
    push_turns(llm, rounds, "x").await;
    for _ in 0..rounds {
        let r = http
            .post(format!(
                "http://127.0.0.1:{port}/api/v1/sessions/{sid}/messages"
            ))
            .bearer_auth(token)
            .json(&json!({"content": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        while !matches!(control.next().await, Some(Ok(Message::Text(t))) if t.contains("turn.completed"))
        {
        }
        arrived
            .acquire_many(subscribers as u32)
            .await
            .unwrap()
            .forget();
    }
    for r in readers {
        let _ = tokio::time::timeout(Duration::from_secs(10), r).await;
    }
    let v = std::mem::take(&mut *samples.lock().unwrap());
    percentiles(
        &format!("fan-out of one event to {subscribers} sockets (publish -> received)"),
        v,
        0,
    );
}
